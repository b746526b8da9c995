package dev.microrunner.loop;

import java.lang.management.ManagementFactory;

/**
 * What a host can give its VMs: its memory and CPUs. Demand-driven pools are checked against it so
 * that a burst of jobs never starts more VMs than the host holds.
 *
 * @param memoryMib the host's physical memory
 * @param cpus the CPUs this process may use
 */
public record HostCapacity(long memoryMib, int cpus) {

  public HostCapacity {
    if (memoryMib < 1 || cpus < 1) {
      throw new IllegalArgumentException("a host has memory and CPUs");
    }
  }

  /** This machine's physical memory and the CPUs the JVM sees (cgroup limits included). */
  public static HostCapacity ofThisHost() {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return new HostCapacity(
        os.getTotalMemorySize() / (1024 * 1024), Runtime.getRuntime().availableProcessors());
  }
}
