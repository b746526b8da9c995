package dev.microrunner.vm;

import java.util.List;
import java.util.Optional;

/** One way of running VMs (podman with krun, krunvm, ...). Thread-safe. */
public interface MicroVmRuntime extends AutoCloseable {
  /** "podman+krun", "podman+crun", "podman+runc", "krunvm" or "process". */
  String name();

  Isolation isolation();

  /** Whether the runtime's tools are installed, with the reason when they are not. */
  Availability availability();

  /** Fetches an image according to the policy. Call once per image, not per VM. */
  void pull(String image, PullPolicy policy) throws VmException;

  /** Starts a VM owned by this runtime's {@link VmOwner}; console lines go to {@code console}. */
  VmHandle start(VmSpec spec, ConsoleListener console) throws VmException;

  /**
   * The value of the label {@code key} on {@code image} in this runtime's local storage, if the
   * image has it. Runtimes without images (the process runtime) answer empty.
   *
   * @throws VmException if the image cannot be inspected (missing: pull it first)
   */
  default Optional<String> imageLabel(String image, String key) throws VmException {
    return Optional.empty();
  }

  /** This instance's VMs. */
  List<VmInfo> list() throws VmException;

  /** VMs of dead instances with this instance's prefix on this host: left over after a crash. */
  List<VmInfo> listOrphans() throws VmException;

  /**
   * Removes a VM of this instance or an orphan, stopping it first when it runs. Idempotent: a VM
   * that does not exist is not an error. Call it for every VM this runtime started once its end was
   * seen (or {@link #close()} the runtime): an exit that is only awaited leaves what the runtime
   * needs to clean up (krunvm's definition, the runtime's bookkeeping), so that seeing it costs
   * nothing on a loop's way to its next VM.
   *
   * @throws VmException when the VM belongs to another live instance or host
   */
  void delete(String vmName) throws VmException;

  /**
   * Stops the VMs this runtime object started that are still running (10 s grace each), so that a
   * forgotten handle does not leak a VM. Callers normally stop VMs through their handles first.
   */
  @Override
  void close();
}
