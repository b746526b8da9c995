package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Real QEMU under TCG for the tagged {@code qemu} tests: skipped (saying why) on a developer's
 * machine without QEMU, a failure in CI ({@code CI=true}), where .ci/run installs it.
 */
final class QemuTestSupport {
  static final String TAG = "qemu";

  private QemuTestSupport() {}

  static void requireQemu() {
    Map<String, String> path =
        Map.of("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    boolean installed =
        Executables.find("qemu-system-x86_64", path).isPresent()
            && Executables.find("podman", path).isPresent();
    if (!installed && "true".equals(System.getenv("CI"))) {
      fail("qemu-system-x86_64 or podman is missing in CI: .ci/run must install them");
    }
    assumeTrue(
        installed,
        "qemu-system-x86_64 or podman is not installed: skipping the qemu tests (CI installs"
            + " them; exclude them with -DexcludedGroups=qemu)");
  }

  /** Kernels, initramfs and root file systems, kept across test runs of this module. */
  static Path cache() {
    return Path.of("target", "qemu-cache").toAbsolutePath();
  }

  /** TCG, asked for explicitly, the cache above, and podman's configuration for this host. */
  static RuntimeOptions options(VmOwner owner, Path stateDirectory, Path containersConf) {
    return RuntimeOptions.builder(owner, stateDirectory)
        .environment("CONTAINERS_CONF", containersConf.toString())
        .environment(
            QemuSettings.of(
                Optional.of(QemuSettings.Accel.TCG), Optional.empty(), Optional.of(cache())))
        .build();
  }
}
