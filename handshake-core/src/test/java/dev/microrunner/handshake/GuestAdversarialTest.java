package dev.microrunner.handshake;

import static dev.microrunner.handshake.HostileFiles.assertCanaryUnchanged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest's reads face the same directory: workflow code with root in the VM could plant entries
 * there. Nothing may block or be followed.
 */
class GuestAdversarialTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  @TempDir Path base;
  private Path dir;
  private Path canary;
  private GuestHandshake guest;
  private final LoopSecret secret = LoopSecret.generate();
  private final RunnerId id = RunnerId.parse("7-agent001");

  @BeforeEach
  void setUp() throws IOException {
    dir = Files.createDirectory(base.resolve("_environment"));
    canary = HostileFiles.canary(Files.createDirectory(base.resolve("vm-files")));
    guest = GuestHandshake.forEnvFile(dir.resolve("7-agent001.env"));
  }

  private Path file(HandshakeFile file) {
    return dir.resolve(id.fileName(file));
  }

  @Test
  void envSymlinkIsUnsafeAndNotFollowed() throws IOException {
    Files.writeString(canary, "RUNNER_SECRET='" + secret.reveal() + "'\n");
    Files.createSymbolicLink(file(HandshakeFile.ENV), canary);

    var e = assertThrows(UnsafeFileException.class, guest::consumeEnv);

    assertEquals(file(HandshakeFile.ENV), e.file());
    assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    assertTrue(Files.exists(canary));
    assertFalse(Files.exists(file(HandshakeFile.ENV), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void envFifoIsUnsafeWithoutBlocking() throws Exception {
    HostileFiles.mkfifo(file(HandshakeFile.ENV));

    var e =
        assertTimeoutPreemptively(
            BOUND, () -> assertThrows(UnsafeFileException.class, guest::consumeEnv));

    assertTrue(e.getMessage().contains("7-agent001.env"), e.getMessage());
  }

  @Test
  void envDirectoryIsUnsafe() throws IOException {
    Files.createDirectory(file(HandshakeFile.ENV));

    assertThrows(UnsafeFileException.class, guest::consumeEnv);
  }

  @Test
  void sparseEnvBeyond64KibIsUnsafe() throws Exception {
    try (var sparse = new RandomAccessFile(file(HandshakeFile.ENV).toFile(), "rw")) {
      sparse.setLength(4L * 1024 * 1024 * 1024);
    }

    var e =
        assertTimeoutPreemptively(
            BOUND, () -> assertThrows(UnsafeFileException.class, guest::consumeEnv));

    assertTrue(e.getMessage().contains("65536"), e.getMessage());
    assertFalse(Files.exists(file(HandshakeFile.ENV), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void envOfExactly64KibIsStillRead() throws IOException {
    String prefix = "RUNNER_TOKEN='";
    String value = "x".repeat(64 * 1024 - prefix.length() - 2);
    Files.writeString(file(HandshakeFile.ENV), prefix + value + "'\n");

    assertEquals(value, guest.consumeEnv().get(EnvFile.RUNNER_TOKEN));
  }

  @Test
  void envHardLinkToAnotherFileLeavesThatFile() throws IOException {
    Files.createLink(file(HandshakeFile.ENV), canary);

    assertThrows(HandshakeException.class, guest::consumeEnv);

    assertCanaryUnchanged(canary);
  }

  @Test
  void terminateSymlinkToAFileHoldingTheSecretIsIgnored() throws IOException {
    Files.writeString(canary, secret.reveal());
    Files.createSymbolicLink(file(HandshakeFile.TERMINATE), canary);

    assertFalse(guest.terminationRequested(secret));

    assertEquals(secret.reveal(), Files.readString(canary));
    assertFalse(Files.exists(file(HandshakeFile.TERMINATE), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void terminateFifoDirectoryAndSparseFileAreIgnoredWithoutBlocking() throws Exception {
    HostileFiles.mkfifo(file(HandshakeFile.TERMINATE));
    assertFalse(assertTimeoutPreemptively(BOUND, () -> guest.terminationRequested(secret)));

    Files.createDirectory(file(HandshakeFile.TERMINATE));
    assertFalse(guest.terminationRequested(secret));
    assertFalse(Files.exists(file(HandshakeFile.TERMINATE), LinkOption.NOFOLLOW_LINKS));

    try (var sparse = new RandomAccessFile(file(HandshakeFile.TERMINATE).toFile(), "rw")) {
      sparse.write(secret.reveal().getBytes(StandardCharsets.UTF_8));
      sparse.setLength(5L * 1024 * 1024 * 1024);
    }
    assertFalse(assertTimeoutPreemptively(BOUND, () -> guest.terminationRequested(secret)));
  }

  @Test
  void terminateWithPaddedOrTruncatedSecretIsIgnored() throws IOException {
    String s = secret.reveal();
    for (String content :
        new String[] {"", s + "\0", s + "\n\n", s.substring(1), s + " ", "\n" + s}) {
      Files.writeString(file(HandshakeFile.TERMINATE), content);
      assertFalse(guest.terminationRequested(secret), () -> "content " + content.length());
      assertFalse(Files.exists(file(HandshakeFile.TERMINATE)));
    }
  }

  @Test
  void terminateSwappedBetweenFileSymlinkAndFifoNeverBlocks() throws Exception {
    Files.writeString(canary, secret.reveal());
    int calls = 400;
    NameSwapper.race(
        file(HandshakeFile.TERMINATE),
        canary,
        secret.reveal().getBytes(StandardCharsets.UTF_8),
        dir.resolve("staging"),
        calls,
        () -> guest.terminationRequested(secret));

    assertEquals(secret.reveal(), Files.readString(canary), "canary unchanged");
  }

  @Test
  void tokenAndBreakWritesReplacePlantedLinksAndFifos() throws Exception {
    Files.createSymbolicLink(file(HandshakeFile.TOKEN), canary);
    HostileFiles.mkfifo(file(HandshakeFile.BREAK));

    assertTimeoutPreemptively(
        BOUND,
        () -> {
          guest.publishRegistration("registered");
          guest.requestBreak(secret);
        });

    assertCanaryUnchanged(canary);
    assertEquals("registered", Files.readString(file(HandshakeFile.TOKEN)));
    assertEquals(secret.reveal(), Files.readString(file(HandshakeFile.BREAK)));
  }
}
