package dev.microrunner.github;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Demand without webhooks, or despite lost ones: every period it asks GitHub for the repository's
 * queued jobs and replaces what {@link JobDemand} knows of that repository with them. GitHub does
 * not retry a failed webhook delivery, so a delivery lost while the receiver was down is made up
 * for within one period.
 *
 * <p>One pass: {@code GET /repos/{owner}/{repo}/actions/runs?status=queued} and {@code
 * status=in_progress} (a run is in progress as soon as one of its jobs is, while others may still
 * wait), the jobs of each such run, and the runners (to tell busy from idle). A pass makes at most
 * {@link Options#maxCallsPerPeriod} calls (pages of a list count as one; GitHub answers 100 items a
 * page); when the budget runs out the jobs found so far are added but none is removed. When
 * GitHub's rate limit runs low (at most {@link Options#lowRateLimitFraction} left) the period
 * stretches so that the calls left last until the window resets.
 *
 * <p>Only repositories have workflow runs at GitHub: the client's scope must be a repository (an
 * organization's pool runs one reconciler per repository it serves).
 */
public final class DemandReconciler implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DemandReconciler.class);

  /**
   * How often and how much it asks.
   *
   * @param period the time between two passes, at least {@link #MIN_PERIOD}
   * @param maxCallsPerPeriod calls per pass, at least 3 (the runs, once each status, and the
   *     runners)
   * @param lowRateLimitFraction the share of the rate-limit window left below which passes stretch
   */
  public record Options(Duration period, int maxCallsPerPeriod, double lowRateLimitFraction) {

    /** Passes closer together than this would spend a rate-limit window for little news. */
    public static final Duration MIN_PERIOD = Duration.ofSeconds(2);

    public Options {
      Objects.requireNonNull(period, "period");
      if (period.compareTo(MIN_PERIOD) < 0) {
        throw new IllegalArgumentException(
            "reconcile period " + period + " is shorter than " + MIN_PERIOD);
      }
      if (maxCallsPerPeriod < 3) {
        throw new IllegalArgumentException(
            "maxCallsPerPeriod must be at least 3, got " + maxCallsPerPeriod);
      }
      if (!(lowRateLimitFraction >= 0 && lowRateLimitFraction < 1)) {
        throw new IllegalArgumentException(
            "lowRateLimitFraction must be in [0, 1), got " + lowRateLimitFraction);
      }
    }

    /**
     * Every 30 s, at most 50 calls: 6,000 calls an hour at most, and a handful in the usual case
     * (no queued run: 3 calls a pass, 360 an hour of a PAT's 5,000); stretched below a tenth left.
     */
    public static Options defaults() {
      return new Options(Duration.ofSeconds(30), 50, 0.1);
    }

    public Options withPeriod(Duration newPeriod) {
      return new Options(newPeriod, maxCallsPerPeriod, lowRateLimitFraction);
    }

    public Options withMaxCallsPerPeriod(int calls) {
      return new Options(period, calls, lowRateLimitFraction);
    }
  }

  /**
   * What one pass found.
   *
   * @param queuedJobs the repository's queued jobs it saw
   * @param busyRunners runners of the client's scope running a job
   * @param idleRunners runners online and not busy: they will take queued jobs without help
   * @param calls the calls it made
   * @param complete false when the call budget ran out before every run was looked at
   * @param nextPass when the next pass is due
   */
  public record Pass(
      int queuedJobs,
      int busyRunners,
      int idleRunners,
      int calls,
      boolean complete,
      Instant nextPass) {}

  private final GitHubRunnerClient client;
  private final String repository;
  private final JobDemand demand;
  private final Options options;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private volatile Optional<Pass> lastPass = Optional.empty();

  /** The next pass, so that closing cancels it. */
  private volatile Future<?> next;

  /**
   * A reconciler feeding {@code demand} from {@code client}'s repository; {@link #start} runs it,
   * {@link #reconcileOnce} makes one pass now.
   */
  public DemandReconciler(
      GitHubRunnerClient client, JobDemand demand, Options options, Clock clock) {
    this.client = Objects.requireNonNull(client, "client");
    if (client.scope().kind() != RunnerScope.Kind.REPO) {
      throw new IllegalArgumentException(
          "GitHub lists workflow runs per repository only; scope "
              + client.scope()
              + " is not one");
    }
    this.repository = client.scope().principal();
    this.demand = Objects.requireNonNull(demand, "demand");
    this.options = Objects.requireNonNull(options, "options");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "demand-reconciler-" + repository);
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Makes the first pass now, then one each period (stretched when the rate limit runs low). */
  public DemandReconciler start() {
    next = scheduler.submit(this::passAndReschedule);
    return this;
  }

  /** The latest pass, once one completed. */
  public Optional<Pass> lastPass() {
    return lastPass;
  }

  private void passAndReschedule() {
    Duration delay;
    try {
      delay = Duration.between(clock.instant(), reconcileOnce().nextPass());
    } catch (GitHubRateLimitException e) {
      Instant until = e.retryAt().orElse(clock.instant().plus(options.period()));
      delay = max(options.period(), Duration.between(clock.instant(), until));
      LOG.warn("demand reconcile of {} rate limited; next in {}", repository, delay);
    } catch (GitHubException | RuntimeException e) {
      delay = options.period();
      LOG.warn("demand reconcile of {} failed; next in {}: {}", repository, delay, e.getMessage());
    }
    try {
      next =
          scheduler.schedule(
              this::passAndReschedule, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Closed during the pass: no next one.
    }
  }

  /** One pass, now, on the calling thread. */
  public Pass reconcileOnce() throws GitHubException {
    int budget = options.maxCallsPerPeriod();
    int calls = 0;
    List<Runner> runners = client.listRunners();
    calls++;
    List<WorkflowRun> runs = new ArrayList<>(client.listWorkflowRuns("queued"));
    calls++;
    runs.addAll(client.listWorkflowRuns("in_progress"));
    calls++;
    List<QueuedJob> queued = new ArrayList<>();
    boolean complete = true;
    for (WorkflowRun run : runs) {
      if (calls >= budget) {
        complete = false;
        break;
      }
      calls++;
      for (WorkflowJob job : client.listWorkflowRunJobs(run.id())) {
        if (job.queued()) {
          queued.add(new QueuedJob(job.id(), job.runId(), repository, job.labels()));
        }
      }
    }
    if (complete) {
      demand.replaceFromSnapshot(repository, queued);
    } else {
      queued.forEach(
          job ->
              demand.apply(
                  new WorkflowJobEvent(
                      "queued",
                      job.jobId(),
                      job.runId(),
                      repository,
                      Optional.empty(),
                      job.labels(),
                      Optional.empty(),
                      Optional.empty())));
      LOG.warn(
          "demand reconcile of {} stopped after {} calls with {} runs to look at",
          repository,
          calls,
          runs.size());
    }
    int busy = (int) runners.stream().filter(Runner::busy).count();
    int idle = (int) runners.stream().filter(r -> !r.busy() && "online".equals(r.status())).count();
    Instant now = clock.instant();
    Pass pass =
        new Pass(queued.size(), busy, idle, calls, complete, now.plus(nextDelay(calls, now)));
    lastPass = Optional.of(pass);
    return pass;
  }

  /**
   * The period, or longer when the rate limit is low: the window's calls left, spent {@code calls}
   * a pass, must last until it resets.
   */
  Duration nextDelay(int calls, Instant now) {
    Optional<RateLimitStatus> limit = client.rateLimit();
    if (limit.isEmpty() || !limit.get().below(options.lowRateLimitFraction())) {
      return options.period();
    }
    Duration untilReset = Duration.between(now, limit.get().reset());
    if (untilReset.isNegative()) {
      return options.period();
    }
    long passesLeft = limit.get().remaining() / Math.max(1, calls);
    if (passesLeft == 0) {
      return max(options.period(), untilReset);
    }
    return max(options.period(), untilReset.dividedBy(passesLeft));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public void close() {
    Future<?> pending = next;
    if (pending != null) {
      pending.cancel(true);
    }
    scheduler.shutdownNow();
  }

  @Override
  public String toString() {
    return "DemandReconciler[" + repository + ", every " + options.period() + "]";
  }
}
