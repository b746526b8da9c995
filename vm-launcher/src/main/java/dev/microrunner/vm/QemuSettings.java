package dev.microrunner.vm;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Settings of the {@code qemu} runtime. They travel as variables in {@link
 * RuntimeOptions#environment()} (so that an orchestrator passes them on like any other runtime
 * setting) and may also come from this process's environment, e.g. a systemd unit's; the options
 * win.
 *
 * <ul>
 *   <li>{@value #ACCEL}: {@code kvm}, {@code tcg} or {@code auto} (the default: KVM when it works,
 *       else the runtime is unavailable). TCG is never chosen unless asked for.
 *   <li>{@value #KERNEL}: the guest kernel (a distribution's {@code vmlinuz}); default: the newest
 *       {@code /boot/vmlinuz-*} whose modules are installed.
 *   <li>{@value #CACHE}: where kernels, initramfs and root file systems are cached; default {@code
 *       $XDG_CACHE_HOME/microrunner/qemu} or {@code ~/.cache/microrunner/qemu}.
 * </ul>
 */
public final class QemuSettings {
  public static final String ACCEL = "MICRORUNNER_QEMU_ACCEL";
  public static final String KERNEL = "MICRORUNNER_QEMU_KERNEL";
  public static final String CACHE = "MICRORUNNER_QEMU_CACHE";

  /** How guest code runs. */
  public enum Accel {
    /** KVM if it really works here, else unavailable. */
    AUTO,
    KVM,
    /** QEMU's emulator: 10-25 times slower; for tests and demos on hosts without KVM. */
    TCG;

    /** {@code kvm}, {@code tcg} or {@code auto}, in any case. */
    public static Accel parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown QEMU acceleration '" + value + "'; valid: kvm, tcg, auto", e);
      }
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private QemuSettings() {}

  /** The runtime-environment entries for these settings; empty ones are left out. */
  public static Map<String, String> of(
      Optional<Accel> accel, Optional<Path> kernel, Optional<Path> cache) {
    Map<String, String> entries = new LinkedHashMap<>();
    accel.ifPresent(a -> entries.put(ACCEL, a.word()));
    kernel.ifPresent(k -> entries.put(KERNEL, k.toAbsolutePath().toString()));
    cache.ifPresent(c -> entries.put(CACHE, c.toAbsolutePath().toString()));
    return entries;
  }

  /** A setting from the options, else from this process's environment. */
  public static Optional<String> lookUp(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null || value.isBlank()) {
      value = System.getenv(name);
    }
    return Optional.ofNullable(value).filter(v -> !v.isBlank());
  }
}
