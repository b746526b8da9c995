package dev.microrunner.loop;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Loop time for tests of timing: its clocks run with the system's, but its waits (back-off, start
 * timeouts, the pause between loop starts) return at once and move both clocks on by what they
 * would have waited. {@link #advance} moves them on from outside, e.g. to expire a lifetime.
 */
final class SkippingTime implements LoopTime {

  private final AtomicLong skippedNanos = new AtomicLong();
  private final Queue<Duration> skipped = new ConcurrentLinkedQueue<>();

  @Override
  public long nanoTime() {
    return System.nanoTime() + skippedNanos.get();
  }

  @Override
  public Instant now() {
    return Instant.now().plusNanos(skippedNanos.get());
  }

  @Override
  public boolean await(CountDownLatch signal, Duration timeout) {
    if (signal.getCount() == 0) {
      return true;
    }
    skipped.add(timeout);
    advance(timeout);
    return signal.getCount() == 0;
  }

  /** The waits skipped so far, in order. */
  List<Duration> skipped() {
    return List.copyOf(skipped);
  }

  void advance(Duration duration) {
    skippedNanos.addAndGet(duration.toNanos());
  }
}
