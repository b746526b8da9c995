package dev.microrunner.cli.fleet;

import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.PoolListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What every loop of a running orchestrator is doing, from its events: its pool, its current
 * runner, the runner's state and job, how long its VM has run, its failures in a row. What {@code
 * microrunner status} shows and what the loops-by-state gauge counts. Thread-safe.
 */
public final class FleetState implements PoolListener {

  /** A loop's state as status and metrics name it. */
  public enum State {
    STARTING,
    IDLE,
    BUSY,
    STOPPING,
    BACKING_OFF;

    /** {@code starting}, {@code idle}, {@code busy}, {@code stopping}, {@code backing-off}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * One loop as it is now.
   *
   * @param runner the current runner's id, empty between runners
   * @param vmStarted when the current runner's VM started
   * @param job the job the runner runs or ran (its name, with every known secret masked)
   */
  public record Loop(
      String pool,
      int loop,
      Optional<String> runner,
      State state,
      Optional<Instant> vmStarted,
      Optional<String> job,
      int failuresInARow) {

    /** How long the current VM has run, at {@code now}. */
    public Optional<Duration> vmAge(Instant now) {
      return vmStarted.map(started -> Duration.between(started, now));
    }
  }

  private final Map<Integer, Loop> loops = new TreeMap<>();
  private final Map<String, Pool> pools = new LinkedHashMap<>();

  @Override
  public synchronized void onPools(List<Pool> configured) {
    pools.clear();
    configured.forEach(pool -> pools.put(pool.name(), pool));
  }

  @Override
  public synchronized void onEvent(String pool, LoopEvent event) {
    int number = event.loop();
    Loop now = loops.get(number);
    if (event instanceof LoopEvent.Ended) {
      loops.remove(number);
      return;
    }
    if (now == null || !now.pool().equals(pool)) {
      now =
          new Loop(
              pool,
              number,
              Optional.empty(),
              State.STARTING,
              Optional.empty(),
              Optional.empty(),
              0);
    }
    Loop next = now;
    boolean current =
        event instanceof LoopEvent.RunnerEvent runnerEvent
            && runnerEvent.runner().toString().equals(now.runner().orElse(""));
    if (event instanceof LoopEvent.VmStarted started) {
      next =
          new Loop(
              pool,
              number,
              Optional.of(started.runner().toString()),
              State.STARTING,
              Optional.of(started.time()),
              Optional.empty(),
              now.failuresInARow());
    } else if (event instanceof LoopEvent.RunnerStateChanged changed && current) {
      next =
          new Loop(
              pool,
              number,
              now.runner(),
              stateOf(changed.state()),
              now.vmStarted(),
              changed.job().map(RunnerStatus.Job::name).or(now::job),
              now.failuresInARow());
    } else if (event instanceof LoopEvent.Registered && current) {
      next =
          new Loop(
              pool,
              number,
              now.runner(),
              now.state() == State.STARTING ? State.IDLE : now.state(),
              now.vmStarted(),
              now.job(),
              0);
    } else if (event instanceof LoopEvent.VmExited && current) {
      next =
          new Loop(
              pool,
              number,
              Optional.empty(),
              State.STARTING,
              Optional.empty(),
              Optional.empty(),
              now.failuresInARow());
    } else if (event instanceof LoopEvent.BackingOff backingOff) {
      next =
          new Loop(
              pool,
              number,
              Optional.empty(),
              State.BACKING_OFF,
              Optional.empty(),
              Optional.empty(),
              backingOff.failuresInARow());
    }
    loops.put(number, next);
  }

  private static State stateOf(RunnerStatus.State state) {
    return switch (state) {
      case STARTING -> State.STARTING;
      case IDLE -> State.IDLE;
      case BUSY -> State.BUSY;
      case STOPPING, ENDED -> State.STOPPING;
    };
  }

  /** Every running loop, by pool in configured order, then by number. */
  public synchronized List<Loop> loops() {
    List<String> order = new ArrayList<>(pools.keySet());
    List<Loop> all = new ArrayList<>(loops.values());
    all.sort(
        Comparator.<Loop>comparingInt(
                l -> order.contains(l.pool()) ? order.indexOf(l.pool()) : order.size())
            .thenComparing(Loop::pool)
            .thenComparingInt(Loop::loop));
    return all;
  }

  /** The pools as last configured. */
  public synchronized List<Pool> pools() {
    return List.copyOf(pools.values());
  }

  /** How many running loops of {@code pool} are in each state (every state, zeros included). */
  public synchronized Map<State, Integer> count(String pool) {
    Map<State, Integer> counts = new LinkedHashMap<>();
    for (State state : State.values()) {
      counts.put(state, 0);
    }
    for (Loop loop : loops.values()) {
      if (loop.pool().equals(pool)) {
        counts.merge(loop.state(), 1, Integer::sum);
      }
    }
    return counts;
  }
}
