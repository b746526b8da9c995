package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.cli.demo.SelfLaunch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./microrunner} script's build-if-stale logic, on a copy of the script in a repository
 * laid out like this one, with {@code MICRORUNNER_MVN} pointing at a stand-in Maven that records
 * its arguments and puts the real built jar in place. (CleanCloneDemoIT runs the real Maven.)
 */
class LauncherScriptIT {

  private static final List<String> MODULES =
      List.of(
          "handshake-core",
          "vm-launcher",
          "github-registration",
          "github-simulator",
          "image-build",
          "cli");

  @TempDir Path repository;
  @TempDir Path elsewhere;
  private Path jar;
  private Path mvnCalls;
  private Path fakeMaven;

  @BeforeEach
  void layOut() throws Exception {
    Files.copy(BuiltJar.repositoryRoot().resolve("microrunner"), repository.resolve("microrunner"));
    Files.writeString(repository.resolve("pom.xml"), "<project/>\n");
    for (String module : MODULES) {
      Path sources = repository.resolve(module).resolve("src/main/java");
      Files.createDirectories(sources);
      Files.writeString(repository.resolve(module).resolve("pom.xml"), "<project/>\n");
      Files.writeString(sources.resolve("Source.java"), "class Source {}\n");
    }
    Instant past = Instant.now().minusSeconds(3600);
    try (var files = Files.walk(repository)) {
      for (Path file : files.toList()) {
        Files.setLastModifiedTime(file, FileTime.from(past));
      }
    }
    jar = repository.resolve("cli/target/microrunner.jar");
    mvnCalls = elsewhere.resolve("mvn-calls");
    fakeMaven = elsewhere.resolve("mvn");
    Files.writeString(
        fakeMaven,
        String.join(
            "\n",
            "#!/bin/sh",
            "echo \"$(pwd) $*\" >> '" + mvnCalls + "'",
            "[ -n \"$FAIL_BUILD\" ] && { echo '[ERROR] COMPILATION ERROR: Source.java'; exit 1; }",
            "mkdir -p cli/target && cp '" + BuiltJar.jar() + "' cli/target/microrunner.jar",
            ""));
    fakeMaven.toFile().setExecutable(true);
  }

  @Test
  void buildsAMissingJarOnceSayingSoOnOneLineThenRunsIt() throws Exception {
    Result first = launch(Map.of(), "--version");
    assertEquals(0, first.status, first.toString());
    assertEquals(
        "microrunner: building cli/target/microrunner.jar (it is missing) with Maven...\n",
        first.stderr);
    assertTrue(first.stdout.startsWith("microrunner "), first.stdout);
    List<String> calls = Files.readAllLines(mvnCalls);
    assertEquals(1, calls.size());
    assertEquals(
        repository.toRealPath() + " -B -q -Dstyle.color=never -pl cli -am package -DskipTests",
        calls.get(0));

    Result second = launch(Map.of(), "--version");
    assertEquals(0, second.status);
    assertEquals("", second.stderr);
    assertEquals(1, Files.readAllLines(mvnCalls).size(), "rebuilt an up-to-date jar");
  }

  @Test
  void rebuildsWhenASourceOrAPomIsNewerThanTheJar() throws Exception {
    launch(Map.of(), "--version");
    Instant jarTime = Files.getLastModifiedTime(jar).toInstant();

    Files.setLastModifiedTime(
        repository.resolve("vm-launcher/src/main/java/Source.java"),
        FileTime.from(jarTime.plusSeconds(5)));
    Result afterSource = launch(Map.of(), "--version");
    assertEquals(0, afterSource.status);
    assertEquals(
        "microrunner: building cli/target/microrunner.jar"
            + " (vm-launcher/src/main/java/Source.java changed) with Maven...\n",
        afterSource.stderr);

    Files.setLastModifiedTime(
        repository.resolve("pom.xml"),
        FileTime.from(Files.getLastModifiedTime(jar).toInstant().plusSeconds(5)));
    Result afterPom = launch(Map.of(), "--version");
    assertTrue(afterPom.stderr.contains("(pom.xml changed)"), afterPom.stderr);
    assertEquals(3, Files.readAllLines(mvnCalls).size());
  }

  @Test
  void aFailedBuildShowsMavensOutputAndDoesNotRun() throws Exception {
    Result failed = launch(Map.of("FAIL_BUILD", "1"), "--version");
    assertEquals(1, failed.status);
    assertTrue(failed.stderr.contains("[ERROR] COMPILATION ERROR: Source.java"), failed.stderr);
    assertTrue(
        failed.stderr.endsWith("microrunner: the build failed (see above)\n"), failed.stderr);
    assertEquals("", failed.stdout);
    assertFalse(Files.exists(jar));
  }

  @Test
  void worksThroughASymbolicLinkFromAnotherDirectory() throws Exception {
    Path link = elsewhere.resolve("bin/microrunner");
    Files.createDirectories(link.getParent());
    Files.createSymbolicLink(link, repository.resolve("microrunner"));
    Files.createDirectories(jar.getParent());
    Files.copy(BuiltJar.jar(), jar, StandardCopyOption.REPLACE_EXISTING);

    Result result = launch(link, Map.of(), "--version");
    assertEquals(0, result.status, result.toString());
    assertEquals("", result.stderr);
    assertFalse(Files.exists(mvnCalls), "built although the jar was up to date");
  }

  @Test
  void givesTheJvmTheOptionsTheBenchMeasuresUnlessTold() throws Exception {
    Files.createDirectories(jar.getParent());
    Files.copy(BuiltJar.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
    Path javaHome = elsewhere.resolve("jdk");
    Path java = Files.createDirectories(javaHome.resolve("bin")).resolve("java");
    Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
    java.toFile().setExecutable(true);

    Result defaults = launch(Map.of("JAVA_HOME", javaHome.toString()), "bench");
    List<String> expected = new java.util.ArrayList<>(SelfLaunch.LAUNCHER_JVM_FLAGS);
    expected.addAll(List.of("-jar", jar.toRealPath().toString(), "bench"));
    assertEquals(expected, defaults.stdout.lines().toList(), defaults.toString());

    Result told =
        launch(
            Map.of("JAVA_HOME", javaHome.toString(), "MICRORUNNER_JAVA_OPTS", "-Xmx1g -Dx=y"),
            "bench");
    assertEquals(
        List.of("-Xmx1g", "-Dx=y", "-jar", jar.toRealPath().toString(), "bench"),
        told.stdout.lines().toList());
  }

  private record Result(int status, String stdout, String stderr) {}

  private Result launch(Map<String, String> environment, String... arguments) throws Exception {
    return launch(repository.resolve("microrunner"), environment, arguments);
  }

  private Result launch(Path script, Map<String, String> environment, String... arguments)
      throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(script.toString()));
    command.addAll(List.of(arguments));
    ProcessBuilder builder = new ProcessBuilder(command).directory(elsewhere.toFile());
    builder.environment().put("MICRORUNNER_MVN", fakeMaven.toString());
    builder.environment().putAll(environment);
    builder.redirectOutput(elsewhere.resolve("out").toFile());
    builder.redirectError(elsewhere.resolve("err").toFile());
    Process process = builder.start();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the script did not end");
    return new Result(
        process.exitValue(),
        Files.readString(elsewhere.resolve("out"), StandardCharsets.UTF_8),
        Files.readString(elsewhere.resolve("err"), StandardCharsets.UTF_8));
  }
}
