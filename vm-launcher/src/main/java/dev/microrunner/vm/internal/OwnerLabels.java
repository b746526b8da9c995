package dev.microrunner.vm.internal;

import dev.microrunner.vm.VmOwner;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** A {@link VmOwner} as key/value pairs: podman labels, and the fields of ownership records. */
final class OwnerLabels {
  static final String PREFIX = "dev.microrunner.prefix";
  static final String HOST = "dev.microrunner.host";
  static final String INSTANCE = "dev.microrunner.instance";
  static final String PID = "dev.microrunner.pid";
  static final String PID_START = "dev.microrunner.pid-start";

  private OwnerLabels() {}

  static Map<String, String> of(VmOwner owner) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(PREFIX, owner.prefix());
    labels.put(HOST, owner.host());
    labels.put(INSTANCE, owner.instanceId());
    labels.put(PID, Long.toString(owner.pid()));
    labels.put(PID_START, Long.toString(owner.processStartMillis()));
    return labels;
  }

  /** Empty when the labels are missing or malformed: such a VM is not ours to touch. */
  static Optional<VmOwner> parse(Map<String, String> labels) {
    if (labels == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new VmOwner(
              labels.get(PREFIX),
              labels.get(HOST),
              labels.get(INSTANCE),
              Long.parseLong(labels.get(PID)),
              Long.parseLong(labels.getOrDefault(PID_START, "0"))));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }
}
