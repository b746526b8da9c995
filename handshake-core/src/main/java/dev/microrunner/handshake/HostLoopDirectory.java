package dev.microrunner.handshake;

import dev.microrunner.handshake.internal.DirectoryChanges;
import dev.microrunner.handshake.internal.ReadResult;
import dev.microrunner.handshake.internal.SafeDirectory;
import dev.microrunner.handshake.internal.SecretFileContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.file.PathUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's side of one loop directory, the directory mounted at {@code /_environment} in that
 * loop's VMs. Everything in it is treated as hostile: see {@code docs/protocol.md}.
 *
 * <p>Files read from the directory are first moved to a private claim directory beside it, {@code
 * .<name>.claims} (mode 0700), which no VM can see. The parent of the loop directory must therefore
 * not be reachable from a VM, as the orchestrator's base directory (0700, never mounted) is not.
 *
 * <p>{@link #awaitRegistration} keeps a watch on the directory (one watch service serves every
 * directory of the process) for the object's lifetime; {@link #close()} or {@link
 * #deleteAfterVmsEnded()} releases it.
 */
public final class HostLoopDirectory implements AutoCloseable {
  /** How often the directory is listed while waiting; the watch service only wakes us earlier. */
  public static final Duration REGISTRATION_POLL_INTERVAL = Duration.ofMillis(10);

  private static final Logger LOG = LoggerFactory.getLogger(HostLoopDirectory.class);
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

  private final Path path;
  private final Path claims;
  private final int loop;
  private final SafeDirectory files;
  private DirectoryChanges.Subscription changes;
  private boolean watchClosed;

  private HostLoopDirectory(Path path, Path claims, int loop, SafeDirectory files) {
    this.path = path;
    this.claims = claims;
    this.loop = loop;
    this.files = files;
  }

  /**
   * Creates {@code dir} with mode 0700 (its parent must exist), or takes over an existing directory
   * and resets its mode to 0700.
   *
   * @throws UnsafeFileException if {@code dir} exists but is not a directory (a symbolic link, for
   *     instance)
   */
  public static HostLoopDirectory create(Path dir, int loop) throws IOException {
    Objects.requireNonNull(dir, "dir");
    if (loop < 1 || loop > RunnerId.MAX_LOOP) {
      throw new IllegalArgumentException(
          "runner loop number must be between 1 and " + RunnerId.MAX_LOOP + ", got " + loop);
    }
    Path path = dir.toAbsolutePath().normalize();
    Path parent = path.getParent();
    if (parent == null) {
      throw new IllegalArgumentException("loop directory must not be the root directory");
    }
    Path claims = parent.resolve("." + path.getFileName() + ".claims");
    createPrivateDirectory(path);
    createPrivateDirectory(claims);
    return new HostLoopDirectory(path, claims, loop, SafeDirectory.withPrivateClaims(path, claims));
  }

  private static void createPrivateDirectory(Path dir) throws IOException {
    var ownerOnly = PosixFilePermissions.fromString("rwx------");
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(ownerOnly));
    } catch (FileAlreadyExistsException e) {
      var attributes = Files.readAttributes(dir, BasicFileAttributes.class, NOFOLLOW);
      if (!attributes.isDirectory()) {
        throw new UnsafeFileException(dir, "exists and is not a directory");
      }
    }
    // Without following links: the entry checked above could have been swapped since.
    Files.getFileAttributeView(dir, PosixFileAttributeView.class, NOFOLLOW)
        .setPermissions(ownerOnly);
  }

  public Path path() {
    return path;
  }

  public int loop() {
    return loop;
  }

  /**
   * Writes {@code <id>.env} (mode 0600) by temporary file and atomic rename. The values must hold
   * {@link EnvFile#RUNNER_SECRET} and exactly one of {@link EnvFile#RUNNER_JITCONFIG} and {@link
   * EnvFile#RUNNER_TOKEN}.
   */
  public void writeEnv(RunnerId id, Map<String, String> values) throws IOException {
    checkLoop(id);
    Objects.requireNonNull(values, "values");
    if (!values.containsKey(EnvFile.RUNNER_SECRET)) {
      throw new IllegalArgumentException("env for runner " + id + " lacks RUNNER_SECRET");
    }
    if (values.containsKey(EnvFile.RUNNER_JITCONFIG) == values.containsKey(EnvFile.RUNNER_TOKEN)) {
      throw new IllegalArgumentException(
          "env for runner " + id + " needs exactly one of RUNNER_JITCONFIG and RUNNER_TOKEN");
    }
    byte[] content = EnvFile.render(values).getBytes(StandardCharsets.UTF_8);
    if (content.length > HandshakeFile.ENV.maxBytes()) {
      throw new IllegalArgumentException(
          "env for runner "
              + id
              + " is "
              + content.length
              + " bytes; at most "
              + HandshakeFile.ENV.maxBytes()
              + " are allowed");
    }
    files.writeAtomically(id.fileName(HandshakeFile.ENV), content);
  }

  /**
   * Waits until a {@code <loop>-*.tkn} regular file for this loop appears and returns its runner
   * id, or empty after {@code timeout}. The directory is listed every {@link
   * #REGISTRATION_POLL_INTERVAL}; file-system events only cut the wait short.
   */
  public Optional<RunnerId> awaitRegistration(Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      DirectoryChanges.Subscription changes = changes();
      long seen = changes == null ? 0 : changes.changes();
      Optional<RunnerId> found = findRegistration();
      long remaining = deadline - System.nanoTime();
      if (found.isPresent() || remaining <= 0) {
        return found;
      }
      long wait = Math.min(remaining, REGISTRATION_POLL_INTERVAL.toNanos());
      if (changes == null) {
        TimeUnit.NANOSECONDS.sleep(wait);
      } else {
        changes.awaitChangeAfter(seen, wait);
      }
    }
  }

  /** The wake-up hint, subscribed on first use and kept. Null when unavailable or closed. */
  private synchronized DirectoryChanges.Subscription changes() {
    if (changes == null && !watchClosed) {
      try {
        changes = DirectoryChanges.watch(path);
      } catch (IOException | RuntimeException e) {
        LOG.debug("No watch for {}; polling only: {}", path, e.toString());
        watchClosed = true;
      }
    }
    return changes;
  }

  /**
   * Stops watching the directory for {@link #awaitRegistration}; the directory and its files stay.
   * Further waits poll only.
   */
  @Override
  public synchronized void close() {
    watchClosed = true;
    if (changes != null) {
      changes.close();
      changes = null;
    }
  }

  private Optional<RunnerId> findRegistration() throws IOException {
    String prefix = loop + "-";
    String suffix = "." + HandshakeFile.TOKEN.extension();
    try (DirectoryStream<Path> entries =
        Files.newDirectoryStream(
            path,
            entry -> {
              String name = entry.getFileName().toString();
              return name.startsWith(prefix) && name.endsWith(suffix);
            })) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        Optional<RunnerId> id = tryParse(name.substring(0, name.length() - suffix.length()));
        if (id.isPresent() && id.get().loop() == loop && files.isRegularFile(name)) {
          return id;
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<RunnerId> tryParse(String text) {
    try {
      return Optional.of(RunnerId.parse(text));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Whether {@code <id>.tkn} is present as a regular file. */
  public boolean isRegistered(RunnerId id) throws IOException {
    checkLoop(id);
    return files.isRegularFile(id.fileName(HandshakeFile.TOKEN));
  }

  /** Writes {@code <id>.trm} holding the secret, replacing whatever entry had that name. */
  public void requestTermination(RunnerId id, LoopSecret secret) throws IOException {
    checkLoop(id);
    files.writeAtomically(
        id.fileName(HandshakeFile.TERMINATE), secret.reveal().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Reads and removes {@code <id>.brk}. True only when it is a regular file holding exactly the
   * secret (one trailing newline allowed); anything else is logged and answered false.
   */
  public boolean consumeBreak(RunnerId id, LoopSecret secret) throws IOException {
    checkLoop(id);
    String name = id.fileName(HandshakeFile.BREAK);
    ReadResult result = files.claimAndRead(name, HandshakeFile.BREAK.maxBytes());
    if (result instanceof ReadResult.Content content) {
      if (SecretFileContent.holds(secret, content.bytes())) {
        return true;
      }
      LOG.warn("Ignored {}: it does not hold the loop secret", path.resolve(name));
    } else if (result instanceof ReadResult.Unsafe unsafe) {
      LOG.warn("Ignored {}: it {}", path.resolve(name), unsafe.reason());
    }
    return false;
  }

  /**
   * Reads and removes {@code <id>.sta}, the newest status the VM wrote since the last call. Empty
   * when there is none, or when what is there is unsafe or not a status file (logged): the guest
   * writes it, so it may be anything.
   */
  public Optional<RunnerStatus> consumeStatus(RunnerId id) throws IOException {
    checkLoop(id);
    String name = id.fileName(HandshakeFile.STATUS);
    ReadResult result = files.claimAndRead(name, HandshakeFile.STATUS.maxBytes());
    if (result instanceof ReadResult.Unsafe unsafe) {
      LOG.warn("Ignored {}: it {}", path.resolve(name), unsafe.reason());
      return Optional.empty();
    }
    if (!(result instanceof ReadResult.Content content)) {
      return Optional.empty();
    }
    try {
      String text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(content.bytes()))
              .toString();
      return Optional.of(RunnerStatus.fromEntries(EnvFile.parse(text)));
    } catch (CharacterCodingException | IllegalArgumentException e) {
      LOG.warn("Ignored {}: not a status file ({})", path.resolve(name), e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Removes this runner's protocol files and leftover temporary files, without following links and
   * never recursively: a non-empty directory planted under a protocol name is left for {@link
   * #deleteAfterVmsEnded()}.
   */
  public void removeRunnerFiles(RunnerId id) throws IOException {
    checkLoop(id);
    for (HandshakeFile file : HandshakeFile.values()) {
      files.removeEntry(path.resolve(id.fileName(file)));
    }
    String temporaryPrefix = "." + id + ".";
    try (DirectoryStream<Path> entries =
        Files.newDirectoryStream(
            path, entry -> entry.getFileName().toString().startsWith(temporaryPrefix))) {
      for (Path entry : entries) {
        files.removeEntry(entry);
      }
    }
  }

  /**
   * Deletes the loop directory and its claim directory with everything in them. Call only when no
   * VM of this loop runs. Links are removed, never followed.
   */
  public void deleteAfterVmsEnded() throws IOException {
    close();
    // PathUtils walks without following links: a planted link is removed, never its target.
    PathUtils.delete(path);
    PathUtils.delete(claims);
  }

  private void checkLoop(RunnerId id) {
    Objects.requireNonNull(id, "id");
    if (id.loop() != loop) {
      throw new IllegalArgumentException(
          "runner " + id + " does not belong to loop " + loop + " (" + path + ")");
    }
  }
}
