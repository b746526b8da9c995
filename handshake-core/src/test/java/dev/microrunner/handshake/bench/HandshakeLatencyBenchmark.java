package dev.microrunner.handshake.bench;

import dev.microrunner.handshake.GuestHandshake;
import dev.microrunner.handshake.HostLoopDirectory;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.TerminationWatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures how quickly each side notices the other's file, end to end through the real public API
 * on the real file system. Not a test: run it on demand (see docs/benchmarks.md).
 *
 * <ul>
 *   <li>host: from the guest starting to write {@code <id>.tkn} to {@link
 *       HostLoopDirectory#awaitRegistration} returning that id;
 *   <li>guest: from the host starting to write {@code <id>.trm} to the {@link
 *       GuestHandshake#watchTermination} handler running, at the default poll interval.
 * </ul>
 *
 * <p>Each write happens after a random delay so that it lands at a random phase of the waiter's
 * poll cycle, as it does in real use.
 *
 * <p>Arguments: {@code [hostSamples [guestSamples]]}, defaults 300 and 100.
 */
public final class HandshakeLatencyBenchmark {
  private static final int WARMUP = 20;

  private HandshakeLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    int hostSamples = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int guestSamples = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    Path base = Files.createTempDirectory("handshake-bench");
    try {
      HostLoopDirectory loop = HostLoopDirectory.create(base.resolve("loop-1"), 1);
      System.out.printf(
          "machine: %d cpus, %s %s, java %s%n",
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("os.name"),
          System.getProperty("os.version"),
          System.getProperty("java.version"));
      measureHost(loop, WARMUP);
      print("host detects .tkn (awaitRegistration)", measureHost(loop, hostSamples));
      measureGuest(loop, WARMUP / 4);
      print(
          "guest detects .trm (watchTermination, "
              + GuestHandshake.DEFAULT_POLL_INTERVAL.toMillis()
              + " ms poll)",
          measureGuest(loop, guestSamples));
      loop.deleteAfterVmsEnded();
    } finally {
      Files.deleteIfExists(base);
    }
  }

  private static void print(String name, double[] millis) {
    Arrays.sort(millis);
    System.out.printf(
        "%-50s n=%d  p50=%.1f ms  p95=%.1f ms  p99=%.1f ms  max=%.1f ms%n",
        name,
        millis.length,
        percentile(millis, 50),
        percentile(millis, 95),
        percentile(millis, 99),
        millis[millis.length - 1]);
  }

  private static double[] measureHost(HostLoopDirectory loop, int samples) throws Exception {
    ExecutorService waiter = Executors.newSingleThreadExecutor();
    try {
      double[] millis = new double[samples];
      for (int i = 0; i < samples; i++) {
        RunnerId id = RunnerId.random(loop.loop());
        GuestHandshake guest = GuestHandshake.forEnvFile(loop.path().resolve(id + ".env"));
        AtomicLong detectedAt = new AtomicLong();
        Future<Optional<RunnerId>> registration =
            waiter.submit(
                () -> {
                  Optional<RunnerId> found = loop.awaitRegistration(Duration.ofSeconds(10));
                  detectedAt.set(System.nanoTime());
                  return found;
                });
        TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextInt(20, 60));
        long writtenAt = System.nanoTime();
        guest.publishRegistration("benchmark runner");
        if (!registration.get().equals(Optional.of(id))) {
          throw new IllegalStateException("host saw " + registration.get() + ", expected " + id);
        }
        millis[i] = (detectedAt.get() - writtenAt) / 1e6;
        loop.removeRunnerFiles(id);
      }
      return millis;
    } finally {
      waiter.shutdownNow();
    }
  }

  private static double[] measureGuest(HostLoopDirectory loop, int samples) throws Exception {
    LoopSecret secret = LoopSecret.generate();
    long interval = GuestHandshake.DEFAULT_POLL_INTERVAL.toMillis();
    double[] millis = new double[samples];
    for (int i = 0; i < samples; i++) {
      RunnerId id = RunnerId.random(loop.loop());
      GuestHandshake guest = GuestHandshake.forEnvFile(loop.path().resolve(id + ".env"));
      CountDownLatch terminated = new CountDownLatch(1);
      AtomicLong detectedAt = new AtomicLong();
      TerminationWatch watch =
          guest.watchTermination(
              secret,
              () -> {
                detectedAt.set(System.nanoTime());
                terminated.countDown();
              });
      try {
        TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextLong(interval, 2 * interval));
        long writtenAt = System.nanoTime();
        loop.requestTermination(id, secret);
        if (!terminated.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("guest never saw the terminate file of " + id);
        }
        millis[i] = (detectedAt.get() - writtenAt) / 1e6;
      } finally {
        watch.close();
      }
      loop.removeRunnerFiles(id);
    }
    return millis;
  }

  private static double percentile(double[] sorted, int percent) {
    int index = (int) Math.ceil(percent / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(index, sorted.length - 1))];
  }
}
