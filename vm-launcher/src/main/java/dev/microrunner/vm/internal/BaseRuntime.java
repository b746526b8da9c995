package dev.microrunner.vm.internal;

import dev.microrunner.vm.Availability;
import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.Executables;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.RuntimeCommandException;
import dev.microrunner.vm.RuntimeOptions;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmInfo;
import dev.microrunner.vm.VmOwner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every backend shares: tool invocation, redaction, and the VMs it started. */
abstract class BaseRuntime implements MicroVmRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(BaseRuntime.class);

  /** Runtime tools answer quickly; a hung one must not hang the orchestrator. */
  static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);

  /** Pulls may download gigabytes. */
  static final Duration PULL_TIMEOUT = Duration.ofMinutes(30);

  static final Duration CLOSE_GRACE = Duration.ofSeconds(10);

  protected final RuntimeOptions options;
  protected final Map<String, String> toolEnvironment;
  private final Set<RunningVm> started = ConcurrentHashMap.newKeySet();

  BaseRuntime(RuntimeOptions options) {
    this.options = options;
    this.toolEnvironment = ChildEnvironment.of(options.environment());
  }

  protected VmOwner owner() {
    return options.owner();
  }

  protected CommandRunner runner() {
    return options.commandRunner();
  }

  /** The absolute path of a tool, or an exception that says what to install. */
  protected Path tool(String name) throws VmException {
    return Executables.find(name, toolEnvironment)
        .orElseThrow(
            () ->
                new VmException(
                    name
                        + " is not installed (not found on PATH); runtime "
                        + name()
                        + ": "
                        + availability().reason()));
  }

  protected Availability requireTools(String... names) {
    List<String> missing = new ArrayList<>();
    for (String name : names) {
      if (Executables.find(name, toolEnvironment).isEmpty()) {
        missing.add(name);
      }
    }
    return missing.isEmpty()
        ? Availability.available(String.join(", ", names) + " found on PATH")
        : Availability.unavailable(
            String.join(", ", missing) + " not found on PATH; install: " + installHint());
  }

  /** Package names that provide this runtime, for error messages. */
  protected abstract String installHint();

  /** Label keys as OCI images name them; nothing that could reach into a Go template. */
  private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,127}");

  /**
   * Reads one label with {@code tool ... --format {{index LABELS "KEY"}} image}; Go templates print
   * {@code <no value>} for a missing key.
   */
  protected Optional<String> inspectLabel(List<String> inspectArgv, String labelsField, String key)
      throws VmException {
    if (!LABEL_KEY.matcher(key).matches()) {
      throw new IllegalArgumentException("not an image label key: " + key);
    }
    List<String> argv = new ArrayList<>(inspectArgv);
    int image = argv.size() - 1;
    argv.add(image, "{{index " + labelsField + " \"" + key + "\"}}");
    argv.add(image, "--format");
    Result result =
        runTool("cannot inspect image " + argv.get(argv.size() - 1), argv, false, Set.of(0));
    String value = String.join("\n", result.stdout()).strip();
    return value.isEmpty() || value.equals("<no value>") ? Optional.empty() : Optional.of(value);
  }

  /** Runs a tool to completion; a status outside {@code accepted} becomes an exception. */
  protected Result runTool(
      String problem, List<String> argv, boolean errorsOnStdout, Set<Integer> accepted)
      throws VmException {
    Result result = execute(Command.of(argv, toolEnvironment).withTimeout(TOOL_TIMEOUT));
    if (!accepted.contains(result.exitStatus())) {
      throw failure(problem, argv, result, errorsOnStdout);
    }
    return result;
  }

  /** Runs a command; the runner's own failures (timeout, launch) come back redacted. */
  protected Result execute(Command command) throws VmException {
    try {
      return runner().run(command);
    } catch (RuntimeCommandException e) {
      throw redacted(e);
    }
  }

  /** Starts a command; the runner's own failures come back redacted. */
  protected Running launch(Command command) throws VmException {
    try {
      return runner().start(command);
    } catch (RuntimeCommandException e) {
      throw redacted(e);
    }
  }

  /** Not chained to the original, whose message is unredacted. */
  private RuntimeCommandException redacted(RuntimeCommandException e) {
    return new RuntimeCommandException(
        options.redactor().apply(e.problem()),
        redact(e.command()),
        e.exitStatus().orElse(null),
        options.redactor().apply(e.outputTail()));
  }

  protected Result runTool(String problem, List<String> argv, boolean errorsOnStdout)
      throws VmException {
    return runTool(problem, argv, errorsOnStdout, Set.of(0));
  }

  protected RuntimeCommandException failure(
      String problem, List<String> argv, Result result, boolean errorsOnStdout) {
    String tail = errorsOnStdout ? result.stdoutTail() : result.stderrTail();
    if (tail.isBlank()) {
      tail = errorsOnStdout ? result.stderrTail() : result.stdoutTail();
    }
    return new RuntimeCommandException(
        options.redactor().apply(problem),
        redact(argv),
        result.exitStatus(),
        options.redactor().apply(tail));
  }

  protected List<String> redact(List<String> argv) {
    return argv.stream().map(options.redactor()).collect(Collectors.toList());
  }

  /** Records a started VM so that close() can stop what callers forgot. */
  protected RunningVm track(RunningVm vm) {
    started.add(vm);
    return vm;
  }

  /** Called by a VM's clean-up once it was stopped, deleted or its runtime closed. */
  protected void untrack(RunningVm vm) {
    started.remove(vm);
  }

  /** The VMs this object started that were not stopped or deleted yet. */
  protected Collection<RunningVm> started() {
    return started;
  }

  /** The VM of that name this object started, until it was stopped or deleted. */
  protected Optional<RunningVm> started(String vmName) {
    return started.stream().filter(vm -> vm.name().equals(vmName)).findFirst();
  }

  protected static List<VmInfo> sorted(List<VmInfo> vms) {
    vms.sort((a, b) -> a.name().compareTo(b.name()));
    return vms;
  }

  @Override
  public void close() {
    for (RunningVm handle : List.copyOf(started)) {
      if (handle.isRunning()) {
        LOG.warn(
            "stopping VM {} that was still running when runtime {} closed", handle.name(), name());
        try {
          handle.stop(CLOSE_GRACE);
        } catch (VmException e) {
          LOG.warn("could not stop VM {}: {}", handle.name(), e.getMessage());
        }
      } else {
        handle.cleanUpOnce();
      }
    }
    started.clear();
  }
}
