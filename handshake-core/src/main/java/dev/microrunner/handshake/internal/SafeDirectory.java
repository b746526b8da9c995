package dev.microrunner.handshake.internal;

import dev.microrunner.handshake.HandshakeException;
import dev.microrunner.handshake.UnsafeFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File operations in a directory that another party (the guest) can write at any moment.
 *
 * <p>Writes go to a fresh temporary file created with {@code O_CREAT|O_EXCL|O_NOFOLLOW} and are
 * renamed over the target: a planted symbolic or hard link at the target name is replaced, never
 * written through.
 *
 * <p>Reads first check the entry with {@code lstat}, then <em>claim</em> it by renaming it to an
 * unpredictable name, check the claimed entry again and only then open it with {@code O_NOFOLLOW},
 * reading at most the bound plus one byte. On the host the claim directory is private (outside the
 * guest's reach), so once claimed the entry's type can no longer change and only a regular file is
 * ever opened. In the guest the claim stays in the shared directory, so the claimed name could
 * still be swapped; there the file is opened read-write, which on Linux returns at once even for a
 * FIFO, and the channel is then probed with {@code lseek}, which fails on a FIFO.
 */
public final class SafeDirectory {
  private static final Logger LOG = LoggerFactory.getLogger(SafeDirectory.class);
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  private static final FileAttribute<Set<PosixFilePermission>> OWNER_READ_WRITE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final int CREATE_ATTEMPTS = 16;
  private static final String NONCE_CHARS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final int NONCE_LENGTH = 16;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path directory;
  private final Path claimDirectory;
  private final boolean claimDirectoryPrivate;
  private final Supplier<String> nonces;

  private SafeDirectory(
      Path directory, Path claimDirectory, boolean claimDirectoryPrivate, Supplier<String> nonces) {
    this.directory = directory;
    this.claimDirectory = claimDirectory;
    this.claimDirectoryPrivate = claimDirectoryPrivate;
    this.nonces = nonces;
  }

  /** Host side: claimed files move to {@code privateDirectory}, on the same file system. */
  public static SafeDirectory withPrivateClaims(Path directory, Path privateDirectory) {
    return new SafeDirectory(directory, privateDirectory, true, SafeDirectory::nonce);
  }

  /** Guest side: no private directory on the shared file system, claims stay in place. */
  public static SafeDirectory withSharedClaims(Path directory) {
    return new SafeDirectory(directory, directory, false, SafeDirectory::nonce);
  }

  /** As {@link #withPrivateClaims} with a chosen source of temporary-name nonces, for tests. */
  public static SafeDirectory withPrivateClaims(
      Path directory, Path privateDirectory, Supplier<String> nonces) {
    return new SafeDirectory(directory, privateDirectory, true, nonces);
  }

  /** As {@link #withSharedClaims} with a chosen source of name nonces, for tests. */
  public static SafeDirectory withSharedClaims(Path directory, Supplier<String> nonces) {
    return new SafeDirectory(directory, directory, false, nonces);
  }

  public Path directory() {
    return directory;
  }

  /** An unpredictable name part: 16 alphanumerics (about 95 bits). */
  public static String nonce() {
    var out = new StringBuilder(NONCE_LENGTH);
    for (int i = 0; i < NONCE_LENGTH; i++) {
      out.append(NONCE_CHARS.charAt(RANDOM.nextInt(NONCE_CHARS.length())));
    }
    return out.toString();
  }

  /** Writes {@code content} to {@code name} (mode 0600) by temporary file and atomic rename. */
  public void writeAtomically(String name, byte[] content) throws IOException {
    Path target = directory.resolve(name);
    for (int attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
      Path temporary = directory.resolve("." + name + "." + nonces.get() + ".tmp");
      SeekableByteChannel channel;
      try {
        channel =
            Files.newByteChannel(
                temporary,
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW),
                OWNER_READ_WRITE);
      } catch (FileAlreadyExistsException e) {
        LOG.warn("Temporary name {} already exists; trying another", temporary);
        continue;
      }
      // Written through the descriptor that created the file: reopening the name could meet a
      // FIFO or link swapped in by the guest.
      boolean renamed = false;
      try {
        try (channel) {
          var buffer = ByteBuffer.wrap(content);
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
        }
        try {
          Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
          renamed = true;
        } catch (FileSystemException e) {
          throw new UnsafeFileException(
              target, "could not be replaced (" + describe(target) + "): " + e.getReason());
        }
      } finally {
        if (!renamed) {
          removeEntry(temporary);
        }
      }
      return;
    }
    throw new HandshakeException(
        "could not create a temporary file for "
            + target
            + " after "
            + CREATE_ATTEMPTS
            + " attempts: every name was taken");
  }

  /** Whether {@code name} is a regular file (symbolic links are not followed). */
  public boolean isRegularFile(String name) throws IOException {
    try {
      return Files.readAttributes(directory.resolve(name), BasicFileAttributes.class, NOFOLLOW)
          .isRegularFile();
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  /**
   * Takes {@code name} out of the directory and returns its content when it is a regular file of at
   * most {@code maxBytes}. The entry is gone afterwards whatever it was (a non-empty directory is
   * left in place: it is never removed recursively).
   */
  public ReadResult claimAndRead(String name, int maxBytes) throws IOException {
    Path source = directory.resolve(name);
    BasicFileAttributes seen;
    try {
      seen = Files.readAttributes(source, BasicFileAttributes.class, NOFOLLOW);
    } catch (NoSuchFileException e) {
      return new ReadResult.Missing();
    }
    if (!seen.isRegularFile()) {
      String reason = "is " + kind(seen) + ", not a regular file";
      removeEntry(source);
      return new ReadResult.Unsafe(reason);
    }
    Path claimed = claimDirectory.resolve("." + name + "." + nonces.get() + ".claimed");
    try {
      Files.move(source, claimed, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      if (!Files.isDirectory(claimDirectory, NOFOLLOW)) {
        throw new HandshakeException(
            "cannot claim " + source + ": claim directory " + claimDirectory + " is missing", e);
      }
      return new ReadResult.Missing();
    } catch (AtomicMoveNotSupportedException e) {
      throw new HandshakeException(
          "cannot claim " + source + ": " + claimDirectory + " is on another file system", e);
    }
    try {
      return readClaimed(claimed, maxBytes);
    } finally {
      removeEntry(claimed);
    }
  }

  private ReadResult readClaimed(Path claimed, int maxBytes) throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(claimed, BasicFileAttributes.class, NOFOLLOW);
    } catch (NoSuchFileException e) {
      return new ReadResult.Unsafe("was removed while being read");
    }
    if (!attributes.isRegularFile()) {
      return new ReadResult.Unsafe("was swapped for " + kind(attributes) + " while being read");
    }
    if (attributes.size() > maxBytes) {
      return new ReadResult.Unsafe(
          "holds " + attributes.size() + " bytes; at most " + maxBytes + " are allowed");
    }
    Set<OpenOption> options =
        claimDirectoryPrivate
            ? Set.of(StandardOpenOption.READ, NOFOLLOW)
            : Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE, NOFOLLOW);
    try (SeekableByteChannel channel =
        Files.newByteChannel(claimed, options, new FileAttribute<?>[0])) {
      // lseek fails on a FIFO or socket, so this proves a seekable (regular) file was opened.
      channel.position(0);
      var buffer = ByteBuffer.allocate(maxBytes + 1);
      while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
        // read until the bound plus one byte or end of file
      }
      if (buffer.position() > maxBytes) {
        return new ReadResult.Unsafe("holds more than " + maxBytes + " bytes");
      }
      byte[] bytes = new byte[buffer.position()];
      buffer.flip().get(bytes);
      return new ReadResult.Content(bytes);
    } catch (NoSuchFileException e) {
      return new ReadResult.Unsafe("was removed while being read");
    } catch (FileSystemException e) {
      return new ReadResult.Unsafe("could not be opened as a regular file: " + e.getReason());
    } catch (IOException e) {
      return new ReadResult.Unsafe("is not a regular file: " + e.getMessage());
    }
  }

  /**
   * Removes one entry without following it. A directory is removed only when empty; a non-empty one
   * is logged and left (never a recursive delete in a directory the guest can write).
   */
  public void removeEntry(Path entry) throws IOException {
    try {
      Files.deleteIfExists(entry);
    } catch (DirectoryNotEmptyException e) {
      LOG.warn(
          "Left non-empty directory {} in place; it is removed with the loop directory", entry);
    }
  }

  private static String describe(Path path) {
    try {
      return "it is " + kind(Files.readAttributes(path, BasicFileAttributes.class, NOFOLLOW));
    } catch (IOException e) {
      return "it cannot be examined";
    }
  }

  static String kind(BasicFileAttributes attributes) {
    if (attributes.isSymbolicLink()) {
      return "a symbolic link";
    }
    if (attributes.isDirectory()) {
      return "a directory";
    }
    if (attributes.isRegularFile()) {
      return "a regular file";
    }
    return "a special file (FIFO, socket or device)";
  }
}
