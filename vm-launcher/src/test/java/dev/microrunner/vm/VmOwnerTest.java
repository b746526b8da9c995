package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VmOwnerTest {
  @Test
  void thisProcessIsAliveAndEachInstanceIsDistinct() {
    VmOwner first = VmOwner.forThisProcess("GH-runner");
    VmOwner second = VmOwner.forThisProcess("GH-runner");
    assertTrue(first.isAlive());
    assertNotEquals(first.instanceId(), second.instanceId());
    assertTrue(first.sameDeployment(second));
  }

  @Test
  void aReusedPidIsNotTheSameOwner() {
    VmOwner self = VmOwner.forThisProcess("GH-runner");
    VmOwner earlier =
        new VmOwner(
            self.prefix(), self.host(), "old", self.pid(), self.processStartMillis() - 5000);
    assertFalse(earlier.isAlive());
  }

  @Test
  void aDeadProcessIsNotAlive() throws Exception {
    VmOwner dead =
        MicroVmRuntimeContract.deadOwner("GH-runner", VmOwner.forThisProcess("x").host());
    assertFalse(dead.isAlive());
  }

  @Test
  void ownersOnOtherHostsCountAsAlive() {
    assertTrue(new VmOwner("GH-runner", "elsewhere", "i1", 1, 1).isAlive());
  }

  @Test
  void rejectsValuesThatCannotBeLabels() {
    assertThrows(IllegalArgumentException.class, () -> new VmOwner("a b", "h", "i", 1));
    assertThrows(IllegalArgumentException.class, () -> new VmOwner("p", "h", "i", 0));
  }
}
