package dev.microrunner.handshake;

import dev.microrunner.handshake.internal.Printable;
import dev.microrunner.handshake.internal.ReadResult;
import dev.microrunner.handshake.internal.SafeDirectory;
import dev.microrunner.handshake.internal.SecretFileContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-VM agent's side of the protocol, for the runner named by its {@code .env} file. The
 * directory is shared with the host, and in the VM possibly with workflow code: reads are bounded,
 * never follow links and never block on a FIFO.
 */
public final class GuestHandshake {
  /** The agreed default: the host should see the VM react within a quarter of a second. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(200);

  private static final Logger LOG = LoggerFactory.getLogger(GuestHandshake.class);
  private static final List<String> SECRET_KEYS =
      List.of(EnvFile.RUNNER_SECRET, EnvFile.RUNNER_JITCONFIG, EnvFile.RUNNER_TOKEN);

  private final Path directory;
  private final RunnerId runnerId;
  private final SafeDirectory files;
  private final List<String> secretsFromEnv = new CopyOnWriteArrayList<>();

  private GuestHandshake(Path directory, RunnerId runnerId) {
    this.directory = directory;
    this.runnerId = runnerId;
    this.files = SafeDirectory.withSharedClaims(directory);
  }

  /**
   * The handshake for {@code envFile}, e.g. {@code /_environment/3-k2J9xQa.env}.
   *
   * @throws IllegalArgumentException if the name is not {@code <runner id>.env} in a directory
   */
  public static GuestHandshake forEnvFile(Path envFile) {
    Objects.requireNonNull(envFile, "envFile");
    Path name = envFile.getFileName();
    Path directory = envFile.toAbsolutePath().normalize().getParent();
    String suffix = "." + HandshakeFile.ENV.extension();
    if (name == null || directory == null || !name.toString().endsWith(suffix)) {
      throw new IllegalArgumentException(
          "not a runner env file (expected <dir>/<loop>-<random>.env): "
              + Printable.quote(envFile.toString()));
    }
    String text = name.toString();
    RunnerId id;
    try {
      id = RunnerId.parse(text.substring(0, text.length() - suffix.length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "not a runner env file " + Printable.quote(envFile.toString()) + ": " + e.getMessage(),
          e);
    }
    return new GuestHandshake(directory, id);
  }

  public RunnerId runnerId() {
    return runnerId;
  }

  public Path directory() {
    return directory;
  }

  /**
   * Reads {@code <id>.env} and removes it, so nothing started later can read it.
   *
   * @throws HandshakeException if it is missing or malformed; {@link UnsafeFileException} if it is
   *     not a regular file of at most 64 KiB
   */
  public Map<String, String> consumeEnv() throws IOException {
    Path file = path(HandshakeFile.ENV);
    ReadResult result =
        files.claimAndRead(file.getFileName().toString(), HandshakeFile.ENV.maxBytes());
    if (result instanceof ReadResult.Missing) {
      throw new HandshakeException("runner env file " + file + " does not exist");
    }
    if (result instanceof ReadResult.Unsafe unsafe) {
      throw new UnsafeFileException(file, unsafe.reason());
    }
    byte[] bytes = ((ReadResult.Content) result).bytes();
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new HandshakeException("runner env file " + file + " is not valid UTF-8", e);
    }
    Map<String, String> values;
    try {
      values = EnvFile.parse(text);
    } catch (EnvFileFormatException e) {
      throw new HandshakeException("runner env file " + file + ", " + e.getMessage(), e);
    }
    for (String key : SECRET_KEYS) {
      String value = values.get(key);
      if (value != null && !value.isEmpty()) {
        secretsFromEnv.add(value);
      }
    }
    return values;
  }

  /**
   * Writes {@code <id>.tkn}. The content is for people reading the directory (e.g. the runner
   * name); it must not contain the loop secret, JIT config or token read by {@link #consumeEnv()}.
   */
  public void publishRegistration(String nonSecretContent) throws IOException {
    Objects.requireNonNull(nonSecretContent, "nonSecretContent");
    for (String secret : secretsFromEnv) {
      if (nonSecretContent.contains(secret)) {
        throw new IllegalArgumentException(
            "registration content for " + runnerId + " must not contain a secret from its env");
      }
    }
    byte[] content = nonSecretContent.getBytes(StandardCharsets.UTF_8);
    if (content.length > HandshakeFile.TOKEN.maxBytes()) {
      throw new IllegalArgumentException(
          "registration content for "
              + runnerId
              + " is "
              + content.length
              + " bytes; at most "
              + HandshakeFile.TOKEN.maxBytes()
              + " are allowed");
    }
    files.writeAtomically(runnerId.fileName(HandshakeFile.TOKEN), content);
  }

  /**
   * Writes {@code <id>.sta}, replacing the last status. Like the registration file it must hold no
   * secret read from the env file: a job's name comes from the workflow, which could quote one.
   */
  public void publishStatus(RunnerStatus status) throws IOException {
    Objects.requireNonNull(status, "status");
    String text = EnvFile.render(status.toEntries());
    for (String secret : secretsFromEnv) {
      if (text.contains(secret)) {
        throw new IllegalArgumentException(
            "status of " + runnerId + " must not contain a secret from its env");
      }
    }
    byte[] content = text.getBytes(StandardCharsets.UTF_8);
    if (content.length > HandshakeFile.STATUS.maxBytes()) {
      throw new IllegalArgumentException(
          "status of "
              + runnerId
              + " is "
              + content.length
              + " bytes; at most "
              + HandshakeFile.STATUS.maxBytes()
              + " are allowed");
    }
    files.writeAtomically(runnerId.fileName(HandshakeFile.STATUS), content);
  }

  /**
   * One poll for {@code <id>.trm}. Whatever is found is removed; true only when it is a regular
   * file holding the secret (one trailing newline allowed). Anything else is logged and ignored.
   */
  public boolean terminationRequested(LoopSecret secret) throws IOException {
    Objects.requireNonNull(secret, "secret");
    Path file = path(HandshakeFile.TERMINATE);
    ReadResult result =
        files.claimAndRead(file.getFileName().toString(), HandshakeFile.TERMINATE.maxBytes());
    if (result instanceof ReadResult.Content content) {
      if (SecretFileContent.holds(secret, content.bytes())) {
        return true;
      }
      LOG.warn("Ignored {}: it does not hold the loop secret", file);
    } else if (result instanceof ReadResult.Unsafe unsafe) {
      LOG.warn("Ignored {}: it {}", file, unsafe.reason());
    }
    return false;
  }

  /**
   * As {@link #watchTermination(LoopSecret, Duration, Runnable)} every {@link
   * #DEFAULT_POLL_INTERVAL}.
   */
  public TerminationWatch watchTermination(LoopSecret secret, Runnable onTermination) {
    return watchTermination(secret, DEFAULT_POLL_INTERVAL, onTermination);
  }

  /**
   * Polls for a valid terminate file on a daemon thread and runs {@code onTermination} once, on
   * that thread, when it arrives; polling then stops. I/O errors are logged and polling goes on.
   * After {@link TerminationWatch#close()} the handler never runs.
   */
  public TerminationWatch watchTermination(
      LoopSecret secret, Duration pollInterval, Runnable onTermination) {
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(onTermination, "onTermination");
    if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("poll interval must be positive, got " + pollInterval);
    }
    ScheduledExecutorService poller =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "microrunner-trm-watch-" + runnerId);
              thread.setDaemon(true);
              return thread;
            });
    var done = new AtomicBoolean();
    // Ended by the poller's shutdown; the task catches what it throws itself.
    var unused =
        poller.scheduleWithFixedDelay(
            () -> {
              if (done.get()) {
                return;
              }
              try {
                if (!terminationRequested(secret) || !done.compareAndSet(false, true)) {
                  return;
                }
              } catch (IOException | RuntimeException e) {
                // An exception escaping a scheduled task would end the polling for good.
                LOG.warn("Polling {} failed: {}", path(HandshakeFile.TERMINATE), e.toString());
                return;
              }
              poller.shutdown();
              try {
                onTermination.run();
              } catch (RuntimeException e) {
                LOG.error("Termination handler for runner {} failed", runnerId, e);
              }
            },
            0,
            pollInterval.toNanos(),
            TimeUnit.NANOSECONDS);
    // shutdown, not shutdownNow: the handler may close the watch itself and must not be
    // interrupted by doing so.
    return () -> {
      done.set(true);
      poller.shutdown();
    };
  }

  /** Writes {@code <id>.brk} holding the secret: the host ends the loop after this VM. */
  public void requestBreak(LoopSecret secret) throws IOException {
    Objects.requireNonNull(secret, "secret");
    files.writeAtomically(
        runnerId.fileName(HandshakeFile.BREAK), secret.reveal().getBytes(StandardCharsets.UTF_8));
  }

  private Path path(HandshakeFile file) {
    return directory.resolve(runnerId.fileName(file));
  }
}
