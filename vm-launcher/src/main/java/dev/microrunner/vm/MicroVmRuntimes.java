package dev.microrunner.vm;

import dev.microrunner.vm.internal.KrunvmRuntime;
import dev.microrunner.vm.internal.PodmanRuntime;
import dev.microrunner.vm.internal.ProcessRuntime;
import dev.microrunner.vm.internal.QemuRuntime;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Creates runtimes by name, or picks the best installed microVM runtime. */
public final class MicroVmRuntimes {
  private static final List<String> NAMES =
      List.of("podman+krun", "krunvm", "qemu", "podman+crun", "podman+runc", "process");

  private MicroVmRuntimes() {}

  /** Every runtime name {@link #create} accepts, best isolation first. */
  public static List<String> names() {
    return NAMES;
  }

  /**
   * The runtime with this name. It is not checked for availability here: call {@link
   * MicroVmRuntime#availability()} (or use {@link #detect}).
   */
  public static MicroVmRuntime create(String name, RuntimeOptions options) throws VmException {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "podman+krun" -> new PodmanRuntime(PodmanRuntime.Variant.KRUN, options);
      case "podman+crun" -> new PodmanRuntime(PodmanRuntime.Variant.CRUN, options);
      case "podman+runc" -> new PodmanRuntime(PodmanRuntime.Variant.RUNC, options);
      case "krunvm" -> new KrunvmRuntime(options);
      case "qemu" -> new QemuRuntime(options);
      case "process" -> new ProcessRuntime(options);
      default ->
          throw new VmException(
              "unknown runtime '" + name + "'; valid runtimes: " + String.join(", ", NAMES));
    };
  }

  /**
   * {@code podman+krun} when podman and krun are installed, else {@code krunvm} when krunvm and
   * buildah are, else {@code qemu} when QEMU, a kernel and the tools it needs are installed and KVM
   * really works (a TCG setting is ignored here: emulation is never chosen silently), else an error
   * that says what to install. Container and process runtimes are never chosen here: less isolation
   * must be asked for by name.
   */
  public static MicroVmRuntime detect(RuntimeOptions options) throws VmException {
    StringBuilder reasons = new StringBuilder();
    for (String name : List.of("podman+krun", "krunvm", "qemu")) {
      RuntimeOptions candidateOptions = options;
      if (name.equals("qemu")) {
        Map<String, String> environment = new HashMap<>(options.environment());
        environment.put(QemuSettings.ACCEL, QemuSettings.Accel.KVM.word());
        candidateOptions =
            new RuntimeOptions(
                options.owner(),
                options.stateDirectory(),
                options.commandRunner(),
                environment,
                options.redactor());
      }
      MicroVmRuntime runtime = create(name, candidateOptions);
      Availability availability = runtime.availability();
      if (availability.available()) {
        return runtime;
      }
      runtime.close();
      reasons.append("\n  ").append(name).append(": ").append(availability.reason());
    }
    throw new VmException(
        "no microVM runtime is installed; install podman with krun (preferred), krunvm with"
            + " buildah, or QEMU on a host with working KVM:"
            + reasons
            + "\n(podman+crun, podman+runc and process give less isolation and are used only"
            + " when named)");
  }
}
