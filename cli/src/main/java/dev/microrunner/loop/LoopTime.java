package dev.microrunner.loop;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Time as the orchestrator and its loops see it: a monotonic reading for lifetimes, deadlines and
 * event stamps, and the waits that only pass time (back-off, start timeouts, the pause between loop
 * starts). Waits on real events (a VM's exit, a registration file) are not made through it. Tests
 * substitute one whose waits return at once and move its clock on instead.
 */
public interface LoopTime {

  /** The system's clocks; waits really wait. */
  LoopTime SYSTEM =
      new LoopTime() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public Instant now() {
          return Instant.now();
        }

        @Override
        public boolean await(CountDownLatch signal, Duration timeout) throws InterruptedException {
          return signal.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
      };

  /** Monotonic nanoseconds, comparable only with other readings of this clock. */
  long nanoTime();

  /** The wall-clock time, for event stamps. */
  Instant now();

  /**
   * Waits until {@code signal} opens or {@code timeout} passed.
   *
   * @return true if the signal opened
   */
  boolean await(CountDownLatch signal, Duration timeout) throws InterruptedException;

  /** Waits {@code duration}; only an interrupt cuts it short. */
  default void sleep(Duration duration) throws InterruptedException {
    await(new CountDownLatch(1), duration);
  }
}
