package dev.microrunner.vm;

import dev.microrunner.vm.internal.GitHubTokenMask;
import dev.microrunner.vm.internal.SecretVariables;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * How a runtime is set up.
 *
 * @param stateDirectory where krunvm and process runtimes keep their ownership records
 * @param environment added to the allow-listed part of this process's environment for runtime tools
 *     (e.g. {@code CONTAINERS_CONF}, a {@code PATH} that finds a test's fakes); never secrets
 * @param redactor applied to every command line and output tail that ends up in an exception or log
 *     line; the default masks GitHub token shapes
 */
public record RuntimeOptions(
    VmOwner owner,
    Path stateDirectory,
    CommandRunner commandRunner,
    Map<String, String> environment,
    UnaryOperator<String> redactor) {

  public RuntimeOptions {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(stateDirectory, "stateDirectory");
    Objects.requireNonNull(commandRunner, "commandRunner");
    environment = Map.copyOf(environment);
    for (String variable : environment.keySet()) {
      if (SecretVariables.isSecret(variable)) {
        throw new IllegalArgumentException(
            "runtime environment variable "
                + variable
                + " carries a secret; runtime tools and process-runtime workloads must not see"
                + " it (secrets travel in the /_environment .env file)");
      }
    }
    Objects.requireNonNull(redactor, "redactor");
  }

  /** Options for {@code owner}; state under {@code stateDirectory}. */
  public static Builder builder(VmOwner owner, Path stateDirectory) {
    return new Builder(owner, stateDirectory);
  }

  public static final class Builder {
    private final VmOwner owner;
    private final Path stateDirectory;
    private CommandRunner commandRunner = CommandRunner.commonsExec();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private UnaryOperator<String> redactor = GitHubTokenMask::mask;

    private Builder(VmOwner owner, Path stateDirectory) {
      this.owner = owner;
      this.stateDirectory = stateDirectory;
    }

    public Builder commandRunner(CommandRunner commandRunner) {
      this.commandRunner = commandRunner;
      return this;
    }

    public Builder environment(String variable, String value) {
      environment.put(variable, value);
      return this;
    }

    public Builder environment(Map<String, String> values) {
      environment.putAll(values);
      return this;
    }

    /** Runs after the default token masking, e.g. to mask this loop's secret. */
    public Builder redactor(UnaryOperator<String> extra) {
      UnaryOperator<String> base = GitHubTokenMask::mask;
      this.redactor = text -> extra.apply(base.apply(text));
      return this;
    }

    public RuntimeOptions build() {
      return new RuntimeOptions(owner, stateDirectory, commandRunner, environment, redactor);
    }
  }
}
