package dev.microrunner.github.sim;

import dev.microrunner.github.sim.internal.AtomicFiles;
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
    writeScript(
        dir.resolve("run.sh"),
        """
        #!/bin/sh
        # Simulated actions/runner run.sh: 'run.sh [--jitconfig X]' or ACTIONS_RUNNER_INPUT_JITCONFIG.
        root=$(cd "$(dirname "$0")" && pwd) || exit 1
        exec "$root/bin/Runner.Listener" run "$@"
        """);
  }

  private static void writeScript(Path file, String content) throws IOException {
    AtomicFiles.write(file, content, "rwxr-xr-x");
  }

  /** POSIX single quotes: everything literal, a quote written as '\''. */
  private static String shellQuote(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }
}
