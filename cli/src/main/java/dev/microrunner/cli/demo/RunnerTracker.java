package dev.microrunner.cli.demo;

import dev.microrunner.handshake.RunnerId;
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
    } else if (event instanceof LoopEvent.VmExited) {
      runner.vmExited = OptionalLong.of(event.nanoTime());
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

  /** The loops' back-off notes (why a runner failed), oldest first. */
  public synchronized List<String> backOffs() {
    return List.copyOf(backOffs);
  }
}
