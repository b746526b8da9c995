package dev.microrunner.cli;

import dev.microrunner.loop.InvalidSettingException;
import dev.microrunner.vm.QemuSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --accel} and {@code --kernel}: the qemu runtime's settings, for its runtime options. */
public final class QemuOptions {

  @Option(
      names = "--accel",
      paramLabel = "kvm|tcg|auto",
      description =
          "qemu runtime: how guest code runs. auto (default): KVM when it really works, else the"
              + " runtime is unavailable; tcg: QEMU's emulator, 10-25 times slower, only when"
              + " asked for (tests, demos). MICRORUNNER_QEMU_ACCEL.")
  String accel;

  @Option(
      names = "--kernel",
      paramLabel = "FILE",
      description =
          "qemu runtime: the guest kernel (default: the newest /boot/vmlinuz-* with modules in"
              + " /lib/modules). MICRORUNNER_QEMU_KERNEL.")
  Path kernel;

  /** The runtime-environment entries these options give; empty when none was given. */
  public Map<String, String> runtimeEnvironment() {
    Optional<QemuSettings.Accel> parsed;
    try {
      parsed = Optional.ofNullable(accel).filter(a -> !a.isBlank()).map(QemuSettings.Accel::parse);
    } catch (IllegalArgumentException e) {
      throw new InvalidSettingException("accel", e.getMessage());
    }
    return QemuSettings.of(parsed, Optional.ofNullable(kernel), Optional.empty());
  }

  /** These options, else {@code fallback}'s (the loops' options after {@code --}). */
  public Map<String, String> runtimeEnvironment(QemuOptions fallback) {
    Map<String, String> own = runtimeEnvironment();
    Map<String, String> merged = new java.util.LinkedHashMap<>(fallback.runtimeEnvironment());
    merged.putAll(own);
    return merged;
  }
}
