package dev.microrunner.handshake.internal;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wake-up hints for waits on files in directories, from one watch service for the whole process. On
 * Linux each watch service is an inotify instance with a thread of its own, and a user may have 128
 * instances by default: one per loop directory would cost a thread per loop and fail beyond that
 * many loops. A change only wakes the waiters of its directory; they look at the directory
 * themselves, since events may be lost or coalesced (polling stays the source of truth).
 */
public final class DirectoryChanges {

  private static final Logger LOG = LoggerFactory.getLogger(DirectoryChanges.class);
  private static DirectoryChanges shared;
  private static boolean unavailable;

  private final WatchService service;
  private final Map<WatchKey, Subscription> subscriptions = new ConcurrentHashMap<>();

  private DirectoryChanges(WatchService service) {
    this.service = service;
    Thread dispatcher = new Thread(this::dispatch, "microrunner-directory-changes");
    dispatcher.setDaemon(true);
    dispatcher.start();
  }

  /**
   * Watches {@code directory} (of the default file system) for entries created or modified in it.
   *
   * @throws IOException when no watch is to be had; waiters then poll only
   */
  public static Subscription watch(Path directory) throws IOException {
    DirectoryChanges changes = shared();
    WatchKey key =
        directory.register(
            changes.service,
            StandardWatchEventKinds.ENTRY_CREATE,
            StandardWatchEventKinds.ENTRY_MODIFY);
    Subscription subscription = new Subscription(changes, key);
    changes.subscriptions.put(key, subscription);
    return subscription;
  }

  private static synchronized DirectoryChanges shared() throws IOException {
    if (shared == null) {
      if (unavailable) {
        throw new IOException("no watch service on this system");
      }
      try {
        shared = new DirectoryChanges(FileSystems.getDefault().newWatchService());
      } catch (IOException | RuntimeException e) {
        unavailable = true;
        throw e;
      }
    }
    return shared;
  }

  private void dispatch() {
    while (true) {
      WatchKey key;
      try {
        key = service.take();
      } catch (InterruptedException | ClosedWatchServiceException e) {
        LOG.debug("Directory watch ended: {}", e.toString());
        return;
      }
      key.pollEvents();
      Subscription subscription = subscriptions.get(key);
      if (subscription != null) {
        subscription.changed();
      }
      key.reset();
    }
  }

  /** One watched directory: a change counter that waits can be cut short by. */
  public static final class Subscription implements AutoCloseable {
    private final DirectoryChanges owner;
    private final WatchKey key;
    private long changes;

    private Subscription(DirectoryChanges owner, WatchKey key) {
      this.owner = owner;
      this.key = key;
    }

    /** How many changes were seen so far; pass it to {@link #awaitChangeAfter}. */
    public synchronized long changes() {
      return changes;
    }

    /**
     * Waits until a change after the {@code seen}-th one, or {@code nanos} passed. Read {@link
     * #changes()} before looking at the directory, so that a change in between is not waited for.
     */
    public synchronized void awaitChangeAfter(long seen, long nanos) throws InterruptedException {
      long deadline = System.nanoTime() + nanos;
      long left = nanos;
      while (changes == seen && left > 0) {
        TimeUnit.NANOSECONDS.timedWait(this, left);
        left = deadline - System.nanoTime();
      }
    }

    private synchronized void changed() {
      changes++;
      notifyAll();
    }

    /** Stops watching; waits then only time out. */
    @Override
    public void close() {
      key.cancel();
      owner.subscriptions.remove(key);
    }
  }
}
