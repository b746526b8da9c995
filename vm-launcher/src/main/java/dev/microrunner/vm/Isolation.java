package dev.microrunner.vm;

/** How strongly a runtime separates a VM's workload from the host. */
public enum Isolation {
  /** A hardware-virtualised guest kernel (libkrun). */
  MICROVM,
  /** Linux namespaces and cgroups only: the workload shares the host kernel. */
  CONTAINER,
  /** A plain host process: for development and tests only. */
  NONE
}
