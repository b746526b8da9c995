package dev.microrunner.cli.demo;

import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.LoopListener;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Follows the loops' events: per runner, when it was created, its VM started, it registered and its
 * VM exited. Thread-safe (the loops call it from their threads).
 */
public final class RunnerTracker implements LoopListener {

  /** What happened to one runner, as {@link System#nanoTime()} readings. */
  public static final class Runner {
    private final RunnerId id;
    private String name = "";
    private OptionalLong vmStarted = OptionalLong.empty();
    private OptionalLong registered = OptionalLong.empty();
    private OptionalLong vmExited = OptionalLong.empty();
    private RunnerStatus.State state = RunnerStatus.State.STARTING;

    private Runner(RunnerId id) {
      this.id = id;
    }

    public RunnerId id() {
      return id;
    }

    /** The runner's name at GitHub (empty until its registration was obtained). */
    public String name() {
      return name;
    }

    public OptionalLong vmStarted() {
      return vmStarted;
    }

    public OptionalLong registered() {
      return registered;
    }

    public OptionalLong vmExited() {
      return vmExited;
    }

    /** What the runner is doing, as its agent last said (ENDED once its VM exited). */
    public RunnerStatus.State state() {
      return state;
    }
  }

  private final Map<RunnerId, Runner> runners = new LinkedHashMap<>();
  private final List<String> backOffs = new ArrayList<>();

  @Override
  public synchronized void onEvent(LoopEvent event) {
    if (event instanceof LoopEvent.BackingOff backingOff) {
      backOffs.add(
          "loop "
              + event.loop()
              + ": "
              + backingOff.delay().toMillis()
              + " ms: "
              + backingOff.reason());
      return;
    }
    if (!(event instanceof LoopEvent.RunnerEvent runnerEvent)) {
      return;
    }
    Runner runner = runners.computeIfAbsent(runnerEvent.runner(), Runner::new);
    if (event instanceof LoopEvent.RunnerCreated created) {
      runner.name = created.name();
    } else if (event instanceof LoopEvent.VmStarted) {
      runner.vmStarted = OptionalLong.of(event.nanoTime());
    } else if (event instanceof LoopEvent.Registered registered) {
      runner.registered = OptionalLong.of(event.nanoTime());
      if (runner.name.isEmpty()) {
        runner.name = registered.name();
      }
    } else if (event instanceof LoopEvent.RunnerStateChanged changed) {
      if (runner.vmExited.isEmpty()) {
        runner.state = changed.state();
      }
    } else if (event instanceof LoopEvent.VmExited) {
      runner.vmExited = OptionalLong.of(event.nanoTime());
      runner.state = RunnerStatus.State.ENDED;
    }
  }

  /** Runners whose VM started, in the order they started. */
  public synchronized List<Runner> started() {
    return runners.values().stream()
        .filter(r -> r.vmStarted.isPresent())
        .sorted(Comparator.comparingLong(r -> r.vmStarted.getAsLong()))
        .toList();
  }

  /** VMs started so far. */
  public synchronized int vmsStarted() {
    return (int) runners.values().stream().filter(r -> r.vmStarted.isPresent()).count();
  }

  /** VMs running now. */
  public synchronized int vmsRunning() {
    return (int)
        runners.values().stream()
            .filter(r -> r.vmStarted.isPresent() && r.vmExited.isEmpty())
            .count();
  }

  /** How many runners whose VM started are in {@code state} now. */
  public synchronized int inState(RunnerStatus.State state) {
    return (int)
        runners.values().stream().filter(r -> r.vmStarted.isPresent() && r.state == state).count();
  }

  /** The loops' back-off notes (why a runner failed), oldest first. */
  public synchronized List<String> backOffs() {
    return List.copyOf(backOffs);
  }
}
