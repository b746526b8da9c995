package dev.microrunner.vm;

import dev.microrunner.vm.internal.KrunvmRuntime;
import dev.microrunner.vm.internal.PodmanRuntime;
import dev.microrunner.vm.internal.ProcessRuntime;
import java.util.List;
import java.util.Locale;

/** Creates runtimes by name, or picks the best installed microVM runtime. */
public final class MicroVmRuntimes {
  private static final List<String> NAMES =
      List.of("podman+krun", "krunvm", "podman+crun", "podman+runc", "process");

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
      case "process" -> new ProcessRuntime(options);
      default ->
          throw new VmException(
              "unknown runtime '" + name + "'; valid runtimes: " + String.join(", ", NAMES));
    };
  }

  /**
   * {@code podman+krun} when podman and krun are installed, else {@code krunvm} when krunvm and
   * buildah are, else an error that says what to install. Container and process runtimes are never
   * chosen here: less isolation must be asked for by name.
   */
  public static MicroVmRuntime detect(RuntimeOptions options) throws VmException {
    StringBuilder reasons = new StringBuilder();
    for (String name : List.of("podman+krun", "krunvm")) {
      MicroVmRuntime runtime = create(name, options);
      Availability availability = runtime.availability();
      if (availability.available()) {
        return runtime;
      }
      runtime.close();
      reasons.append("\n  ").append(name).append(": ").append(availability.reason());
    }
    throw new VmException(
        "no microVM runtime is installed; install podman with krun (preferred) or krunvm with"
            + " buildah:"
            + reasons
            + "\n(podman+crun, podman+runc and process give less isolation and are used only"
            + " when named)");
  }
}
