package dev.microrunner.vm.internal;

import dev.microrunner.vm.VmOwner;

/** Whose VMs an instance may touch. */
final class Ownership {
  private Ownership() {}

  /** A VM of a dead instance of the same deployment (prefix and host): crash left-overs. */
  static boolean isOrphan(VmOwner self, VmOwner other) {
    return self.sameDeployment(other)
        && !self.instanceId().equals(other.instanceId())
        && !other.isAlive();
  }

  static String notOurs(String vmName, VmOwner other) {
    return "VM "
        + vmName
        + " belongs to microrunner instance "
        + other.instanceId()
        + " (prefix "
        + other.prefix()
        + ", host "
        + other.host()
        + ", pid "
        + other.pid()
        + "), which is not this instance and not a dead one of this deployment; not deleting it";
  }
}
