package dev.microrunner.handshake;

/**
 * A {@code .env} text does not follow the format {@link EnvFile#render} writes. Unchecked so that
 * {@link EnvFile#parse(String)} keeps the agreed signature; file-level callers wrap it in a {@link
 * HandshakeException} naming the file.
 */
public class EnvFileFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final int lineNumber;

  public EnvFileFormatException(int lineNumber, String problem) {
    super("line " + lineNumber + ": " + problem);
    this.lineNumber = lineNumber;
  }

  /** The 1-based line on which the problem was found. */
  public int lineNumber() {
    return lineNumber;
  }
}
