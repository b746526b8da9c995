package dev.microrunner.cli;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * SIGINT and SIGTERM handling for commands that must clean up before exiting. The JVM's default
 * (run shutdown hooks, exit 143) would race the clean-up, so the handlers replace it: the first
 * signal asks for a graceful stop, later ones for an immediate one.
 */
final class Signals {

  private Signals() {}

  /** Calls {@code stop.accept(false)} on the first signal, {@code stop.accept(true)} after. */
  static void onTermination(Consumer<Boolean> stop) {
    AtomicInteger count = new AtomicInteger();
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), signal -> stop.accept(count.incrementAndGet() > 1));
    }
  }

  /** Calls {@code action} once per signal. */
  static void onEachTermination(Runnable action) {
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), signal -> action.run());
    }
  }
}
