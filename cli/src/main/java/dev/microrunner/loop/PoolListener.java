package dev.microrunner.loop;

import java.util.List;

/**
 * Receives the events of every runner loop with the name of the pool the loop belongs to, and the
 * pools as they change. The same threading rules as {@link LoopListener}: keep it fast and
 * thread-safe; an exception it throws is logged and otherwise ignored.
 */
@FunctionalInterface
public interface PoolListener {

  void onEvent(String pool, LoopEvent event);

  /**
   * The pools the orchestrator now runs: at start, and after each {@link Orchestrator#reconfigure}.
   */
  default void onPools(List<Pool> pools) {}

  /** A listener that ignores everything. */
  static PoolListener none() {
    return (pool, event) -> {};
  }
}
