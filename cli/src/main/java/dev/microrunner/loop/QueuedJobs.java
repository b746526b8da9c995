package dev.microrunner.loop;

import dev.microrunner.github.JobDemand;
import dev.microrunner.github.WorkflowJobEvent;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Demand from GitHub: the queued jobs of {@link JobDemand}, as {@code workflow_job} webhooks
 * ({@link #accept}) and reconcile polling tell of them, counted per pool by its runners' labels and
 * scope.
 */
public final class QueuedJobs implements Demand {

  private final JobDemand jobs;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  public QueuedJobs(JobDemand jobs) {
    this.jobs = Objects.requireNonNull(jobs, "jobs");
  }

  /** What the webhooks and the polling feed. */
  public JobDemand jobs() {
    return jobs;
  }

  /** A webhook's event: applied, and the orchestrator woken when it changed the demand. */
  public void accept(WorkflowJobEvent event) {
    if (jobs.apply(event)) {
      listeners.forEach(Runnable::run);
    }
  }

  @Override
  public int queuedFor(Pool pool) {
    return jobs.queuedFor(runnerLabels(pool.runner()), pool.runner().scope());
  }

  @Override
  public void changed(Runnable onChange) {
    listeners.add(Objects.requireNonNull(onChange, "onChange"));
  }

  /**
   * A pool's runners' labels as GitHub matches them: its own, plus the labels every self-hosted
   * runner has (self-hosted, its OS, its architecture), so that {@code runs-on: [self-hosted,
   * linux, x64]} counts for it.
   */
  static Set<String> runnerLabels(RunnerConfig runner) {
    // JobDemand compares labels case-insensitively.
    Set<String> labels = new HashSet<>(runner.effectiveLabels());
    labels.add("self-hosted");
    labels.add("linux");
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    labels.add(arch.equals("aarch64") || arch.equals("arm64") ? "arm64" : "x64");
    return labels;
  }
}
