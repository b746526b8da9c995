package dev.microrunner.handshake;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a hostile guest plants in a loop directory, made with real files and real mkfifo. */
final class HostileFiles {
  static final String CANARY_CONTENT = "canary: must never change\n";

  private HostileFiles() {}

  static Path canary(Path dir) throws IOException {
    Path canary = dir.resolve("canary.txt");
    Files.writeString(canary, CANARY_CONTENT);
    return canary;
  }

  static void assertCanaryUnchanged(Path canary) throws IOException {
    assertEquals(CANARY_CONTENT, Files.readString(canary), "canary " + canary);
  }

  static void mkfifo(Path... fifos) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("mkfifo"));
    for (Path fifo : fifos) {
      command.add(fifo.toString());
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, process.waitFor(), "mkfifo failed: " + output);
  }
}
