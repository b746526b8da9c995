package dev.microrunner.handshake;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hostile guest that keeps replacing one name with a regular file, a symbolic link to a canary
 * and a FIFO, each swap an atomic rename, until stopped.
 */
final class NameSwapper implements AutoCloseable {
  private final Path target;
  private final Path canary;
  private final byte[] fileContent;
  private final Path staging;
  private final int fifos;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicInteger swaps = new AtomicInteger();
  private final Thread thread;
  private volatile Throwable failure;

  private NameSwapper(Path target, Path canary, byte[] fileContent, Path staging, int fifos)
      throws IOException, InterruptedException {
    this.target = target;
    this.canary = canary;
    this.fileContent = fileContent;
    this.staging = Files.createDirectory(staging);
    this.fifos = fifos;
    Path[] names = new Path[fifos];
    for (int i = 0; i < fifos; i++) {
      names[i] = staging.resolve("fifo-" + i);
    }
    HostileFiles.mkfifo(names);
    thread = new Thread(this::run, "hostile-swapper");
    thread.setDaemon(true);
  }

  /**
   * Starts swapping and returns after the first swap, so that the caller's operations always race a
   * swapper that runs: on a loaded machine the thread may otherwise start only after them.
   */
  private NameSwapper start() {
    thread.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> swaps.get() > 0 || failure != null);
    return this;
  }

  /** Something the test does to the swapped name, over and over. */
  @FunctionalInterface
  interface Operation {
    void run() throws Exception;
  }

  /**
   * Runs {@code operation} {@code calls} times while a swapper keeps replacing {@code target};
   * fails if that takes longer than a bound (something blocked) or the swapper failed.
   */
  static void race(
      Path target, Path canary, byte[] fileContent, Path staging, int calls, Operation operation)
      throws Exception {
    NameSwapper swapper = new NameSwapper(target, canary, fileContent, staging, calls).start();
    try {
      assertTimeoutPreemptively(
          Duration.ofSeconds(30),
          () -> {
            for (int i = 0; i < calls; i++) {
              operation.run();
            }
          });
    } finally {
      swapper.close();
    }
  }

  private void run() {
    int fifo = 0;
    try {
      for (int i = 0; !stop.get(); i++) {
        Path next;
        switch (i % 3) {
          case 0 -> next = Files.write(staging.resolve("file-" + i), fileContent);
          case 1 -> next = Files.createSymbolicLink(staging.resolve("link-" + i), canary);
          default -> {
            if (fifo >= fifos) {
              continue;
            }
            next = staging.resolve("fifo-" + fifo++);
          }
        }
        Files.move(next, target, StandardCopyOption.ATOMIC_MOVE);
        swaps.incrementAndGet();
      }
    } catch (NoSuchFileException ignored) {
      // the test's directory went away
    } catch (Throwable e) {
      failure = e;
    }
  }

  @Override
  public void close() {
    stop.set(true);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (failure != null) {
      throw new AssertionError("swapper failed", failure);
    }
  }
}
