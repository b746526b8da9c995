package dev.microrunner.github;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The workflow jobs that wait for a runner, as {@code workflow_job} webhooks ({@link #apply}) and
 * polling ({@link #replaceFromSnapshot}) tell of them. Thread-safe.
 *
 * <p>Events may come in any order and more than once: a {@code queued} for a job already queued
 * changes nothing, and a job that was seen {@code in_progress} or {@code completed} is remembered
 * (the last {@link #DEFAULT_REMEMBERED_DONE} of them) so that a late {@code queued}, or a snapshot
 * taken before it was taken, does not bring it back.
 */
public final class JobDemand {

  /** How many taken or finished job ids are remembered by default. */
  public static final int DEFAULT_REMEMBERED_DONE = 10_000;

  private final int rememberedDone;

  /** By job id, in the order queued; guarded by this. */
  private final Map<Long, QueuedJob> queued = new LinkedHashMap<>();

  /** Ids of jobs taken or finished, oldest first; guarded by this. */
  private final LinkedHashMap<Long, Boolean> done;

  public JobDemand() {
    this(DEFAULT_REMEMBERED_DONE);
  }

  /** Remembers the last {@code rememberedDone} taken or finished jobs. */
  public JobDemand(int rememberedDone) {
    if (rememberedDone < 1) {
      throw new IllegalArgumentException(
          "rememberedDone must be at least 1, got " + rememberedDone);
    }
    this.rememberedDone = rememberedDone;
    this.done =
        new LinkedHashMap<>() {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
            return size() > JobDemand.this.rememberedDone;
          }
        };
  }

  /**
   * Applies a webhook event: {@code queued} adds the job, {@code in_progress} and {@code completed}
   * remove it for good; other actions ({@code waiting}: an environment's approval) change nothing.
   * Returns whether the queued jobs changed.
   */
  public synchronized boolean apply(WorkflowJobEvent event) {
    return switch (event.action()) {
      case "queued" -> add(event.job());
      case "in_progress", "completed" -> {
        done.put(event.jobId(), Boolean.TRUE);
        yield queued.remove(event.jobId()) != null;
      }
      default -> false;
    };
  }

  private boolean add(QueuedJob job) {
    if (done.containsKey(job.jobId()) || queued.containsKey(job.jobId())) {
      return false;
    }
    queued.put(job.jobId(), job);
    return true;
  }

  /**
   * Replaces what is known of {@code repository}'s queued jobs by what polling found: its jobs not
   * in {@code snapshot} go, the snapshot's come (unless seen taken or finished). A job queued after
   * the snapshot was taken may go with it; the next snapshot or its webhook brings it back.
   */
  public synchronized void replaceFromSnapshot(String repository, Collection<QueuedJob> snapshot) {
    Set<Long> seen = new HashSet<>();
    for (QueuedJob job : snapshot) {
      if (!job.repository().equalsIgnoreCase(repository)) {
        throw new IllegalArgumentException(
            "job " + job.jobId() + " of " + job.repository() + " is not of " + repository);
      }
      seen.add(job.jobId());
    }
    queued
        .values()
        .removeIf(
            job -> job.repository().equalsIgnoreCase(repository) && !seen.contains(job.jobId()));
    snapshot.forEach(this::add);
  }

  /**
   * How many queued jobs a runner with {@code runnerLabels} can take: every label of the job must
   * be among the runner's, case-insensitively, as GitHub matches them. Pass the runner's full set:
   * a self-hosted runner also has the implicit {@code self-hosted}, its OS ({@code Linux}) and its
   * architecture ({@code X64}, {@code ARM64}) unless configured with {@code --no-default-labels}.
   */
  public int queuedFor(Set<String> runnerLabels) {
    return count(runnerLabels, repository -> true);
  }

  /**
   * As {@link #queuedFor(Set)}, counting only the jobs of repositories {@code scope} serves: the
   * repository itself, every repository of the organization (its owner), or all for an enterprise.
   */
  public int queuedFor(Set<String> runnerLabels, RunnerScope scope) {
    return count(runnerLabels, repository -> serves(scope, repository));
  }

  private int count(Set<String> runnerLabels, Predicate<String> repositories) {
    Set<String> labels = new HashSet<>();
    runnerLabels.forEach(label -> labels.add(label.toLowerCase(Locale.ROOT)));
    int count = 0;
    for (QueuedJob job : queued()) {
      if (repositories.test(job.repository()) && canTake(labels, job)) {
        count++;
      }
    }
    return count;
  }

  private static boolean canTake(Set<String> lowerCaseRunnerLabels, QueuedJob job) {
    for (String label : job.labels()) {
      if (!lowerCaseRunnerLabels.contains(label.toLowerCase(Locale.ROOT))) {
        return false;
      }
    }
    return true;
  }

  private static boolean serves(RunnerScope scope, String repository) {
    return switch (scope.kind()) {
      case REPO -> scope.principal().equalsIgnoreCase(repository);
      case ORG ->
          repository
              .toLowerCase(Locale.ROOT)
              .startsWith(scope.principal().toLowerCase(Locale.ROOT) + "/");
      case ENTERPRISE -> true;
    };
  }

  /** The queued jobs, in the order they were queued. */
  public synchronized List<QueuedJob> queued() {
    return new ArrayList<>(queued.values());
  }

  @Override
  public synchronized String toString() {
    return "JobDemand[" + queued.size() + " queued]";
  }
}
