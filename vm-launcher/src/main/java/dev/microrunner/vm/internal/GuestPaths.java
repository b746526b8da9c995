package dev.microrunner.vm.internal;

import dev.microrunner.vm.Mount;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Maps guest paths onto host paths through a spec's mounts, for runtimes whose "guest" is the host
 * (process, and the fake krunvm in tests). Only whole path components match: {@code /_environmentX}
 * is not under {@code /_environment}, nor is {@code /_environment/../x}.
 */
final class GuestPaths {
  private final List<Mount> mountsLongestFirst;

  GuestPaths(List<Mount> mounts) {
    this.mountsLongestFirst =
        mounts.stream()
            .sorted(Comparator.comparingInt((Mount m) -> m.guestPath().length()).reversed())
            .collect(Collectors.toList());
  }

  /** The host path for a value that is a guest path under a mount; other values unchanged. */
  String toHost(String value) {
    if (value.startsWith("/") && value.contains("..")) {
      // In a VM, /_environment/../x is /x: mapping it textually would reach beside the mount.
      String normalized;
      try {
        normalized = Path.of(value).normalize().toString();
      } catch (InvalidPathException e) {
        return value;
      }
      String mapped = mapNormalized(normalized);
      return mapped.equals(normalized) ? value : mapped;
    }
    return mapNormalized(value);
  }

  private String mapNormalized(String value) {
    for (Mount mount : mountsLongestFirst) {
      String guest = mount.guestPath();
      if (value.equals(guest)) {
        return mount.hostPath().toString();
      }
      if (value.startsWith(guest.endsWith("/") ? guest : guest + "/")) {
        String rest = value.substring(guest.length()).replaceFirst("^/+", "");
        return mount.hostPath().resolve(rest).toString();
      }
    }
    return value;
  }
}
