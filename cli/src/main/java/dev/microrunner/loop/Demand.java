package dev.microrunner.loop;

/**
 * What a demand-driven pool is asked to serve: how many queued jobs its runners could take now. The
 * orchestrator asks often (every scaling round, and before a loop that just finished a job starts
 * another runner), so an answer must be cheap and must not call GitHub; {@link #changed} lets the
 * source wake the orchestrator when demand moves.
 */
public interface Demand {

  /** Queued jobs that {@code pool}'s runners (its labels, its scope) could take. */
  int queuedFor(Pool pool);

  /**
   * Registers {@code onChange}, run (on the source's thread, quickly) whenever the demand may have
   * changed. The default never calls it: the orchestrator then only looks on its own period.
   */
  default void changed(Runnable onChange) {}

  /** No demand at all: demand-driven pools keep their {@code min-idle} runners and no more. */
  static Demand none() {
    return pool -> 0;
  }
}
