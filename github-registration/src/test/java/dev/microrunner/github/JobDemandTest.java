package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JobDemandTest {

  /** A self-hosted Linux x64 runner labelled {@code krun}, with its implicit labels. */
  private static final Set<String> KRUN = Set.of("self-hosted", "Linux", "X64", "krun");

  private static WorkflowJobEvent event(
      String action, long jobId, String repository, String... labels) {
    boolean taken = !action.equals("queued");
    return new WorkflowJobEvent(
        action,
        jobId,
        jobId + 100,
        repository,
        Optional.empty(),
        List.of(labels),
        taken ? Optional.of(9L) : Optional.empty(),
        taken ? Optional.of("krun-9") : Optional.empty());
  }

  @Test
  void aRunnerCountsTheJobsWhoseLabelsItHasAllOfCaseInsensitively() {
    JobDemand demand = new JobDemand();
    demand.apply(event("queued", 1, "octo/hello", "self-hosted"));
    demand.apply(event("queued", 2, "octo/hello", "SELF-HOSTED", "linux", "Krun"));
    demand.apply(event("queued", 3, "octo/hello", "self-hosted", "gpu"));
    demand.apply(event("queued", 4, "octo/hello", "ubuntu-latest"));

    assertEquals(2, demand.queuedFor(KRUN), "jobs 1 and 2; gpu and ubuntu-latest not");
    assertEquals(3, demand.queuedFor(Set.of("self-hosted", "linux", "x64", "krun", "GPU")));
    assertEquals(0, demand.queuedFor(Set.of("krun")), "a job needing self-hosted is not counted");
    assertEquals(4, demand.queued().size());
  }

  @Test
  void queuedTwiceIsOneJobAndTakenOrCompletedRemovesIt() {
    JobDemand demand = new JobDemand();
    assertTrue(demand.apply(event("queued", 1, "octo/hello", "krun")));
    assertFalse(demand.apply(event("queued", 1, "octo/hello", "krun")));
    demand.apply(event("queued", 2, "octo/hello", "krun"));
    assertEquals(2, demand.queuedFor(KRUN));

    assertTrue(demand.apply(event("in_progress", 1, "octo/hello", "krun")));
    assertFalse(demand.apply(event("completed", 1, "octo/hello", "krun")));
    assertFalse(demand.apply(event("waiting", 2, "octo/hello", "krun")));
    assertEquals(1, demand.queuedFor(KRUN));
  }

  @Test
  void aLateQueuedDoesNotResurrectATakenOrFinishedJob() {
    JobDemand demand = new JobDemand();
    demand.apply(event("completed", 1, "octo/hello", "krun"));
    demand.apply(event("in_progress", 2, "octo/hello", "krun"));
    assertFalse(demand.apply(event("queued", 1, "octo/hello", "krun")));
    assertFalse(demand.apply(event("queued", 2, "octo/hello", "krun")));
    assertEquals(0, demand.queuedFor(KRUN));

    // Nor does a snapshot taken before the job was taken.
    demand.replaceFromSnapshot(
        "octo/hello", List.of(new QueuedJob(1, 101, "octo/hello", List.of("krun"))));
    assertEquals(0, demand.queuedFor(KRUN));
  }

  @Test
  void finishedJobsAreRememberedBoundedly() {
    JobDemand demand = new JobDemand(2);
    demand.apply(event("completed", 1, "octo/hello", "krun"));
    demand.apply(event("completed", 2, "octo/hello", "krun"));
    demand.apply(event("completed", 3, "octo/hello", "krun"));
    assertTrue(demand.apply(event("queued", 1, "octo/hello", "krun")), "1 was forgotten");
    assertFalse(demand.apply(event("queued", 3, "octo/hello", "krun")));
  }

  @Test
  void aSnapshotReplacesOneRepositorysJobs() {
    JobDemand demand = new JobDemand();
    demand.apply(event("queued", 1, "octo/hello", "krun"));
    demand.apply(event("queued", 2, "octo/hello", "krun"));
    demand.apply(event("queued", 3, "octo/other", "krun"));

    demand.replaceFromSnapshot(
        "Octo/Hello",
        List.of(
            new QueuedJob(2, 102, "octo/hello", List.of("krun")),
            new QueuedJob(4, 104, "octo/hello", List.of("krun"))));

    assertEquals(
        List.of(2L, 3L, 4L), demand.queued().stream().map(QueuedJob::jobId).sorted().toList());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            demand.replaceFromSnapshot(
                "octo/hello", List.of(new QueuedJob(5, 105, "octo/other", List.of()))));
  }

  @Test
  void aScopeCountsOnlyTheJobsOfTheRepositoriesItServes() {
    JobDemand demand = new JobDemand();
    demand.apply(event("queued", 1, "octo/hello", "krun"));
    demand.apply(event("queued", 2, "octo/other", "krun"));
    demand.apply(event("queued", 3, "elsewhere/x", "krun"));

    assertEquals(1, demand.queuedFor(KRUN, RunnerScope.of("repo", "Octo/Hello")));
    assertEquals(2, demand.queuedFor(KRUN, RunnerScope.of("org", "octo")));
    assertEquals(3, demand.queuedFor(KRUN, RunnerScope.of("enterprise", "big")));
    assertEquals(3, demand.queuedFor(KRUN));
  }
}
