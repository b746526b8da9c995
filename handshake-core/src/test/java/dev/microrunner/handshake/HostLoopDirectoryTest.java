package dev.microrunner.handshake;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostLoopDirectoryTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  @TempDir Path base;
  private HostLoopDirectory loop;
  private final LoopSecret secret = LoopSecret.generate();
  private final RunnerId id = RunnerId.parse("3-abcDEF12");

  @BeforeEach
  void createLoopDirectory() throws IOException {
    loop = HostLoopDirectory.create(base.resolve("GH-runner-003"), 3);
  }

  @AfterEach
  void closeWatcher() {
    loop.close();
  }

  @Test
  void awaitRegistrationStillWorksByPollingAfterClose() throws Exception {
    loop.close();
    CompletableFuture<Optional<RunnerId>> waiting = awaitAsync(BOUND);

    Files.writeString(loop.path().resolve("3-late.tkn"), "registered");

    assertEquals(Optional.of(RunnerId.parse("3-late")), waiting.get(10, TimeUnit.SECONDS));
    assertTrue(Files.isDirectory(loop.path()), "close keeps the directory");
  }

  private Map<String, String> env() {
    return Map.of(
        EnvFile.RUNNER_SECRET,
        secret.reveal(),
        EnvFile.RUNNER_NAME,
        "ubuntu-krun-" + id,
        EnvFile.RUNNER_JITCONFIG,
        "eyJqaXQiOiJ4In0=");
  }

  @Test
  void createsTheLoopDirectoryOwnerOnly() throws IOException {
    assertEquals(base.resolve("GH-runner-003"), loop.path());
    assertEquals(3, loop.loop());
    assertEquals(
        "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(loop.path())));
  }

  @Test
  void takesOverAnExistingDirectoryAndTightensItsMode() throws IOException {
    Path dir = Files.createDirectory(base.resolve("existing"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));

    HostLoopDirectory.create(dir, 1);

    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
  }

  @Test
  void refusesASymlinkAsLoopDirectory() throws IOException {
    Path target = Files.createDirectory(base.resolve("elsewhere"));
    Path link = Files.createSymbolicLink(base.resolve("link"), target);

    var e = assertThrows(UnsafeFileException.class, () -> HostLoopDirectory.create(link, 1));

    assertTrue(e.getMessage().contains(link.toString()), e.getMessage());
  }

  @Test
  void requiresTheParentToExist() {
    assertThrows(IOException.class, () -> HostLoopDirectory.create(base.resolve("no/such/dir"), 1));
  }

  @Test
  void writesEnvOwnerOnlyInTheAgreedFormat() throws IOException {
    loop.writeEnv(id, env());

    Path file = loop.path().resolve("3-abcDEF12.env");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(env(), EnvFile.parse(Files.readString(file)));
    assertEquals(List.of(file), listing(), "no temporary file is left behind");
  }

  @Test
  void writeEnvReplacesAnOlderFile() throws IOException {
    Files.writeString(loop.path().resolve("3-abcDEF12.env"), "stale");

    loop.writeEnv(id, env());

    assertEquals(env(), EnvFile.parse(Files.readString(loop.path().resolve("3-abcDEF12.env"))));
  }

  @Test
  void writeEnvRequiresTheSecretAndOneCredential() {
    assertThrows(
        IllegalArgumentException.class,
        () -> loop.writeEnv(id, Map.of(EnvFile.RUNNER_JITCONFIG, "x")));
    assertThrows(
        IllegalArgumentException.class,
        () -> loop.writeEnv(id, Map.of(EnvFile.RUNNER_SECRET, secret.reveal())));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            loop.writeEnv(
                id,
                Map.of(
                    EnvFile.RUNNER_SECRET, secret.reveal(),
                    EnvFile.RUNNER_JITCONFIG, "x",
                    EnvFile.RUNNER_TOKEN, "y")));
  }

  @Test
  void writeEnvRejectsOversizedContentAndWritesNothing() throws IOException {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                loop.writeEnv(
                    id,
                    Map.of(
                        EnvFile.RUNNER_SECRET, secret.reveal(),
                        EnvFile.RUNNER_TOKEN, "x".repeat(70_000))));

    assertTrue(e.getMessage().contains("65536"), e.getMessage());
    assertEquals(List.of(), listing());
  }

  @Test
  void refusesRunnersOfAnotherLoop() {
    RunnerId other = RunnerId.parse("4-abc");

    assertThrows(IllegalArgumentException.class, () -> loop.writeEnv(other, env()));
    assertThrows(IllegalArgumentException.class, () -> loop.requestTermination(other, secret));
    assertThrows(IllegalArgumentException.class, () -> loop.consumeBreak(other, secret));
    assertThrows(IllegalArgumentException.class, () -> loop.removeRunnerFiles(other));
  }

  @Test
  void awaitRegistrationReportsTheRunnerWhoseTokenAppears() throws Exception {
    CompletableFuture<Optional<RunnerId>> waiting = awaitAsync(BOUND);

    Files.writeString(loop.path().resolve("3-xyz789.tkn"), "registered");

    assertEquals(Optional.of(RunnerId.parse("3-xyz789")), waiting.get(10, TimeUnit.SECONDS));
  }

  @Test
  void everyLoopDirectoryIsWatchedByOneThread() throws Exception {
    List<HostLoopDirectory> loops = new ArrayList<>();
    try {
      for (int i = 1; i <= 20; i++) {
        HostLoopDirectory other = HostLoopDirectory.create(base.resolve("many-" + i), i);
        loops.add(other);
        assertEquals(Optional.empty(), other.awaitRegistration(Duration.ofMillis(1)));
      }
      long watchers =
          Thread.getAllStackTraces().keySet().stream()
              .filter(thread -> thread.getName().equals("microrunner-directory-changes"))
              .count();
      // Not one inotify instance and thread per directory: 128 instances per user by default.
      assertEquals(1, watchers);
      CompletableFuture<Optional<RunnerId>> waiting = new CompletableFuture<>();
      HostLoopDirectory last = loops.get(19);
      new Thread(
              () -> {
                try {
                  waiting.complete(last.awaitRegistration(BOUND));
                } catch (Exception e) {
                  waiting.completeExceptionally(e);
                }
              })
          .start();
      Files.writeString(last.path().resolve("20-abc123.tkn"), "registered");
      assertEquals(Optional.of(RunnerId.parse("20-abc123")), waiting.get(10, TimeUnit.SECONDS));
    } finally {
      loops.forEach(HostLoopDirectory::close);
    }
  }

  @Test
  void awaitRegistrationReturnsAtOnceForAnExistingToken() throws Exception {
    Files.writeString(loop.path().resolve("3-xyz789.tkn"), "registered");

    assertEquals(Optional.of(RunnerId.parse("3-xyz789")), loop.awaitRegistration(Duration.ZERO));
  }

  @Test
  void awaitRegistrationTimesOutEmpty() throws Exception {
    Optional<RunnerId> result =
        assertTimeoutPreemptively(BOUND, () -> loop.awaitRegistration(Duration.ofMillis(100)));

    assertEquals(Optional.empty(), result);
  }

  @Test
  void awaitRegistrationIgnoresTokensThatAreNotThisLoopsRegularFiles() throws Exception {
    Path dir = loop.path();
    Files.writeString(dir.resolve("4-other.tkn"), "other loop");
    Files.writeString(dir.resolve("3-bad.name.tkn"), "not an id");
    Files.writeString(dir.resolve("3-.tkn"), "empty random part");
    Files.writeString(dir.resolve("3-abc.tk"), "wrong extension");
    Files.createDirectory(dir.resolve("3-dir.tkn"));
    Files.createSymbolicLink(dir.resolve("3-link.tkn"), HostileFiles.canary(base));
    HostileFiles.mkfifo(dir.resolve("3-fifo.tkn"));

    Optional<RunnerId> result =
        assertTimeoutPreemptively(BOUND, () -> loop.awaitRegistration(Duration.ofMillis(100)));

    assertEquals(Optional.empty(), result);
  }

  @Test
  void isRegisteredOnlyForARegularTokenFile() throws Exception {
    assertFalse(loop.isRegistered(id));
    Files.createSymbolicLink(loop.path().resolve("3-abcDEF12.tkn"), HostileFiles.canary(base));
    assertFalse(loop.isRegistered(id));
    Files.delete(loop.path().resolve("3-abcDEF12.tkn"));
    Files.writeString(loop.path().resolve("3-abcDEF12.tkn"), "ok");
    assertTrue(loop.isRegistered(id));
  }

  @Test
  void requestTerminationWritesTheSecretOwnerOnly() throws IOException {
    loop.requestTermination(id, secret);

    Path file = loop.path().resolve("3-abcDEF12.trm");
    assertEquals(secret.reveal(), Files.readString(file));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void consumeBreakIsTrueForTheSecretAndRemovesTheFile() throws IOException {
    Path file = loop.path().resolve("3-abcDEF12.brk");
    Files.writeString(file, secret.reveal());

    assertTrue(loop.consumeBreak(id, secret));
    assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS));
    assertEquals(List.of(), claimsListing(), "claimed file removed");
  }

  @Test
  void consumeBreakAcceptsOneTrailingNewlineAsAShellEchoWrites() throws IOException {
    Files.writeString(loop.path().resolve("3-abcDEF12.brk"), secret.reveal() + "\n");

    assertTrue(loop.consumeBreak(id, secret));
  }

  @Test
  void consumeBreakIsFalseWithoutAFile() throws IOException {
    assertFalse(loop.consumeBreak(id, secret));
  }

  @Test
  void consumeBreakLooksOnlyAtThisRunnersFile() throws IOException {
    Files.writeString(loop.path().resolve("3-previous.brk"), secret.reveal());

    assertFalse(loop.consumeBreak(id, secret));
    assertTrue(Files.exists(loop.path().resolve("3-previous.brk")));
  }

  @Test
  void removeRunnerFilesRemovesOnlyThatRunnersFiles() throws IOException {
    Path dir = loop.path();
    for (String name :
        List.of("3-abcDEF12.env", "3-abcDEF12.tkn", "3-abcDEF12.brk", ".3-abcDEF12.trm.X.tmp")) {
      Files.writeString(dir.resolve(name), "x");
    }
    Files.createSymbolicLink(dir.resolve("3-abcDEF12.trm"), HostileFiles.canary(base));
    Files.writeString(dir.resolve("3-other.tkn"), "keep");
    Files.writeString(dir.resolve("3-abcDEF12.log"), "not a protocol file");

    loop.removeRunnerFiles(id);

    assertEquals(List.of(dir.resolve("3-abcDEF12.log"), dir.resolve("3-other.tkn")), listing());
    HostileFiles.assertCanaryUnchanged(base.resolve("canary.txt"));
  }

  @Test
  void removeRunnerFilesNeverDeletesRecursively() throws IOException {
    Path planted = Files.createDirectory(loop.path().resolve("3-abcDEF12.brk"));
    Files.writeString(planted.resolve("inside"), "x");

    loop.removeRunnerFiles(id);

    assertTrue(Files.exists(planted.resolve("inside")));
  }

  @Test
  void deleteAfterVmsEndedRemovesEverythingWithoutFollowingLinks() throws IOException {
    Path outside = Files.createDirectory(base.resolve("outside"));
    Path canary = HostileFiles.canary(outside);
    Path dir = loop.path();
    Files.createSymbolicLink(dir.resolve("link-to-dir"), outside);
    Files.createSymbolicLink(dir.resolve("link-to-file"), canary);
    Files.createDirectories(dir.resolve("nested/deeper"));
    Files.createSymbolicLink(dir.resolve("nested/deeper/up"), outside);
    Files.writeString(dir.resolve("3-abcDEF12.tkn"), "x");

    loop.deleteAfterVmsEnded();

    assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS));
    assertFalse(Files.exists(base.resolve(".GH-runner-003.claims"), LinkOption.NOFOLLOW_LINKS));
    HostileFiles.assertCanaryUnchanged(canary);
    assertTrue(Files.isDirectory(outside, LinkOption.NOFOLLOW_LINKS));
    loop.deleteAfterVmsEnded(); // already gone: nothing to do, no error
  }

  private CompletableFuture<Optional<RunnerId>> awaitAsync(Duration timeout) {
    var result = new CompletableFuture<Optional<RunnerId>>();
    Thread waiter =
        new Thread(
            () -> {
              try {
                result.complete(loop.awaitRegistration(timeout));
              } catch (Exception e) {
                result.completeExceptionally(e);
              }
            });
    waiter.setDaemon(true);
    waiter.start();
    await().until(() -> waiter.getState() != Thread.State.NEW);
    return result;
  }

  private List<Path> listing() throws IOException {
    try (Stream<Path> entries = Files.list(loop.path())) {
      return entries.sorted().toList();
    }
  }

  private List<Path> claimsListing() throws IOException {
    try (Stream<Path> entries = Files.list(base.resolve(".GH-runner-003.claims"))) {
      return entries.sorted().toList();
    }
  }
}
