package dev.microrunner.cli.demo;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * How to start this very program again in a child process: the running JVM's {@code java} and
 * either the shaded jar (when run with {@code java -jar}) or this JVM's class path (tests, IDEs).
 */
public final class SelfLaunch {

  /**
   * The JVM options the {@code microrunner} launcher gives an orchestrator by default: serial GC,
   * C1 only and a heap that starts small. An orchestrator mostly waits; with these it holds 50
   * loops in under 100 MB (docs/benchmarks.md). LauncherScriptIT checks that the launcher uses
   * these.
   */
  public static final List<String> LAUNCHER_JVM_FLAGS =
      List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xms8m", "-Xmn4m");

  /** Flags for short-lived helper JVMs (agent, simulated runner): fast start-up, small heap. */
  public static final List<String> SMALL_JVM_FLAGS =
      List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  private SelfLaunch() {}

  /** The java binary of this JVM. */
  public static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The jar or class path this program runs from. */
  public static String classPath() {
    try {
      Path location =
          Path.of(SelfLaunch.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isRegularFile(location)) {
        return location.toAbsolutePath().toString();
      }
    } catch (URISyntaxException | RuntimeException e) {
      // Fall through to the class path of this JVM.
    }
    return System.getProperty("java.class.path");
  }

  /** {@code java [jvmFlags] -cp CLASSPATH dev.microrunner.cli.Main arguments...}. */
  public static List<String> command(List<String> jvmFlags, List<String> arguments) {
    List<String> command = new ArrayList<>();
    command.add(java());
    command.addAll(jvmFlags);
    command.add("-cp");
    command.add(classPath());
    command.add("dev.microrunner.cli.Main");
    command.addAll(arguments);
    return command;
  }

  /** Writes an executable {@code /bin/sh} script (0755, atomically) that runs {@code body}. */
  public static Path writeScript(Path file, String body) throws IOException {
    Path temp =
        Files.createTempFile(
            file.getParent(),
            file.getFileName().toString(),
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.writeString(temp, "#!/bin/sh\n" + body + "\n");
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return file;
  }

  /** A script that runs {@code microrunner SUBCOMMAND "$@"} in a small JVM. */
  public static Path writeLauncher(Path file, String subcommand) throws IOException {
    List<String> words = command(SMALL_JVM_FLAGS, List.of(subcommand));
    StringBuilder body = new StringBuilder("exec");
    words.forEach(word -> body.append(' ').append(shellQuote(word)));
    return writeScript(file, body.append(" \"$@\"").toString());
  }

  /** POSIX single quotes: everything literal, a quote written as '\''. */
  public static String shellQuote(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }
}
