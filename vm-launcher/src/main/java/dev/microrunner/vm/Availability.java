package dev.microrunner.vm;

import java.util.Objects;

/** Whether a runtime can be used on this host, and why not when it cannot. */
public record Availability(boolean available, String reason) {
  public Availability {
    Objects.requireNonNull(reason, "reason");
  }

  public static Availability available(String detail) {
    return new Availability(true, detail);
  }

  public static Availability unavailable(String reason) {
    return new Availability(false, reason);
  }
}
