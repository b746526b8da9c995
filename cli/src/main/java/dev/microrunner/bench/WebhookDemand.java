package dev.microrunner.bench;

import dev.microrunner.github.JobDemand;
import dev.microrunner.github.WebhookReceiver;
import dev.microrunner.github.WorkflowJobEvent;
import dev.microrunner.loop.Demand;
import dev.microrunner.loop.Pool;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A pool's demand as production will learn it: {@code workflow_job} webhooks, received by a {@link
 * WebhookReceiver}, applied to a {@link JobDemand}. A stand-in for the main branch's adapter until
 * the two meet.
 */
final class WebhookDemand implements Demand {

  /** The labels every self-hosted Linux x64 runner has besides its own (GitHub adds them). */
  private static final List<String> IMPLICIT_LABELS = List.of("self-hosted", "linux", "x64");

  private final JobDemand jobs = new JobDemand();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  /** The receiver's consumer: applies the event and wakes the orchestrator when it mattered. */
  void accept(WorkflowJobEvent event) {
    if (jobs.apply(event)) {
      listeners.forEach(Runnable::run);
    }
  }

  @Override
  public int queuedFor(Pool pool) {
    Set<String> labels = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    labels.addAll(IMPLICIT_LABELS);
    labels.addAll(pool.runner().effectiveLabels());
    return jobs.queuedFor(labels, pool.runner().scope());
  }

  @Override
  public void changed(Runnable onChange) {
    listeners.add(onChange);
  }
}
