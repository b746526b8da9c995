package dev.microrunner.vm.internal;

import dev.microrunner.vm.Availability;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.ConsoleListener;
import dev.microrunner.vm.Executables;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
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
  private static final String RUNNING = "running";

  /** How long delete waits for killed processes to end before it gives up. */
  private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(10);

  public ProcessRuntime(RuntimeOptions options) {
    super(options);
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
    if (started(spec.name()).filter(RunningVm::isRunning).isPresent()) {
      throw new VmException("a VM named " + spec.name() + " is already running");
    }
    for (String reserved : List.of(WorkloadMarkers.VM, WorkloadMarkers.OWNER)) {
      if (spec.environment().containsKey(reserved)) {
        throw new VmException(
            "environment variable "
                + reserved
                + " of VM "
                + spec.name()
                + " is reserved: the process runtime marks the VM's processes with it");
      }
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
    // Every process the workload starts inherits these: how a restarted instance finds them.
    environment.putAll(WorkloadMarkers.of(spec.name(), owner()));

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
    return track(new RunningVm(spec.name(), launch(command), Running::terminate, this::untrack));
  }

  @Override
  public List<VmInfo> list() {
    // This object's own VMs come from memory, so listing them does not depend on /proc.
    Set<String> names = new TreeSet<>();
    for (RunningVm vm : started()) {
      if (vm.isRunning()) {
        names.add(vm.name());
      }
    }
    for (WorkloadMarkers.Marked marked : WorkloadMarkers.scan()) {
      if (marked.owner().equals(owner())) {
        names.add(marked.vmName());
      }
    }
    List<VmInfo> vms = new ArrayList<>();
    names.forEach(name -> vms.add(new VmInfo(name, owner(), RUNNING)));
    return vms;
  }

  @Override
  public List<VmInfo> listOrphans() {
    Set<VmInfo> vms = new LinkedHashSet<>();
    OrphanOwners orphans = new OrphanOwners();
    for (WorkloadMarkers.Marked marked : WorkloadMarkers.scan()) {
      if (orphans.test(marked.owner())) {
        vms.add(new VmInfo(marked.vmName(), marked.owner(), RUNNING));
      }
    }
    return sorted(new ArrayList<>(vms));
  }

  /**
   * Kills every process of the VM: those that carry its marker (also ones that left the tree, e.g.
   * daemons), their descendants (also ones that cleared their environment), and for this instance's
   * own VM the tree of the process it started. Returns once none of them is left.
   */
  @Override
  public void delete(String vmName) throws VmException {
    OrphanOwners orphans = new OrphanOwners();
    List<ProcessHandle> roots = new ArrayList<>();
    for (WorkloadMarkers.Marked marked : markedProcesses(vmName)) {
      if (!marked.owner().equals(owner()) && !orphans.test(marked.owner())) {
        throw new VmException(Ownership.notOurs(vmName, marked.owner()));
      }
      roots.add(marked.process());
    }
    Optional<Running> own = started(vmName).map(RunningVm::process);
    if (own.isPresent()) {
      own.get().process().ifPresentOrElse(roots::add, own.get()::kill);
    }
    long deadline = System.nanoTime() + DELETE_TIMEOUT.toNanos();
    long pauseMillis = 1;
    while (!roots.isEmpty()) {
      roots.forEach(ProcessTree::kill);
      if (System.nanoTime() - deadline > 0) {
        throw new VmException(
            "processes of VM "
                + vmName
                + " are still alive "
                + DELETE_TIMEOUT.toSeconds()
                + " s after SIGKILL: "
                + roots.stream().map(p -> Long.toString(p.pid())).collect(Collectors.joining(" ")));
      }
      // Killed processes lose their environment when they end; the next scan shows what is left
      // (and what was forked meanwhile). Non-child processes cannot be waited for, hence the pause.
      sleep(pauseMillis);
      pauseMillis = Math.min(pauseMillis * 2, 50);
      roots = new ArrayList<>();
      for (WorkloadMarkers.Marked marked : markedProcesses(vmName)) {
        if (marked.owner().equals(owner()) || orphans.test(marked.owner())) {
          roots.add(marked.process());
        }
      }
    }
    started(vmName).ifPresent(RunningVm::cleanUpOnce);
  }

  private static List<WorkloadMarkers.Marked> markedProcesses(String vmName) {
    return WorkloadMarkers.scan().stream()
        .filter(marked -> marked.vmName().equals(vmName))
        .collect(Collectors.toList());
  }

  private static void sleep(long millis) throws VmException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VmException("interrupted while deleting a VM", e);
    }
  }

  /** Dead owners of this deployment; liveness is looked up once per owner and scan. */
  private final class OrphanOwners implements Predicate<VmOwner> {
    private final Map<VmOwner, Boolean> seen = new HashMap<>();

    @Override
    public boolean test(VmOwner other) {
      return seen.computeIfAbsent(other, o -> Ownership.isOrphan(owner(), o));
    }
  }
}
