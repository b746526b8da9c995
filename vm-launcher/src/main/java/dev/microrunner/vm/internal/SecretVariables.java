package dev.microrunner.vm.internal;

import java.util.Set;

/**
 * Environment variables that carry credentials in the runner's world. Neither a VM nor a runtime
 * tool may be given them: secrets travel only in the {@code /_environment} {@code .env} file.
 */
public final class SecretVariables {
  private static final Set<String> NAMES =
      Set.of(
          "GITHUB_TOKEN",
          "GH_TOKEN",
          "RUNNER_PAT",
          "RUNNER_SECRET",
          "RUNNER_TOKEN",
          "RUNNER_JITCONFIG",
          "ACTIONS_RUNNER_INPUT_TOKEN",
          "ACTIONS_RUNNER_INPUT_JITCONFIG",
          "ACTIONS_RUNNER_INPUT_PAT");

  private SecretVariables() {}

  public static boolean isSecret(String variable) {
    return NAMES.contains(variable);
  }
}
