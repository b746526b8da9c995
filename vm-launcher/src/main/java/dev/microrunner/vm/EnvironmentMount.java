package dev.microrunner.vm;

import java.nio.file.Path;

/** The {@code /_environment} wiring: a runner loop's directory, as the VM sees it. */
public final class EnvironmentMount {
  public static final String GUEST_PATH = "/_environment";

  private EnvironmentMount() {}

  /** The read-write mount of a loop directory at {@value #GUEST_PATH}. */
  public static Mount of(Path loopDirectory) {
    return new Mount(loopDirectory.toAbsolutePath().normalize(), GUEST_PATH, false);
  }

  /** The guest path of a handshake file, e.g. {@code /_environment/3-k2J9xQa.env}. */
  public static String guestPath(String fileName) {
    if (fileName.isEmpty() || fileName.contains("/") || fileName.equals("..")) {
      throw new IllegalArgumentException("not a plain file name: " + fileName);
    }
    return GUEST_PATH + "/" + fileName;
  }
}
