package dev.microrunner.loop;

/**
 * Receives the events of every runner loop. Called on the loop's own threads (and on background
 * threads for {@link LoopEvent.RunnerCreated} and {@link LoopEvent.RegistrationRemoved}): keep it
 * fast and thread-safe; an exception it throws is logged and otherwise ignored.
 */
@FunctionalInterface
public interface LoopListener {

  void onEvent(LoopEvent event);

  /** A listener that ignores everything. */
  static LoopListener none() {
    return event -> {};
  }

  /** A listener that passes each event to both. */
  default LoopListener andThen(LoopListener other) {
    return event -> {
      onEvent(event);
      other.onEvent(event);
    };
  }
}
