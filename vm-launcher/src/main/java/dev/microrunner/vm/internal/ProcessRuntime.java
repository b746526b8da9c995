package dev.microrunner.vm.internal;

import dev.microrunner.vm.Availability;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.ConsoleListener;
import dev.microrunner.vm.ExitStatus;
import dev.microrunner.vm.Isolation;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.RuntimeOptions;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmInfo;
import dev.microrunner.vm.VmOwner;
import dev.microrunner.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the entrypoint as a host process: no isolation at all, for development and tests. Guest
 * paths under the spec's mounts (notably {@code /_environment}) in the entrypoint, its arguments,
 * the working directory and environment values are mapped onto the host paths.
 */
public final class ProcessRuntime extends BaseRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessRuntime.class);
  public static final String NAME = "process";

  private final OwnershipStore records;

  public ProcessRuntime(RuntimeOptions options) {
    super(options);
    this.records = new OwnershipStore(options.stateDirectory(), NAME);
    LOG.warn(
        "runtime process gives NO isolation: jobs run as host processes with this user's rights;"
            + " use it for development and tests only");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Isolation isolation() {
    return Isolation.NONE;
  }

  @Override
  public Availability availability() {
    return Availability.available("host processes need nothing installed");
  }

  @Override
  protected String installHint() {
    return "nothing";
  }

  @Override
  public void pull(String image, PullPolicy policy) {
    LOG.debug("process runtime ignores images; not pulling {}", image);
  }

  @Override
  public VmHandle start(VmSpec spec, ConsoleListener console) throws VmException {
    Optional<OwnershipStore.Entry> existing = records.read(spec.name());
    if (existing.isPresent() && workloadAlive(existing.get())) {
      throw new VmException("a VM named " + spec.name() + " is already running");
    }
    for (Mount mount : spec.mounts()) {
      if (mount.readOnly()) {
        LOG.warn(
            "process runtime cannot make {} read-only for VM {}", mount.hostPath(), spec.name());
      }
    }
    GuestPaths paths = new GuestPaths(spec.mounts());
    Map<String, String> environment = new TreeMap<>(toolEnvironment);
    spec.environment().forEach((key, value) -> environment.put(key, paths.toHost(value)));

    String entrypoint = paths.toHost(spec.entrypoint());
    Optional<Path> executable = Executables.find(entrypoint, environment);
    Integer startFailure = null;
    if (executable.isEmpty()) {
      Path candidate = Path.of(entrypoint);
      boolean exists = entrypoint.contains("/") && Files.exists(candidate);
      startFailure = exists ? ExitStatus.NOT_EXECUTABLE : ExitStatus.NOT_FOUND;
    } else if (Files.isDirectory(executable.get())) {
      startFailure = ExitStatus.NOT_EXECUTABLE;
    }
    if (startFailure != null) {
      console.line(
          spec.name(), "microrunner: " + entrypoint + ": " + ExitStatus.describe(startFailure));
      return new RunningVm(spec.name(), new FinishedCommand(startFailure), (p, g) -> {}, vm -> {});
    }

    List<String> argv = new ArrayList<>();
    argv.add(executable.get().toString());
    argv.addAll(spec.args().stream().map(paths::toHost).collect(Collectors.toList()));
    Command command =
        Command.of(argv, environment)
            .withOutput(
                line -> console.line(spec.name(), line), line -> console.line(spec.name(), line));
    if (spec.workdir().isPresent()) {
      command = command.withWorkingDirectory(Path.of(paths.toHost(spec.workdir().get())));
    }
    Running process = launch(command);
    long pid = process.process().map(ProcessHandle::pid).orElse(0L);
    long startMillis = process.process().map(OwnershipStore::startMillis).orElse(0L);
    try {
      records.write(
          new OwnershipStore.Entry(spec.name(), OwnerLabels.of(owner()), pid, startMillis));
    } catch (VmException e) {
      // An unrecorded workload could never be found again: end it rather than leak it.
      process.process().ifPresentOrElse(ProcessTree::kill, process::kill);
      throw e;
    }
    return track(
        new RunningVm(
            spec.name(),
            process,
            ProcessTree::terminate,
            vm -> {
              untrack(vm);
              records.remove(vm.name());
            }));
  }

  @Override
  public List<VmInfo> list() throws VmException {
    List<VmInfo> vms = new ArrayList<>();
    for (OwnershipStore.Entry entry : records.readAll()) {
      entry
          .vmOwner()
          .filter(owner()::equals)
          .ifPresent(o -> vms.add(new VmInfo(entry.name(), o, state(entry))));
    }
    return sorted(vms);
  }

  @Override
  public List<VmInfo> listOrphans() throws VmException {
    List<VmInfo> vms = new ArrayList<>();
    for (OwnershipStore.Entry entry : records.readAll()) {
      entry
          .vmOwner()
          .filter(this::isOrphanOwner)
          .ifPresent(o -> vms.add(new VmInfo(entry.name(), o, state(entry))));
    }
    return sorted(vms);
  }

  @Override
  public void delete(String vmName) throws VmException {
    Optional<OwnershipStore.Entry> entry = records.read(vmName);
    if (entry.isEmpty()) {
      return;
    }
    VmOwner vmOwner =
        entry
            .get()
            .vmOwner()
            .orElseThrow(
                () -> new VmException("ownership record of VM " + vmName + " is malformed"));
    if (!vmOwner.equals(owner()) && !isOrphanOwner(vmOwner)) {
      throw new VmException(Ownership.notOurs(vmName, vmOwner));
    }
    entry.get().workload().ifPresent(ProcessTree::kill);
    records.remove(vmName);
  }

  private boolean isOrphanOwner(VmOwner other) {
    return Ownership.isOrphan(owner(), other);
  }

  private static String state(OwnershipStore.Entry entry) {
    return workloadAlive(entry) ? "running" : "exited";
  }

  private static boolean workloadAlive(OwnershipStore.Entry entry) {
    return entry.workload().isPresent();
  }
}
