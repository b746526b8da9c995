package dev.microrunner.vm;

import java.nio.file.Path;
import java.util.Objects;

/** A host directory or file shared with the VM. */
public record Mount(Path hostPath, String guestPath, boolean readOnly) {
  public Mount {
    Objects.requireNonNull(hostPath, "hostPath");
    Objects.requireNonNull(guestPath, "guestPath");
    if (!hostPath.isAbsolute()) {
      throw new IllegalArgumentException("mount host path must be absolute: " + hostPath);
    }
    if (!guestPath.startsWith("/")) {
      throw new IllegalArgumentException("mount guest path must be absolute: " + guestPath);
    }
    if (guestPath.contains(":") || hostPath.toString().contains(":")) {
      // podman and krunvm split HOST:GUEST[:OPTIONS] on ':'.
      throw new IllegalArgumentException(
          "mount paths must not contain ':': " + hostPath + " -> " + guestPath);
    }
  }
}
