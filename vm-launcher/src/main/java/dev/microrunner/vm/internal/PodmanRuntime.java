package dev.microrunner.vm.internal;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code podman run --runtime krun|crun|runc}. The VM's lifetime is the attached {@code podman run
 * --rm} process: its output is the console, its exit status the workload's.
 */
public final class PodmanRuntime extends BaseRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(PodmanRuntime.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** Between retries of {@code podman stop} while {@code podman run} is still creating. */
  private static final Duration STOP_RETRY = Duration.ofMillis(100);

  /** How long `podman run --rm` may take to remove a stopped container and exit. */
  private static final Duration AFTER_STOP = Duration.ofSeconds(5);

  /** The OCI runtimes podman can use here, and what each isolates with. */
  public enum Variant {
    KRUN("krun", Isolation.MICROVM),
    CRUN("crun", Isolation.CONTAINER),
    RUNC("runc", Isolation.CONTAINER);

    private final String ociRuntime;
    private final Isolation isolation;

    Variant(String ociRuntime, Isolation isolation) {
      this.ociRuntime = ociRuntime;
      this.isolation = isolation;
    }

    public String runtimeName() {
      return "podman+" + ociRuntime;
    }
  }

  private final Variant variant;

  public PodmanRuntime(Variant variant, RuntimeOptions options) {
    super(options);
    this.variant = variant;
    if (variant.isolation != Isolation.MICROVM) {
      LOG.warn("runtime {} isolates with containers only: jobs share the host kernel", name());
    }
  }

  @Override
  public String name() {
    return variant.runtimeName();
  }

  @Override
  public Isolation isolation() {
    return variant.isolation;
  }

  @Override
  public Availability availability() {
    return requireTools("podman", variant.ociRuntime);
  }

  @Override
  protected String installHint() {
    return switch (variant) {
      case KRUN ->
          "podman and krun (Fedora: dnf install podman crun-krun;"
              + " Debian/Ubuntu: apt install podman, then krun from libkrun/crun built with"
              + " libkrun), see docs/runtimes.md";
      case CRUN -> "podman and crun (apt install podman crun / dnf install podman crun)";
      default -> "podman and runc (apt install podman runc / dnf install podman runc)";
    };
  }

  @Override
  public void pull(String image, PullPolicy policy) throws VmException {
    List<String> exists = List.of(tool("podman").toString(), "image", "exists", image);
    if (policy != PullPolicy.ALWAYS) {
      Result result = runTool("cannot check image " + image, exists, false, Set.of(0, 1));
      if (result.exitStatus() == 0) {
        return;
      }
      if (policy == PullPolicy.NEVER) {
        throw new VmException(
            "image " + image + " is not in podman's local storage and the pull policy is never");
      }
    }
    List<String> pull = List.of(tool("podman").toString(), "pull", "--quiet", image);
    Result result = execute(Command.of(pull, toolEnvironment).withTimeout(PULL_TIMEOUT));
    if (result.exitStatus() != 0) {
      throw failure("cannot pull image " + image, pull, result, false);
    }
  }

  @Override
  public Optional<String> imageLabel(String image, String key) throws VmException {
    return inspectLabel(
        List.of(tool("podman").toString(), "image", "inspect", image), ".Labels", key);
  }

  /** The exact {@code podman run} command line for a spec: no secrets, owner labels included. */
  public List<String> runArgv(VmSpec spec) throws VmException {
    List<String> argv = new ArrayList<>();
    argv.add(tool("podman").toString());
    argv.add("run");
    argv.add("--runtime");
    argv.add(variant.ociRuntime);
    argv.add("--rm");
    // Images are fetched by pull() once, never implicitly on every VM start (REFERENCE §2, 4).
    argv.add("--pull");
    argv.add("never");
    argv.add("--name");
    argv.add(spec.name());
    for (Map.Entry<String, String> label : OwnerLabels.of(owner()).entrySet()) {
      argv.add("--label");
      argv.add(label.getKey() + "=" + label.getValue());
    }
    if (variant == Variant.KRUN) {
      // krun ignores --cpus; the vCPU count comes from this annotation (REFERENCE §2 defect 13).
      argv.add("--annotation");
      argv.add("krun.cpus=" + spec.cpus());
    } else {
      argv.add("--cpus");
      argv.add(Integer.toString(spec.cpus()));
    }
    argv.add("--memory");
    argv.add(spec.memoryMib() + "m");
    argv.add("--dns");
    argv.add(spec.dns());
    spec.network()
        .ifPresent(
            network -> {
              argv.add("--network");
              argv.add(network);
            });
    for (Mount mount : spec.mounts()) {
      argv.add("--volume");
      argv.add(mount.hostPath() + ":" + mount.guestPath() + (mount.readOnly() ? ":ro" : ""));
    }
    spec.workdir()
        .ifPresent(
            dir -> {
              argv.add("--workdir");
              argv.add(dir);
            });
    for (Map.Entry<String, String> variable : new TreeMap<>(spec.environment()).entrySet()) {
      argv.add("--env");
      argv.add(variable.getKey() + "=" + variable.getValue());
    }
    argv.add("--entrypoint");
    argv.add(spec.entrypoint());
    argv.add(spec.image());
    argv.addAll(spec.args());
    return argv;
  }

  @Override
  public VmHandle start(VmSpec spec, ConsoleListener console) throws VmException {
    List<String> argv = runArgv(spec);
    Running process =
        launch(
            Command.of(argv, toolEnvironment)
                .withOutput(
                    line -> console.line(spec.name(), line),
                    line -> console.line(spec.name(), line)));
    LOG.debug("started VM {} with {}", spec.name(), name());
    return track(
        new RunningVm(
            spec.name(),
            process,
            (running, grace) -> stopContainer(spec.name(), running, grace),
            this::untrack));
  }

  /**
   * {@code podman stop --time G}: SIGTERM, then SIGKILL after G seconds. Retried while {@code
   * podman run} has not created the container yet, so a stop right after start is not lost.
   */
  private void stopContainer(String vmName, Running process, Duration grace)
      throws VmException, InterruptedException {
    long seconds = Math.max(0, (grace.toMillis() + 999) / 1000);
    List<String> stop =
        List.of(tool("podman").toString(), "stop", "--time", Long.toString(seconds), vmName);
    Instant deadline = Instant.now().plus(grace).plus(TOOL_TIMEOUT);
    while (process.exitStatus().isEmpty()) {
      if (Instant.now().isAfter(deadline)) {
        LOG.warn("podman stop did not end VM {}; removing it by force", vmName);
        removeContainer(vmName);
        return;
      }
      Result result =
          execute(Command.of(stop, toolEnvironment).withTimeout(grace.plus(TOOL_TIMEOUT)));
      // A stop that reached the container before it started does nothing: `podman run` then
      // does not end, and the loop stops it again.
      process.awaitExit(result.exitStatus() == 0 ? AFTER_STOP : STOP_RETRY);
    }
  }

  @Override
  public List<VmInfo> list() throws VmException {
    List<VmInfo> vms = new ArrayList<>();
    for (Container container :
        containers("label=" + OwnerLabels.INSTANCE + "=" + owner().instanceId())) {
      container.owner().filter(owner()::equals).ifPresent(o -> vms.add(container.info(o)));
    }
    return sorted(vms);
  }

  @Override
  public List<VmInfo> listOrphans() throws VmException {
    List<VmInfo> vms = new ArrayList<>();
    for (Container container : containers("label=" + OwnerLabels.PREFIX + "=" + owner().prefix())) {
      container.owner().filter(this::isOrphanOwner).ifPresent(o -> vms.add(container.info(o)));
    }
    return sorted(vms);
  }

  private boolean isOrphanOwner(VmOwner other) {
    return Ownership.isOrphan(owner(), other);
  }

  @Override
  public void delete(String vmName) throws VmException {
    Optional<RunningVm> own = started(vmName);
    if (own.isPresent() && !own.get().isRunning() && !own.get().killed()) {
      // `podman run --rm` removed the container as it ended: nothing to list or remove, which
      // keeps a `podman ps` off the host while the loop starts the next VM.
      own.get().cleanUpOnce();
      return;
    }
    List<Container> found = containers("name=^" + vmName.replace(".", "\\.") + "$");
    Optional<Container> container =
        found.stream().filter(c -> c.names().contains(vmName)).findFirst();
    if (container.isEmpty()) {
      return;
    }
    Optional<VmOwner> vmOwner = container.get().owner();
    if (vmOwner.isEmpty()) {
      throw new VmException(
          "container "
              + vmName
              + " was not started by microrunner (no owner labels); not deleting it");
    }
    if (!vmOwner.get().equals(owner()) && !isOrphanOwner(vmOwner.get())) {
      throw new VmException(Ownership.notOurs(vmName, vmOwner.get()));
    }
    removeContainer(vmName);
  }

  private void removeContainer(String vmName) throws VmException {
    List<String> rm = List.of(tool("podman").toString(), "rm", "--force", "--time", "0", vmName);
    Result result = execute(Command.of(rm, toolEnvironment).withTimeout(TOOL_TIMEOUT));
    if (result.exitStatus() != 0 && !noSuchContainer(result)) {
      throw failure("cannot remove VM " + vmName, rm, result, false);
    }
  }

  private static boolean noSuchContainer(Result result) {
    return result.stderr().stream().anyMatch(line -> line.contains("no such container"));
  }

  private List<Container> containers(String filter) throws VmException {
    List<String> ps =
        List.of(tool("podman").toString(), "ps", "--all", "--filter", filter, "--format", "json");
    Result result = runTool("cannot list VMs", ps, false);
    String json = String.join("\n", result.stdout()).strip();
    if (json.isEmpty()) {
      return List.of();
    }
    try {
      return JSON.readValue(json, new TypeReference<List<Container>>() {});
    } catch (IOException e) {
      throw new VmException(
          "cannot parse the output of `podman ps --format json`: " + e.getMessage(), e);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  record Container(
      @JsonProperty("Names") List<String> names,
      @JsonProperty("Labels") Map<String, String> labels,
      @JsonProperty("State") String state) {
    Optional<VmOwner> owner() {
      return OwnerLabels.parse(labels);
    }

    VmInfo info(VmOwner owner) {
      String name = names == null || names.isEmpty() ? "?" : names.get(0);
      return new VmInfo(name, owner, state == null ? "unknown" : state);
    }
  }
}
