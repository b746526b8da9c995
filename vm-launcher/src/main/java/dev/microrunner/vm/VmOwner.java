package dev.microrunner.vm;

import dev.microrunner.vm.internal.ProcessStart;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The orchestrator instance a VM belongs to. Listing and cleanup only touch VMs whose owner is this
 * instance, or (through {@link MicroVmRuntime#listOrphans()}) a dead instance with the same prefix
 * on the same host.
 *
 * @param processStartMillis the owner process's start time (epoch milliseconds, 0 when unknown):
 *     with it, a reused pid does not make a dead owner look alive
 */
public record VmOwner(
    String prefix, String host, String instanceId, long pid, long processStartMillis) {

  private static final Pattern LABEL_VALUE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
  private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  public VmOwner {
    check("prefix", prefix);
    check("host", host);
    check("instanceId", instanceId);
    if (pid <= 0) {
      throw new IllegalArgumentException("owner pid must be positive, got " + pid);
    }
    if (processStartMillis < 0) {
      throw new IllegalArgumentException("owner process start time must not be negative");
    }
  }

  /** An owner without a known process start time (pid reuse then cannot be detected). */
  public VmOwner(String prefix, String host, String instanceId, long pid) {
    this(prefix, host, instanceId, pid, 0);
  }

  private static void check(String what, String value) {
    Objects.requireNonNull(value, what);
    if (!LABEL_VALUE.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "owner " + what + " '" + value + "' must be letters, digits, '_', '.' or '-'");
    }
  }

  /** This process as an owner: local host name, a fresh random instance id, pid and start time. */
  public static VmOwner forThisProcess(String prefix) {
    ProcessHandle self = ProcessHandle.current();
    return new VmOwner(
        prefix, localHostName(), randomInstanceId(), self.pid(), ProcessStart.millis(self));
  }

  /**
   * True while the owner process runs on this host and is still the same process (same start time,
   * when known). Owners on other hosts count as alive: nothing here can tell otherwise, and their
   * VMs must never be touched.
   */
  public boolean isAlive() {
    if (!host.equals(localHostName())) {
      return true;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    if (process.isEmpty() || !process.get().isAlive()) {
      return false;
    }
    return processStartMillis == 0 || ProcessStart.millis(process.get()) == processStartMillis;
  }

  /** True when {@code other} belongs to the same deployment: same prefix, same host. */
  public boolean sameDeployment(VmOwner other) {
    return prefix.equals(other.prefix) && host.equals(other.host);
  }

  static String localHostName() {
    return LocalHost.NAME;
  }

  /** Resolved once: the lookup can be slow, and liveness checks run per listed VM. */
  private static final class LocalHost {
    static final String NAME = lookUpHostName();
  }

  private static String lookUpHostName() {
    try {
      String name = InetAddress.getLocalHost().getHostName();
      return sanitize(name);
    } catch (UnknownHostException e) {
      String fromEnvironment = System.getenv("HOSTNAME");
      return fromEnvironment == null || fromEnvironment.isBlank()
          ? "localhost"
          : sanitize(fromEnvironment);
    }
  }

  private static String sanitize(String name) {
    String cleaned = name.replaceAll("[^A-Za-z0-9_.-]", "-");
    return LABEL_VALUE.matcher(cleaned).matches() ? cleaned : "host-" + cleaned;
  }

  private static String randomInstanceId() {
    char[] id = new char[12];
    for (int i = 0; i < id.length; i++) {
      id[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
    }
    return new String(id);
  }
}
