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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A guest plants hostile entries before or while the host acts. */
class HostAdversarialTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  @TempDir Path base;
  private HostLoopDirectory loop;
  private Path dir;
  private Path canary;
  private final LoopSecret secret = LoopSecret.generate();
  private final RunnerId id = RunnerId.parse("5-victim01");

  @BeforeEach
  void setUp() throws IOException {
    loop = HostLoopDirectory.create(base.resolve("loop-5"), 5);
    dir = loop.path();
    canary = HostileFiles.canary(Files.createDirectory(base.resolve("host-files")));
  }

  private Path file(HandshakeFile file) {
    return dir.resolve(id.fileName(file));
  }

  // --- .trm written by the host ---

  @Test
  void terminateSymlinkToAHostFileIsReplacedNotFollowed() throws IOException {
    Files.createSymbolicLink(file(HandshakeFile.TERMINATE), canary);

    assertTimeoutPreemptively(BOUND, () -> loop.requestTermination(id, secret));

    assertCanaryUnchanged(canary);
    assertFalse(Files.isSymbolicLink(file(HandshakeFile.TERMINATE)));
    assertEquals(secret.reveal(), Files.readString(file(HandshakeFile.TERMINATE)));
  }

  @Test
  void danglingTerminateSymlinkDoesNotCreateItsTarget() throws IOException {
    Path target = base.resolve("host-files/created-through-link");
    Files.createSymbolicLink(file(HandshakeFile.TERMINATE), target);

    loop.requestTermination(id, secret);

    assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS));
    assertEquals(secret.reveal(), Files.readString(file(HandshakeFile.TERMINATE)));
  }

  @Test
  void terminateDirectoryFailsNamingTheFileAndLeavesNoTemporary() throws IOException {
    Path planted = Files.createDirectory(file(HandshakeFile.TERMINATE));
    Files.writeString(planted.resolve("inside"), "x");

    var e = assertThrows(UnsafeFileException.class, () -> loop.requestTermination(id, secret));

    assertTrue(e.getMessage().contains(id.fileName(HandshakeFile.TERMINATE)), e.getMessage());
    assertTrue(e.getMessage().contains("directory"), e.getMessage());
    assertFalse(e.getMessage().contains(secret.reveal()));
    assertEquals(List.of(planted), listing(dir));
    assertTrue(Files.exists(planted.resolve("inside")));
  }

  @Test
  void terminateHardLinkIsReplacedAndTheOtherFileKeepsItsContent() throws IOException {
    Path other = HostileFiles.canary(Files.createDirectory(dir.resolve("sub")));
    Files.createLink(file(HandshakeFile.TERMINATE), other);

    loop.requestTermination(id, secret);

    assertCanaryUnchanged(other);
    assertEquals(secret.reveal(), Files.readString(file(HandshakeFile.TERMINATE)));
  }

  @Test
  void terminateFifoIsReplacedWithoutBlocking() throws Exception {
    HostileFiles.mkfifo(file(HandshakeFile.TERMINATE));

    assertTimeoutPreemptively(BOUND, () -> loop.requestTermination(id, secret));

    assertEquals(secret.reveal(), Files.readString(file(HandshakeFile.TERMINATE)));
  }

  // --- .env written by the host ---

  @Test
  void envHardLinkIsReplacedAndTheOtherFileKeepsItsContent() throws IOException {
    Path other = HostileFiles.canary(Files.createDirectory(dir.resolve("sub")));
    Files.createLink(file(HandshakeFile.ENV), other);

    loop.writeEnv(id, env());

    assertCanaryUnchanged(other);
    assertEquals(env(), EnvFile.parse(Files.readString(file(HandshakeFile.ENV))));
  }

  @Test
  void envSymlinkIsReplacedNotFollowed() throws IOException {
    Files.createSymbolicLink(file(HandshakeFile.ENV), canary);

    loop.writeEnv(id, env());

    assertCanaryUnchanged(canary);
    assertFalse(Files.isSymbolicLink(file(HandshakeFile.ENV)));
  }

  private Map<String, String> env() {
    return Map.of(EnvFile.RUNNER_SECRET, secret.reveal(), EnvFile.RUNNER_JITCONFIG, "jit");
  }

  // --- .tkn read by the host ---

  @Test
  void tokenSymlinkDoesNotCountAsRegistration() throws Exception {
    Files.createSymbolicLink(file(HandshakeFile.TOKEN), canary);

    assertFalse(loop.isRegistered(id));
    assertEquals(
        java.util.Optional.empty(),
        assertTimeoutPreemptively(BOUND, () -> loop.awaitRegistration(Duration.ofMillis(50))));
    assertCanaryUnchanged(canary);
  }

  // --- .brk read by the host ---

  @Test
  void breakSymlinkToAFileHoldingTheSecretIsNotFollowed() throws IOException {
    Files.writeString(canary, secret.reveal());
    Files.createSymbolicLink(file(HandshakeFile.BREAK), canary);

    assertFalse(loop.consumeBreak(id, secret));

    assertEquals(secret.reveal(), Files.readString(canary));
    assertFalse(Files.exists(file(HandshakeFile.BREAK), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void breakFifoNeverBlocksAndIsRemoved() throws Exception {
    HostileFiles.mkfifo(file(HandshakeFile.BREAK));

    boolean result = assertTimeoutPreemptively(BOUND, () -> loop.consumeBreak(id, secret));

    assertFalse(result);
    assertFalse(Files.exists(file(HandshakeFile.BREAK), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void sparseMultiGigabyteBreakIsRejectedWithoutReadingIt() throws Exception {
    try (var sparse = new RandomAccessFile(file(HandshakeFile.BREAK).toFile(), "rw")) {
      sparse.write(secret.reveal().getBytes(StandardCharsets.UTF_8));
      sparse.setLength(6L * 1024 * 1024 * 1024);
    }

    boolean result = assertTimeoutPreemptively(BOUND, () -> loop.consumeBreak(id, secret));

    assertFalse(result);
    assertFalse(Files.exists(file(HandshakeFile.BREAK), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void breakDirectoryIsRejected() throws IOException {
    Files.createDirectory(file(HandshakeFile.BREAK));

    assertFalse(loop.consumeBreak(id, secret));
  }

  @Test
  void breakHardLinkIsReadButTheOtherFileSurvives() throws IOException {
    Path other = dir.resolve("other");
    Files.writeString(other, secret.reveal());
    Files.createLink(file(HandshakeFile.BREAK), other);

    assertTrue(loop.consumeBreak(id, secret), "a hard link is a regular file with the secret");
    assertEquals(secret.reveal(), Files.readString(other));
  }

  static Stream<byte[]> wrongBreakContents() {
    LoopSecret shared = SharedSecret.VALUE;
    String s = shared.reveal();
    return Stream.of(
        new byte[0],
        "wrong".getBytes(StandardCharsets.UTF_8),
        s.substring(0, s.length() - 1).getBytes(StandardCharsets.UTF_8),
        (s + "\n\n").getBytes(StandardCharsets.UTF_8),
        (s + "\r\n").getBytes(StandardCharsets.UTF_8),
        (s + "\0").getBytes(StandardCharsets.UTF_8),
        (s + "\0\0\0\0").getBytes(StandardCharsets.UTF_8),
        ("\0" + s).getBytes(StandardCharsets.UTF_8),
        (" " + s).getBytes(StandardCharsets.UTF_8),
        ("\n" + s).getBytes(StandardCharsets.UTF_8),
        (s + s).getBytes(StandardCharsets.UTF_8),
        LoopSecret.generate().reveal().getBytes(StandardCharsets.UTF_8));
  }

  /** One secret shared by the parameterised cases and the loop under test. */
  static final class SharedSecret {
    static final LoopSecret VALUE = LoopSecret.generate();
  }

  @ParameterizedTest
  @MethodSource("wrongBreakContents")
  void breakWithoutExactlyTheSecretIsIgnoredAndRemoved(byte[] content) throws IOException {
    Files.write(file(HandshakeFile.BREAK), content);

    assertFalse(loop.consumeBreak(id, SharedSecret.VALUE));
    assertFalse(Files.exists(file(HandshakeFile.BREAK), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void breakFromThePreviousLoopSecretIsIgnored() throws IOException {
    LoopSecret previous = LoopSecret.generate();
    Files.writeString(file(HandshakeFile.BREAK), previous.reveal());

    assertFalse(loop.consumeBreak(id, secret));
  }

  @Test
  void breakSwappedBetweenFileSymlinkAndFifoNeverBlocksNorFollows() throws Exception {
    Files.writeString(canary, secret.reveal());
    int calls = 400;
    NameSwapper.race(
        file(HandshakeFile.BREAK),
        canary,
        secret.reveal().getBytes(StandardCharsets.UTF_8),
        dir.resolve("staging"),
        calls,
        () -> loop.consumeBreak(id, secret));

    assertEquals(secret.reveal(), Files.readString(canary), "canary unchanged");
    assertEquals(List.of(), listing(base.resolve(".loop-5.claims")), "no claimed leftovers");
  }

  @Test
  void terminateSwappedBetweenFileSymlinkAndFifoWhileTheHostWrites() throws Exception {
    int calls = 300;
    NameSwapper.race(
        file(HandshakeFile.TERMINATE),
        canary,
        "guest".getBytes(StandardCharsets.UTF_8),
        dir.resolve("staging"),
        calls,
        () -> loop.requestTermination(id, secret));

    assertCanaryUnchanged(canary);
  }

  // --- .sta written by the guest ---

  @Test
  void statusSymlinkToAHostFileIsNotFollowed() throws IOException {
    Files.writeString(canary, "STATE='ended'\nOUTCOME='version_refused'\n");
    Files.createSymbolicLink(file(HandshakeFile.STATUS), canary);

    assertEquals(java.util.Optional.empty(), loop.consumeStatus(id));

    assertEquals("STATE='ended'\nOUTCOME='version_refused'\n", Files.readString(canary));
    assertFalse(Files.exists(file(HandshakeFile.STATUS), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void statusFifoNeverBlocks() throws Exception {
    HostileFiles.mkfifo(file(HandshakeFile.STATUS));

    var status = assertTimeoutPreemptively(BOUND, () -> loop.consumeStatus(id));

    assertEquals(java.util.Optional.empty(), status);
  }

  @Test
  void sparseMultiGigabyteStatusIsRejectedWithoutReadingIt() throws Exception {
    try (var sparse = new RandomAccessFile(file(HandshakeFile.STATUS).toFile(), "rw")) {
      sparse.write("STATE='idle'\n".getBytes(StandardCharsets.UTF_8));
      sparse.setLength(6L * 1024 * 1024 * 1024);
    }

    var status = assertTimeoutPreemptively(BOUND, () -> loop.consumeStatus(id));

    assertEquals(java.util.Optional.empty(), status);
  }

  static Stream<String> malformedStatuses() {
    return Stream.of(
        "",
        "STATE=idle\n",
        "STATE='sleeping'\n",
        "STATE='ended'\n",
        "STATE='ended'\nOUTCOME='rebooted'\n",
        "STATE='busy'\nJOBS_STARTED='-1'\n",
        "STATE='busy'\nJOBS_STARTED='99999999999999999999'\n",
        "STATE='idle'\nRUNNER_VERSION='2.336.0; rm -rf /'\n",
        "STATE='ended'\nOUTCOME='stopped'\nLISTENER_STATUS='1e9'\n",
        "STATE='busy'\nJOB='x'\nJOB_RESULT='Succeeded\u001b[2J'\n",
        "STATE='idle'\u0000\n");
  }

  @ParameterizedTest
  @MethodSource("malformedStatuses")
  void malformedStatusIsIgnoredAndRemoved(String content) throws IOException {
    Files.writeString(file(HandshakeFile.STATUS), content);

    assertEquals(java.util.Optional.empty(), loop.consumeStatus(id));
    assertFalse(Files.exists(file(HandshakeFile.STATUS), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void statusWithUnknownKeysAndAHugeJobNameIsReadBounded() throws IOException {
    Files.writeString(
        file(HandshakeFile.STATUS),
        "STATE='busy'\nJOB='" + "j".repeat(3000) + "\nnext'\nFUTURE_KEY='x'\nJOBS_STARTED='1'\n");

    RunnerStatus status = loop.consumeStatus(id).orElseThrow();

    assertEquals(RunnerStatus.State.BUSY, status.state());
    assertEquals(RunnerStatus.MAX_JOB_NAME, status.job().orElseThrow().name().length());
    assertFalse(status.job().orElseThrow().name().contains("\n"));
  }

  private static List<Path> listing(Path directory) throws IOException {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.sorted().toList();
    }
  }
}
