package dev.microrunner.handshake;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GuestHandshakeTest {
  @TempDir Path base;
  private HostLoopDirectory host;
  private GuestHandshake guest;
  private final LoopSecret secret = LoopSecret.generate();
  private final RunnerId id = RunnerId.parse("2-guest123");
  private Map<String, String> env;

  @BeforeEach
  void setUp() throws IOException {
    host = HostLoopDirectory.create(base.resolve("loop-2"), 2);
    env =
        Map.of(
            EnvFile.RUNNER_SECRET, secret.reveal(),
            EnvFile.RUNNER_NAME, "ubuntu-krun-2",
            EnvFile.RUNNER_TOKEN, "AABBCCDDEEFF");
    host.writeEnv(id, env);
    guest = GuestHandshake.forEnvFile(host.path().resolve("2-guest123.env"));
  }

  @Test
  void derivesDirectoryAndRunnerIdFromTheEnvFileName() {
    GuestHandshake handshake = GuestHandshake.forEnvFile(Path.of("/_environment/3-k2J9xQa.env"));

    assertEquals(RunnerId.parse("3-k2J9xQa"), handshake.runnerId());
    assertEquals(Path.of("/_environment"), handshake.directory());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/_environment/3-k2J9xQa.tkn",
        "/_environment/3-k2J9xQa",
        "/_environment/../3-k2J9xQa",
        "/_environment/x.env",
        "/_environment/0-abc.env",
        "/_environment/3-a.b.env",
        "/"
      })
  void rejectsPathsThatAreNotRunnerEnvFiles(String path) {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> GuestHandshake.forEnvFile(Path.of(path)));

    assertTrue(e.getMessage().contains("not a runner env file"), e.getMessage());
  }

  @Test
  void consumeEnvReturnsTheValuesAndDeletesTheFile() throws IOException {
    assertEquals(env, guest.consumeEnv());

    assertFalse(Files.exists(host.path().resolve("2-guest123.env"), LinkOption.NOFOLLOW_LINKS));
    try (var entries = Files.list(host.path())) {
      assertEquals(0, entries.count(), "no claimed copy is left behind");
    }
  }

  @Test
  void consumeEnvTwiceFailsNamingTheFile() throws IOException {
    guest.consumeEnv();

    var e = assertThrows(HandshakeException.class, guest::consumeEnv);

    assertTrue(e.getMessage().contains("2-guest123.env"), e.getMessage());
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void malformedEnvFailsWithFileAndLine() throws IOException {
    Files.writeString(host.path().resolve("2-guest123.env"), "A='x'\nB=oops\n");

    var e = assertThrows(HandshakeException.class, guest::consumeEnv);

    assertTrue(e.getMessage().contains("2-guest123.env"), e.getMessage());
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
  }

  @Test
  void envThatIsNotUtf8FailsNamingTheFile() throws IOException {
    Files.write(
        host.path().resolve("2-guest123.env"),
        new byte[] {'A', '=', '\'', (byte) 0xff, '\'', '\n'});

    var e = assertThrows(HandshakeException.class, guest::consumeEnv);

    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
  }

  @Test
  void publishedRegistrationIsSeenByTheHost() throws Exception {
    guest.consumeEnv();

    guest.publishRegistration("ubuntu-krun-2 registered");

    assertTrue(host.isRegistered(id));
    assertEquals(java.util.Optional.of(id), host.awaitRegistration(Duration.ZERO));
    assertEquals(
        "ubuntu-krun-2 registered", Files.readString(host.path().resolve("2-guest123.tkn")));
  }

  @Test
  void registrationMustNotCarryASecretFromTheEnv() throws IOException {
    guest.consumeEnv();

    for (String leaked : new String[] {secret.reveal(), "token AABBCCDDEEFF"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> guest.publishRegistration(leaked));
      assertFalse(e.getMessage().contains(secret.reveal()));
    }
    assertFalse(host.isRegistered(id));
  }

  @Test
  void statusUpdatesReachTheHostInOrderAndEachIsReadOnce() throws Exception {
    guest.consumeEnv();
    RunnerStatus busy =
        RunnerStatus.starting().withRunnerVersion("2.336.0").withJobStarted("build");

    guest.publishStatus(busy);
    assertEquals(java.util.Optional.of(busy), host.consumeStatus(id));
    assertEquals(java.util.Optional.empty(), host.consumeStatus(id), "read once");

    RunnerStatus ended =
        busy.withJobResult("build", "Canceled")
            .ended(
                new RunnerStatus.Ending(
                    RunnerStatus.Outcome.STOPPED, java.util.OptionalInt.of(0), "asked to stop"));
    guest.publishStatus(busy.withState(RunnerStatus.State.STOPPING));
    guest.publishStatus(ended);
    assertEquals(java.util.Optional.of(ended), host.consumeStatus(id), "the newest wins");
  }

  @Test
  void statusMustNotCarryASecretFromTheEnv() throws IOException {
    guest.consumeEnv();

    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> guest.publishStatus(RunnerStatus.starting().withJobStarted(secret.reveal())));

    assertFalse(e.getMessage().contains(secret.reveal()));
    assertFalse(Files.exists(host.path().resolve("2-guest123.sta")));
  }

  @Test
  void terminationRequestedOnlyForTheSecret() throws IOException {
    assertFalse(guest.terminationRequested(secret));

    host.requestTermination(id, LoopSecret.generate());
    assertFalse(guest.terminationRequested(secret));
    assertFalse(
        Files.exists(host.path().resolve("2-guest123.trm")), "a wrong terminate file is removed");

    host.requestTermination(id, secret);
    assertTrue(guest.terminationRequested(secret));
    assertFalse(Files.exists(host.path().resolve("2-guest123.trm")));
  }

  @Test
  void terminationAcceptsOneTrailingNewline() throws IOException {
    Files.writeString(host.path().resolve("2-guest123.trm"), secret.reveal() + "\n");

    assertTrue(guest.terminationRequested(secret));
  }

  @Test
  void watchRunsTheHandlerOnceWhenTheHostAsks() throws IOException {
    var calls = new AtomicInteger();
    TerminationWatch watch =
        guest.watchTermination(secret, Duration.ofMillis(20), calls::incrementAndGet);
    try {
      host.requestTermination(id, LoopSecret.generate());
      await().until(() -> !Files.exists(host.path().resolve("2-guest123.trm")));
      assertEquals(0, calls.get(), "a wrong secret does not terminate");

      host.requestTermination(id, secret);
      await().until(() -> calls.get() == 1);

      host.requestTermination(id, secret);
      await()
          .during(Duration.ofMillis(200))
          .atMost(Duration.ofSeconds(2))
          .until(() -> calls.get() == 1);
      assertTrue(Files.exists(host.path().resolve("2-guest123.trm")), "polling stopped");
    } finally {
      watch.close();
    }
  }

  @Test
  void handlerMayCloseItsOwnWatchWithoutBeingInterrupted() throws IOException {
    var watch = new java.util.concurrent.atomic.AtomicReference<TerminationWatch>();
    var interrupted = new java.util.concurrent.CompletableFuture<Boolean>();
    watch.set(
        guest.watchTermination(
            secret,
            Duration.ofMillis(10),
            () -> {
              watch.get().close();
              interrupted.complete(Thread.currentThread().isInterrupted());
            }));

    host.requestTermination(id, secret);

    await().until(interrupted::isDone);
    assertFalse(interrupted.join());
  }

  @Test
  void closedWatchStopsPolling() throws IOException {
    var calls = new AtomicInteger();
    TerminationWatch watch =
        guest.watchTermination(secret, Duration.ofMillis(10), calls::incrementAndGet);
    watch.close();

    host.requestTermination(id, secret);

    await()
        .during(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(2))
        .until(() -> Files.exists(host.path().resolve("2-guest123.trm")));
    assertEquals(0, calls.get());
  }

  @Test
  void defaultPollIntervalIs200Milliseconds() {
    assertEquals(Duration.ofMillis(200), GuestHandshake.DEFAULT_POLL_INTERVAL);
    assertThrows(
        IllegalArgumentException.class,
        () -> guest.watchTermination(secret, Duration.ZERO, () -> {}));
  }

  @Test
  void breakRequestIsHonouredByTheHost() throws IOException {
    guest.requestBreak(secret);

    assertTrue(host.consumeBreak(id, secret));
  }
}
