package dev.microrunner.vm.internal;

import dev.microrunner.vm.Availability;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.ConsoleListener;
import dev.microrunner.vm.Isolation;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.RuntimeOptions;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmInfo;
import dev.microrunner.vm.VmOwner;
import dev.microrunner.vm.VmSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * krunvm: {@code buildah unshare krunvm create} defines the VM, {@code krunvm start} runs it
 * attached (its exit status is the workload's), {@code krunvm delete} removes it once it ended.
 * krunvm has no labels, so ownership lives in records under the state directory. krunvm reports
 * errors on stdout and exits 255.
 */
public final class KrunvmRuntime extends BaseRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(KrunvmRuntime.class);
  public static final String NAME = "krunvm";
  private static final int KRUNVM_ERROR = 255;

  private final OwnershipStore records;

  public KrunvmRuntime(RuntimeOptions options) {
    super(options);
    this.records = new OwnershipStore(options.stateDirectory(), NAME);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Isolation isolation() {
    return Isolation.MICROVM;
  }

  @Override
  public Availability availability() {
    return requireTools("krunvm", "buildah");
  }

  @Override
  protected String installHint() {
    return "krunvm and buildah (Fedora: dnf install krunvm buildah;"
        + " macOS: brew install slp/krun/krunvm; Debian/Ubuntu: apt install buildah and build"
        + " krunvm + libkrun from source), see docs/runtimes.md";
  }

  @Override
  public void pull(String image, PullPolicy policy) throws VmException {
    String buildah = tool("buildah").toString();
    if (policy != PullPolicy.ALWAYS) {
      List<String> inspect = List.of(buildah, "inspect", "--type", "image", image);
      Result result = execute(Command.of(inspect, toolEnvironment).withTimeout(TOOL_TIMEOUT));
      if (result.exitStatus() == 0) {
        return;
      }
      if (policy == PullPolicy.NEVER) {
        throw new VmException(
            "image " + image + " is not in buildah's local storage and the pull policy is never");
      }
    }
    List<String> pull = List.of(buildah, "pull", "--quiet", image);
    Result result = execute(Command.of(pull, toolEnvironment).withTimeout(PULL_TIMEOUT));
    if (result.exitStatus() != 0) {
      throw failure("cannot pull image " + image, pull, result, false);
    }
  }

  @Override
  public Optional<String> imageLabel(String image, String key) throws VmException {
    return inspectLabel(
        List.of(tool("buildah").toString(), "inspect", "--type", "image", image),
        ".OCIv1.Config.Labels",
        key);
  }

  /** {@code buildah unshare krunvm create ...}: resources are fixed here, not at start. */
  public List<String> createArgv(VmSpec spec) throws VmException {
    for (Mount mount : spec.mounts()) {
      if (mount.readOnly()) {
        throw new VmException(
            "VM "
                + spec.name()
                + ": krunvm cannot mount "
                + mount.hostPath()
                + " read-only; use podman+krun or mount it read-write");
      }
    }
    if (spec.network().isPresent() && !spec.network().get().equals("host")) {
      throw new VmException(
          "VM "
              + spec.name()
              + ": krunvm has only its built-in (host-like) networking; network '"
              + spec.network().get()
              + "' is not supported");
    }
    List<String> argv = new ArrayList<>();
    argv.add(tool("buildah").toString());
    argv.add("unshare");
    argv.add(tool("krunvm").toString());
    argv.add("create");
    argv.add(spec.image());
    argv.add("--name");
    argv.add(spec.name());
    argv.add("--cpus");
    argv.add(Integer.toString(spec.cpus()));
    argv.add("--mem");
    argv.add(Integer.toString(spec.memoryMib()));
    argv.add("--dns");
    argv.add(spec.dns());
    for (Mount mount : spec.mounts()) {
      argv.add("--volume");
      argv.add(mount.hostPath() + ":" + mount.guestPath());
    }
    spec.workdir()
        .ifPresent(
            dir -> {
              argv.add("--workdir");
              argv.add(dir);
            });
    return argv;
  }

  /**
   * {@code krunvm start NAME ENTRYPOINT -- ARGS}. krunvm has no environment option, so variables go
   * through {@code /usr/bin/env} in the guest.
   */
  public List<String> startArgv(VmSpec spec) throws VmException {
    List<String> command = new ArrayList<>();
    if (!spec.environment().isEmpty()) {
      command.add("/usr/bin/env");
      new TreeMap<>(spec.environment()).forEach((key, value) -> command.add(key + "=" + value));
    }
    command.add(spec.entrypoint());
    command.addAll(spec.args());
    List<String> argv = new ArrayList<>();
    argv.add(tool("krunvm").toString());
    argv.add("start");
    argv.add(spec.name());
    argv.add(command.get(0));
    if (command.size() > 1) {
      argv.add("--");
      argv.addAll(command.subList(1, command.size()));
    }
    return argv;
  }

  @Override
  public VmHandle start(VmSpec spec, ConsoleListener console) throws VmException {
    List<String> create = createArgv(spec);
    List<String> start = startArgv(spec);
    if (records.read(spec.name()).isPresent() || started(spec.name()).isPresent()) {
      throw new VmException("a VM named " + spec.name() + " already exists");
    }
    // The record comes first: a crash right after create must leave an owned VM, not a stray one.
    records.write(new OwnershipStore.Entry(spec.name(), OwnerLabels.of(owner()), 0, 0));
    Running process;
    try {
      runTool("cannot create VM " + spec.name(), create, true);
      process =
          launch(
              Command.of(start, toolEnvironment)
                  .withOutput(
                      line -> console.line(spec.name(), line),
                      line -> console.line(spec.name(), line)));
    } catch (VmException e) {
      deleteDefinition(spec.name());
      records.remove(spec.name());
      throw e;
    }
    long pid = process.process().map(ProcessHandle::pid).orElse(0L);
    long startMillis = process.process().map(ProcessStart::millis).orElse(0L);
    try {
      records.write(
          new OwnershipStore.Entry(spec.name(), OwnerLabels.of(owner()), pid, startMillis));
    } catch (VmException e) {
      process.process().ifPresentOrElse(ProcessTree::kill, process::kill);
      deleteDefinition(spec.name());
      records.remove(spec.name());
      throw e;
    }
    RunningVm vm =
        new RunningVm(
            spec.name(),
            process,
            Running::terminate,
            ended -> {
              untrack(ended);
              deleteDefinition(ended.name());
              records.remove(ended.name());
            });
    LOG.debug("started krunvm VM {} (pid {})", spec.name(), pid);
    return track(vm);
  }

  @Override
  public List<VmInfo> list() throws VmException {
    return listWhere(owner()::equals);
  }

  @Override
  public List<VmInfo> listOrphans() throws VmException {
    return listWhere(other -> Ownership.isOrphan(owner(), other));
  }

  private List<VmInfo> listWhere(Predicate<VmOwner> ownerFilter) throws VmException {
    Set<String> defined =
        definedVms().stream().map(KrunvmList.Vm::name).collect(Collectors.toSet());
    List<VmInfo> vms = new ArrayList<>();
    for (OwnershipStore.Entry entry : records.readAll()) {
      Optional<VmOwner> vmOwner = entry.vmOwner().filter(ownerFilter);
      if (vmOwner.isEmpty()) {
        continue;
      }
      String state;
      if (entry.workload().isPresent()) {
        state = "running";
      } else if (defined.contains(entry.name())) {
        state = "defined";
      } else {
        continue;
      }
      vms.add(new VmInfo(entry.name(), vmOwner.get(), state));
    }
    return sorted(vms);
  }

  @Override
  public void delete(String vmName) throws VmException {
    Optional<OwnershipStore.Entry> entry = records.read(vmName);
    if (entry.isEmpty()) {
      if (definedVms().stream().anyMatch(vm -> vm.name().equals(vmName))) {
        throw new VmException(
            "krunvm VM " + vmName + " has no microrunner ownership record; not deleting it");
      }
      return;
    }
    VmOwner vmOwner =
        entry
            .get()
            .vmOwner()
            .orElseThrow(
                () -> new VmException("ownership record of VM " + vmName + " is malformed"));
    if (!vmOwner.equals(owner()) && !Ownership.isOrphan(owner(), vmOwner)) {
      throw new VmException(Ownership.notOurs(vmName, vmOwner));
    }
    Optional<RunningVm> vm = started(vmName);
    if (vm.isPresent()) {
      // Stopping it (at once, if it still runs) deletes its definition and record.
      vm.get().stop(Duration.ZERO);
      return;
    }
    entry.get().workload().ifPresent(ProcessTree::kill);
    deleteDefinition(vmName);
    records.remove(vmName);
  }

  private void deleteDefinition(String vmName) throws VmException {
    List<String> delete = List.of(tool("krunvm").toString(), "delete", vmName);
    Result result = execute(Command.of(delete, toolEnvironment).withTimeout(TOOL_TIMEOUT));
    boolean alreadyGone =
        result.exitStatus() == KRUNVM_ERROR
            && result.stdout().stream().anyMatch(line -> line.contains("No VM found"));
    if (result.exitStatus() != 0 && !alreadyGone) {
      throw failure("cannot delete VM " + vmName, delete, result, true);
    }
  }

  private List<KrunvmList.Vm> definedVms() throws VmException {
    Result result = runTool("cannot list VMs", List.of(tool("krunvm").toString(), "list"), true);
    return KrunvmList.parse(result.stdout());
  }
}
