package dev.microrunner.handshake.internal;

/** What reading one hostile protocol file produced. */
public sealed interface ReadResult {
  /** No such name in the directory. */
  record Missing() implements ReadResult {}

  /** The entry was not a regular file of bounded size; it was removed without being followed. */
  record Unsafe(String reason) implements ReadResult {}

  /**
   * A regular file's bytes, at most the bound. A class, since a record compares arrays by identity.
   */
  final class Content implements ReadResult {
    private final byte[] bytes;

    public Content(byte[] bytes) {
      this.bytes = bytes.clone();
    }

    public byte[] bytes() {
      return bytes.clone();
    }
  }
}
