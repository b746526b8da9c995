package dev.microrunner.vm.internal;

import dev.microrunner.vm.VmOwner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Ownership of process-runtime workloads, carried in the workload's environment the way podman
 * carries it in labels: every process of a VM inherits {@code MICRORUNNER_VM} and {@code
 * MICRORUNNER_OWNER}, and {@code /proc/<pid>/environ} shows the environment a process was started
 * with. Nothing is written on the start path, and a VM whose processes have all ended leaves
 * nothing stale behind.
 */
final class WorkloadMarkers {
  static final String VM = "MICRORUNNER_VM";
  static final String OWNER = "MICRORUNNER_OWNER";

  private static final byte[] VM_ENTRY = (VM + "=").getBytes(StandardCharsets.US_ASCII);
  private static final byte[] OWNER_ENTRY = (OWNER + "=").getBytes(StandardCharsets.US_ASCII);
  private static final Path PROC = Path.of("/proc");

  /** A live process that carries a VM's markers. */
  record Marked(ProcessHandle process, String vmName, VmOwner owner) {}

  private WorkloadMarkers() {}

  static Map<String, String> of(String vmName, VmOwner owner) {
    return Map.of(VM, vmName, OWNER, encode(owner));
  }

  /** VmOwner's fields are letters, digits, '_', '.', '-' and numbers, so ':' separates them. */
  static String encode(VmOwner owner) {
    return String.join(
        ":",
        owner.prefix(),
        owner.host(),
        owner.instanceId(),
        Long.toString(owner.pid()),
        Long.toString(owner.processStartMillis()));
  }

  /** Empty when malformed: such a process is not ours to touch. */
  static Optional<VmOwner> decode(String value) {
    String[] fields = value.split(":", -1);
    if (fields.length != 5) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new VmOwner(
              fields[0],
              fields[1],
              fields[2],
              Long.parseLong(fields[3]),
              Long.parseLong(fields[4])));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * The live processes that carry both markers, except this JVM. Processes that end during the
   * scan, belong to another user or cannot be read are skipped; without {@code /proc} (not Linux)
   * nothing is found.
   */
  static List<Marked> scan() {
    long self = ProcessHandle.current().pid();
    List<Marked> found = new ArrayList<>();
    ProcessHandle.allProcesses()
        .filter(process -> process.pid() != self)
        .forEach(process -> read(process).ifPresent(found::add));
    return found;
  }

  private static Optional<Marked> read(ProcessHandle process) {
    byte[] environ;
    try {
      environ = Files.readAllBytes(PROC.resolve(Long.toString(process.pid())).resolve("environ"));
    } catch (IOException | SecurityException e) {
      return Optional.empty();
    }
    String vmName = value(environ, VM_ENTRY);
    String owner = value(environ, OWNER_ENTRY);
    if (vmName == null || vmName.isEmpty() || owner == null) {
      return Optional.empty();
    }
    // The handle carries the start time it was listed with, so isAlive() is false when the pid
    // was reused before the read: then the environment read was another process's.
    if (!process.isAlive()) {
      return Optional.empty();
    }
    return decode(owner).map(vmOwner -> new Marked(process, vmName, vmOwner));
  }

  /** The value of the NUL-separated entry that starts with {@code prefix}, or null. */
  private static String value(byte[] environ, byte[] prefix) {
    int start = 0;
    while (start < environ.length) {
      int end = start;
      while (end < environ.length && environ[end] != 0) {
        end++;
      }
      if (startsWith(environ, start, end, prefix)) {
        return new String(
            environ, start + prefix.length, end - start - prefix.length, StandardCharsets.UTF_8);
      }
      start = end + 1;
    }
    return null;
  }

  private static boolean startsWith(byte[] environ, int start, int end, byte[] prefix) {
    if (end - start < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (environ[start + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
