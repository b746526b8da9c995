package dev.microrunner.handshake;

import java.nio.file.Path;

/**
 * A protocol file is not what the protocol allows: a symbolic link, a FIFO, a directory, too large,
 * and so on. It was neither followed nor opened beyond the bounded checks.
 */
public class UnsafeFileException extends HandshakeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public UnsafeFileException(Path file, String reason) {
    super("unsafe protocol file " + file + ": " + reason);
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
