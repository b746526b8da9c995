package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.image.internal.BuildContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildContextTest {
  @TempDir Path directory;

  @Test
  void writesEveryFileWithItsMode() throws IOException {
    Path context = TestFiles.context(directory);

    Map<String, String> modes = new TreeMap<>();
    try (Stream<Path> files = Files.list(context)) {
      for (Path file : files.collect(Collectors.toList())) {
        modes.put(
            file.getFileName().toString(),
            PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      }
    }
    Map<String, String> expected = new TreeMap<>();
    for (String name :
        new String[] {
          "docker-shim",
          "install-runner.sh",
          "jlink-runtime.sh",
          "microrunner",
          "setup-base.sh",
          "verify-sha256.sh"
        }) {
      expected.put(name, "rwxr-xr-x");
    }
    for (String name :
        new String[] {
          "Containerfile.base-fedora",
          "Containerfile.base-ubuntu",
          "Containerfile.main",
          "jlink-modules",
          "microrunner.jar"
        }) {
      expected.put(name, "rw-r--r--");
    }
    assertEquals(expected, modes);
  }

  @Test
  void copiesTheAgentJarUnchanged() throws IOException {
    Path jar = TestFiles.emptyJar(directory);
    Path context = directory.resolve("context");
    BuildContext.write(context, jar);
    assertArrayEquals(
        Files.readAllBytes(jar), Files.readAllBytes(context.resolve(BuildContext.AGENT_JAR)));
  }

  @Test
  void everyFileAContainerfileCopiesIsInTheContext() throws IOException {
    Path context = TestFiles.context(directory);
    Pattern copy = Pattern.compile("^COPY (?!--from)(.+) \\S+$", Pattern.MULTILINE);
    for (String containerfile :
        new String[] {
          "Containerfile.base-ubuntu", "Containerfile.base-fedora", "Containerfile.main"
        }) {
      Matcher matcher = copy.matcher(Files.readString(context.resolve(containerfile)));
      int copies = 0;
      while (matcher.find()) {
        for (String source : matcher.group(1).split(" ", -1)) {
          assertTrue(
              Files.isRegularFile(context.resolve(source)),
              containerfile + " copies " + source + ", which the context lacks");
          copies++;
        }
      }
      assertTrue(copies > 0, containerfile + " copies nothing from the context");
    }
  }

  @Test
  void entrypointIsAnExecFormArrayOfLiteralPaths() throws IOException {
    String main = Files.readString(TestFiles.context(directory).resolve("Containerfile.main"));
    Matcher entrypoint = Pattern.compile("^ENTRYPOINT (.*)$", Pattern.MULTILINE).matcher(main);
    assertTrue(entrypoint.find(), "Containerfile.main has an ENTRYPOINT");
    assertEquals(
        "[\"/usr/local/sbin/microrunner-init\", \"--\", \"/opt/microrunner/bin/microrunner\","
            + " \"agent\"]",
        entrypoint.group(1));
  }

  @Test
  void refusesADirectoryThatIsNotEmpty() throws IOException {
    Path context = Files.createDirectories(directory.resolve("context"));
    Files.writeString(context.resolve("stale"), "left over");
    IOException error =
        assertThrows(
            IOException.class, () -> BuildContext.write(context, TestFiles.emptyJar(directory)));
    assertTrue(error.getMessage().contains("is not empty"), error.getMessage());
  }

  @Test
  void refusesAMissingAgentJar() {
    Path missing = directory.resolve("missing.jar");
    IOException error =
        assertThrows(IOException.class, () -> BuildContext.write(directory.resolve("c"), missing));
    assertTrue(error.getMessage().contains(missing.toString()), error.getMessage());
  }
}
