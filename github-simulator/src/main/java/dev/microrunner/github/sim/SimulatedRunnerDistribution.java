package dev.microrunner.github.sim;

import dev.microrunner.github.sim.internal.AtomicFiles;
import dev.microrunner.github.sim.internal.RunnerVersions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Writes a simulated actions/runner distribution: {@code config.sh}, {@code run.sh} and {@code
 * bin/Runner.Listener}, shell scripts laid out like the real release tarball that run {@link
 * SimulatedRunner} through a main class that calls {@link SimulatedRunner#execute}.
 *
 * <p>The java binary and class path are chosen at run time: {@code MICRORUNNER_JAVA} and {@code
 * MICRORUNNER_JAR} (a jar or a class path) override the defaults given here, so the same
 * distribution works on the host and in a container that mounts a JRE and the jar elsewhere.
 *
 * <p>As with the real runner, {@code config.sh} refuses to run as root unless {@code
 * RUNNER_ALLOW_RUNASROOT=1}.
 */
public final class SimulatedRunnerDistribution {

  public static final String JAVA_ENV = "MICRORUNNER_JAVA";

  /** The version a new distribution's listener announces. */
  public static final String DEFAULT_VERSION = SimRunnerRelease.LATEST_VERSION;

  /**
   * Upstream's run.sh (actions/runner v2.336.0, {@code src/Misc/layoutroot/run.sh}), in bash as
   * upstream's (dash has no job control without a terminal, which the manual trap needs):
   * run-helper.sh again while it exits 2; else exit 0, or 7 for a refused version when {@code
   * ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE=1}. Without {@code RUNNER_MANUALLY_TRAP_SIG}
   * a signal to run.sh reaches nobody else; with it, run.sh sends SIGINT to the helper's process
   * group and exits with the status its wait returned.
   */
  private static final String RUN_SH =
      """
      #!/bin/bash
      # Simulated actions/runner run.sh (microrunner GitHub simulator), after upstream's.
      dir=$(cd "$(dirname "$0")" && pwd) || exit 1

      run() {
        while :; do
          cp -f "$dir/run-helper.sh.template" "$dir/run-helper.sh"
          "$dir/run-helper.sh" "$@"
          status=$?
          if [ "$status" -eq 2 ]; then
            echo "Restarting runner..."
          elif [ "$ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE" = 1 ] && [ "$status" -eq 7 ]; then
            echo "Exiting runner..."
            exit "$status"
          else
            echo "Exiting runner..."
            exit 0
          fi
        done
      }

      run_with_manual_trap() {
        set -m
        trap 'kill -INT -$pid' INT TERM
        while :; do
          cp -f "$dir/run-helper.sh.template" "$dir/run-helper.sh"
          "$dir/run-helper.sh" "$@" &
          pid=$!
          wait "$pid"
          status=$?
          if [ "$status" -eq 2 ]; then
            echo "Restarting runner..."
          elif [ "$ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE" = 1 ] && [ "$status" -eq 7 ]; then
            echo "Exiting runner..."
            exit "$status"
          else
            echo "Exiting runner..."
            trap - INT TERM
            wait "$pid"
            exit "$status"
          fi
        done
      }

      if [ -z "$RUNNER_MANUALLY_TRAP_SIG" ]; then
        run "$@"
      else
        run_with_manual_trap "$@"
      fi
      """;

  /**
   * Upstream's run-helper.sh.template, in bash: the root check, the listener, and its exit statuses
   * mapped as upstream maps them (0, 1, 5 and unknown to 0; 2 to 2 after 5 s; 3 and 4 to 2 once
   * {@code update.finished} appears, at most 30 s later; 7 kept with {@code
   * ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE=1}).
   */
  private static final String RUN_HELPER_SH =
      """
      #!/bin/bash
      # Simulated actions/runner run-helper.sh (microrunner GitHub simulator), after upstream's.
      if [ "$(id -u)" -eq 0 ] && [ -z "$RUNNER_ALLOW_RUNASROOT" ]; then
        echo "Must not run interactively with sudo"
        exit 1
      fi
      dir=$(cd "$(dirname "$0")" && pwd) || exit 1
      update_file=update.finished
      "$dir/bin/Runner.Listener" run "$@"
      status=$?
      wait_for_update() {
        echo "Runner listener exit because of updating, re-launch runner after successful update"
        i=0
        while [ "$i" -le 30 ]; do
          if [ -f "$dir/$update_file" ]; then
            echo "Update finished successfully."
            rm "$dir/$update_file"
            break
          fi
          sleep 1
          i=$((i + 1))
        done
        exit 2
      }
      case "$status" in
        0)
          echo "Runner listener exit with 0 return code, stop the service, no retry needed."
          exit 0 ;;
        1)
          echo "Runner listener exit with terminated error, stop the service, no retry needed."
          exit 0 ;;
        2)
          echo "Runner listener exit with retryable error, re-launch runner in 5 seconds."
          sleep 5
          exit 2 ;;
        3|4)
          wait_for_update ;;
        5)
          echo "Runner listener exit with Session Conflict error, stop the service, no retry needed."
          exit 0 ;;
        7)
          if [ "$ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE" = 1 ]; then
            echo "Runner listener exit with deprecated version exit code: 7."
            exit 7
          fi
          echo "Exiting with unknown error code: 7"
          exit 0 ;;
        *)
          echo "Exiting with unknown error code: $status"
          exit 0 ;;
      esac
      """;

  public static final String CLASSPATH_ENV = "MICRORUNNER_JAR";

  private SimulatedRunnerDistribution() {}

  /** Uses this JVM's {@code java} binary as the default. */
  public static void write(Path dir, Path microrunnerJar, String mainClass) throws IOException {
    write(
        dir,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        microrunnerJar.toAbsolutePath().toString(),
        mainClass);
  }

  /**
   * Writes the scripts into {@code dir} (created if missing).
   *
   * @param defaultJava java binary used when {@code MICRORUNNER_JAVA} is not set
   * @param defaultClasspath class path used when {@code MICRORUNNER_JAR} is not set
   * @param mainClass the class whose {@code main} hands its arguments to {@link
   *     SimulatedRunner#execute} and exits with its status
   */
  public static void write(Path dir, String defaultJava, String defaultClasspath, String mainClass)
      throws IOException {
    Objects.requireNonNull(defaultJava, "defaultJava");
    Objects.requireNonNull(defaultClasspath, "defaultClasspath");
    if (!mainClass.matches("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*")) {
      throw new IllegalArgumentException("not a Java class name: " + mainClass);
    }
    Files.createDirectories(dir.resolve("bin"));
    writeScript(
        dir.resolve("bin/Runner.Listener"),
        String.join(
            "\n",
            "#!/bin/sh",
            "# Simulated actions/runner listener (microrunner GitHub simulator).",
            "# " + JAVA_ENV + " and " + CLASSPATH_ENV + " override the java binary and class path.",
            "root=$(cd \"$(dirname \"$0\")/..\" && pwd) || exit 1",
            "java=${" + JAVA_ENV + ":-" + shellQuote(defaultJava) + "}",
            "classpath=${" + CLASSPATH_ENV + ":-" + shellQuote(defaultClasspath) + "}",
            "export " + SimulatedRunner.ROOT_ENV + "=\"$root\"",
            "exec \"$java\" -cp \"$classpath\" " + mainClass + " \"$@\"",
            ""));
    writeScript(
        dir.resolve("config.sh"),
        """
        #!/bin/sh
        # Simulated actions/runner config.sh: configure, or remove with 'config.sh remove'.
        if [ "$(id -u)" -eq 0 ] && [ -z "$RUNNER_ALLOW_RUNASROOT" ]; then
          echo 'Must not run with sudo' >&2
          exit 1
        fi
        root=$(cd "$(dirname "$0")" && pwd) || exit 1
        exec "$root/bin/Runner.Listener" configure "$@"
        """);
    writeScript(dir.resolve("run.sh"), RUN_SH);
    writeScript(dir.resolve("run-helper.sh.template"), RUN_HELPER_SH);
  }

  /**
   * Installs another actions/runner version in the distribution at {@code dir}, as an update would:
   * its listener announces {@code version} from then on.
   */
  public static void setVersion(Path dir, String version) throws IOException {
    RunnerVersions.parse(version);
    AtomicFiles.write(
        dir.resolve(RunnerVersions.INSTALLED_VERSION_FILE), version + "\n", "rw-r--r--");
  }

  private static void writeScript(Path file, String content) throws IOException {
    AtomicFiles.write(file, content, "rwxr-xr-x");
  }

  /** POSIX single quotes: everything literal, a quote written as '\''. */
  private static String shellQuote(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }
}
