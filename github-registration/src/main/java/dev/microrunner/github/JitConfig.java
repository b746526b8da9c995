package dev.microrunner.github;

import java.util.Objects;

/**
 * A just-in-time runner configuration: the registered runner and the encoded configuration to hand
 * to {@code run.sh} (as {@code ACTIONS_RUNNER_INPUT_JITCONFIG}). The encoded configuration holds
 * the runner's credential: treat it as a secret.
 */
public record JitConfig(Runner runner, Secret encodedJitConfig) {
  public JitConfig {
    Objects.requireNonNull(runner, "runner");
    Objects.requireNonNull(encodedJitConfig, "encodedJitConfig");
  }
}
