package dev.microrunner.handshake;

/** The protocol files of one runner, each named {@code <runner id>.<extension>}. */
public enum HandshakeFile {
  /** Host to VM: the runner's configuration, including the loop secret. */
  ENV("env", 64 * 1024),
  /** VM to host: the runner is registered. Holds nothing reusable. */
  TOKEN("tkn", 4 * 1024),
  /** VM to host: stop the loop after this VM. Holds the loop secret. */
  BREAK("brk", 4 * 1024),
  /** Host to VM: stop the runner now. Holds the loop secret. */
  TERMINATE("trm", 4 * 1024),
  /**
   * VM to host: the runner's state and, once it ended, how ({@link RunnerStatus}). Rewritten on
   * every change; holds nothing secret, and the host trusts it only with its own loop's behaviour.
   */
  STATUS("sta", 4 * 1024);

  private final String extension;
  private final int maxBytes;

  HandshakeFile(String extension, int maxBytes) {
    this.extension = extension;
    this.maxBytes = maxBytes;
  }

  /** The file name extension without the dot, e.g. {@code "tkn"}. */
  public String extension() {
    return extension;
  }

  /** The largest content accepted when reading this file; anything larger is unsafe. */
  public int maxBytes() {
    return maxBytes;
  }
}
