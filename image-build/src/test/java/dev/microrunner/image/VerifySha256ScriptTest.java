package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checksum step of the main image, run with the host's sha256sum on a small file. */
class VerifySha256ScriptTest {
  @TempDir Path directory;
  Path script;
  Path archive;
  String sha256;

  @BeforeEach
  void writeArchive() throws Exception {
    script = TestFiles.context(directory).resolve("verify-sha256.sh");
    archive = directory.resolve("actions-runner-linux-x64-2.0.0.tar.gz");
    byte[] content = "not really a tarball\n".getBytes(StandardCharsets.UTF_8);
    Files.write(archive, content);
    sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
  }

  @Test
  void acceptsTheRightChecksum() throws Exception {
    Result result = verify(sha256);
    assertEquals(0, result.exitStatus(), result.stderrTail());
  }

  @Test
  void refusesAWrongChecksum() throws Exception {
    String wrong = sha256.substring(0, 63) + (sha256.endsWith("0") ? "1" : "0");
    Result result = verify(wrong);
    assertNotEquals(0, result.exitStatus());
    assertTrue(result.stderrTail().contains("checksum mismatch"), result.stderrTail());
    assertTrue(result.stderrTail().contains(sha256), result.stderrTail());
  }

  @Test
  void refusesThePlaceholder() throws Exception {
    Result result = verify(RunnerRelease.PLACEHOLDER);
    assertNotEquals(0, result.exitStatus());
    assertTrue(result.stderrTail().contains("no SHA-256 pinned"), result.stderrTail());
  }

  @Test
  void refusesAnEmptyOrTruncatedChecksum() throws Exception {
    assertNotEquals(0, verify("").exitStatus());
    assertNotEquals(0, verify(sha256.substring(1)).exitStatus());
    assertNotEquals(0, verify(sha256.toUpperCase(Locale.ROOT)).exitStatus());
  }

  private Result verify(String expected) throws Exception {
    return Commands.run(List.of(script.toString(), archive.toString(), expected), Map.of());
  }
}
