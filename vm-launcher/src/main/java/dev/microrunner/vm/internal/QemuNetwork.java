package dev.microrunner.vm.internal;

import dev.microrunner.vm.VmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A qemu VM's network, from {@code VmSpec.network}. QEMU's user-mode network (slirp) reaches every
 * service on the host's loopback through 10.0.2.2 unless it is restricted, so restricted is the
 * default.
 *
 * <ul>
 *   <li>{@code restricted} (default): user-mode networking with {@code restrict=on}: the guest
 *       reaches nothing outside the VM.
 *   <li>{@code restricted:PORT[,PORT…]}: as restricted, plus these TCP ports of the host's
 *       127.0.0.1, which the guest reaches on its own 127.0.0.1 (e.g. a GitHub simulator or proxy
 *       on the host).
 *   <li>{@code user}: unrestricted user-mode networking (NAT to everything the host reaches,
 *       including its loopback services through 10.0.2.2): only for trusted workloads.
 *   <li>{@code none}: no network device.
 * </ul>
 */
record QemuNetwork(Mode mode, List<Integer> forwardedPorts) {
  enum Mode {
    RESTRICTED,
    USER,
    NONE
  }

  /** The guest address behind which each forwarded host port is reached. */
  static final String FORWARD_ADDRESS = "10.0.2.100";

  QemuNetwork {
    forwardedPorts = List.copyOf(forwardedPorts);
  }

  static QemuNetwork parse(String vmName, Optional<String> network) throws VmException {
    String value = network.orElse("restricted").trim();
    if (value.equals("restricted")) {
      return new QemuNetwork(Mode.RESTRICTED, List.of());
    }
    if (value.equals("user")) {
      return new QemuNetwork(Mode.USER, List.of());
    }
    if (value.equals("none")) {
      return new QemuNetwork(Mode.NONE, List.of());
    }
    if (value.startsWith("restricted:")) {
      List<Integer> ports = new ArrayList<>();
      for (String port : value.substring("restricted:".length()).split(",", -1)) {
        try {
          int number = Integer.parseInt(port.trim());
          if (number < 1 || number > 65535) {
            throw new NumberFormatException();
          }
          if (!ports.contains(number)) {
            ports.add(number);
          }
        } catch (NumberFormatException e) {
          throw invalid(vmName, value);
        }
      }
      return new QemuNetwork(Mode.RESTRICTED, ports);
    }
    throw invalid(vmName, value);
  }

  private static VmException invalid(String vmName, String value) {
    return new VmException(
        "VM "
            + vmName
            + ": runtime qemu does not support network '"
            + value
            + "'; use restricted (the default: nothing outside the VM), restricted:PORT[,PORT...]"
            + " (also these ports of the host's 127.0.0.1, on the guest's 127.0.0.1), user"
            + " (unrestricted NAT, which also reaches the host's loopback services) or none");
  }
}
