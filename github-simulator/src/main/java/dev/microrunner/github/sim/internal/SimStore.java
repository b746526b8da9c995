package dev.microrunner.github.sim.internal;

import dev.microrunner.github.sim.Fault;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The simulator's state: tokens, Apps, runner groups, runners, jobs, the request count and the
 * pending faults. Every method runs under the store's monitor.
 */
public final class SimStore {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  private static final String ALNUM =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  record IssuedToken(String token, String scope, Instant expiresAt) {
    @Override
    public String toString() {
      return "IssuedToken[" + scope + ", expires " + expiresAt + "]";
    }
  }

  record App(String appId, PublicKey publicKey, long installationId) {}

  record Group(long id, String name, boolean isDefault) {}

  static final class RunnerRecord {
    final long id;
    final String name;
    final String scope;
    final List<String> labels;
    final boolean ephemeral;
    final long groupId;
    final String credential;
    boolean online;
    Long jobId;

    /** The actions/runner version its listener announced when it connected. */
    String version;

    boolean disableUpdate;
    boolean updateOffered;

    RunnerRecord(
        long id,
        String name,
        String scope,
        List<String> labels,
        boolean ephemeral,
        long groupId,
        String credential) {
      this.id = id;
      this.name = name;
      this.scope = scope;
      this.labels = List.copyOf(labels);
      this.ephemeral = ephemeral;
      this.groupId = groupId;
      this.credential = credential;
    }

    SimState.RunnerState snapshot() {
      return new SimState.RunnerState(
          id, name, scope, online ? "online" : "offline", jobId != null, labels, ephemeral);
    }
  }

  static final class JobRecord {
    final long id;
    final SimJob job;
    final Instant queuedAt;

    /** The repository whose workflow run it belongs to. */
    final RestApiState.Repository repository;

    /** Its workflow run, of which it is the one job. */
    final long runId;

    Long runnerId;
    String runnerName;
    Long runnerGroupId;
    Instant startedAt;
    Instant finishedAt;
    String result;
    Instant cancelStartedAt;

    JobRecord(
        long id, SimJob job, Instant queuedAt, RestApiState.Repository repository, long runId) {
      this.id = id;
      this.job = job;
      this.queuedAt = queuedAt;
      this.repository = repository;
      this.runId = runId;
    }

    String status() {
      return finishedAt != null ? "completed" : startedAt != null ? "in_progress" : "queued";
    }

    SimState.JobState snapshot() {
      return new SimState.JobState(
          id,
          job.name(),
          job.labels(),
          status(),
          Optional.ofNullable(runnerId),
          Optional.ofNullable(runnerName),
          queuedAt,
          Optional.ofNullable(startedAt),
          Optional.ofNullable(finishedAt),
          Optional.ofNullable(result),
          Optional.ofNullable(cancelStartedAt));
    }
  }

  /**
   * Told of every change of a job's status, under the store's monitor, so that what it reads of the
   * job is that change's state: keep it short.
   */
  @FunctionalInterface
  public interface JobListener {
    /** {@code action}: {@code queued}, {@code in_progress} or {@code completed}. */
    void jobChanged(JobRecord job, String action);
  }

  /** Where jobs belong when nothing is declared: {@code microrunner sim}'s default repository. */
  static final RestApiState.Repository DEFAULT_REPOSITORY =
      new RestApiState.Repository("demo/hello", 500_000L);

  final Clock clock;
  final Duration tokenLifetime;
  private final RestApiState rest;
  private JobListener jobListener = (job, action) -> {};
  final Set<String> acceptedTokens = ConcurrentHashMap.newKeySet();
  final Map<String, Instant> installationTokens = new HashMap<>();
  final Map<String, App> apps = new HashMap<>();
  final Map<String, IssuedToken> registrationTokens = new HashMap<>();
  final Map<String, IssuedToken> removeTokens = new HashMap<>();
  final Map<Long, RunnerRecord> runners = new LinkedHashMap<>();
  final List<JobRecord> jobs = new ArrayList<>();
  final List<Group> groups = new ArrayList<>(List.of(new Group(1, "Default", true)));
  private long nextRunnerId = 1;
  private long nextJobId = 1;
  private long nextRunId = 10_001;
  private long nextInstallationId = 1000;
  int removedRunners;
  private long apiRequests;
  private final Faults faults = new Faults();

  public SimStore(Clock clock, Duration tokenLifetime, RestApiState rest) {
    this.clock = clock;
    this.tokenLifetime = tokenLifetime;
    this.rest = rest;
  }

  /** Tells {@code listener} of every job's changes from now on (see {@link JobListener}). */
  public synchronized void setJobListener(JobListener listener) {
    this.jobListener = listener;
  }

  Instant now() {
    return clock.instant();
  }

  static String random(String alphabet, int length) {
    StringBuilder text = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      text.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return text.toString();
  }

  /** Accepts {@code pat} as a personal access token from now on. */
  public synchronized void acceptToken(String pat) {
    acceptedTokens.add(pat);
  }

  synchronized IssuedToken issue(Map<String, IssuedToken> tokens, String scope) {
    IssuedToken issued = new IssuedToken(random(UPPER_ALNUM, 29), scope, now().plus(tokenLifetime));
    tokens.put(issued.token(), issued);
    return issued;
  }

  /** Consumes nothing: registration tokens are reusable until they expire, as on GitHub. */
  synchronized boolean validToken(Map<String, IssuedToken> tokens, String token, String scope) {
    IssuedToken issued = tokens.get(token);
    return issued != null && issued.scope().equals(scope) && now().isBefore(issued.expiresAt());
  }

  public synchronized long registerApp(String appId, PublicKey key) {
    long installation = nextInstallationId++;
    apps.put(appId, new App(appId, key, installation));
    return installation;
  }

  synchronized String issueInstallationToken() {
    String token = "ghs_" + random(ALNUM, 36);
    installationTokens.put(token, now().plus(tokenLifetime));
    return token;
  }

  synchronized boolean authenticates(String token) {
    if (acceptedTokens.contains(token)) {
      return true;
    }
    Instant expiry = installationTokens.get(token);
    return expiry != null && now().isBefore(expiry);
  }

  public synchronized long addGroup(String name) {
    long id = groups.stream().mapToLong(Group::id).max().orElse(1) + 1;
    groups.add(new Group(id, name, false));
    return id;
  }

  synchronized Optional<RunnerRecord> runnerNamed(String scope, String name) {
    return runners.values().stream()
        .filter(runner -> runner.scope.equals(scope) && runner.name.equalsIgnoreCase(name))
        .findFirst();
  }

  synchronized RunnerRecord addRunner(
      String scope, String name, List<String> labels, boolean ephemeral, long groupId) {
    RunnerRecord runner =
        new RunnerRecord(
            nextRunnerId++, name, scope, labels, ephemeral, groupId, random(ALNUM, 40));
    runners.put(runner.id, runner);
    notifyAll();
    return runner;
  }

  synchronized Optional<RunnerRecord> runnerByCredential(String credential) {
    return runners.values().stream()
        .filter(runner -> runner.credential.equals(credential))
        .findFirst();
  }

  /**
   * Removes a runner. A job it was running stays in progress, as at GitHub, where only a runner
   * reports a job's end; callers refuse to remove a busy runner where GitHub does.
   */
  synchronized void removeRunner(long id) {
    RunnerRecord removed = runners.remove(id);
    if (removed != null) {
      removedRunners++;
      notifyAll();
    }
  }

  /** Queues {@code job}. */
  public void enqueue(SimJob job) {
    enqueue(List.of(job));
  }

  /**
   * Queues {@code newJobs}, each as the one job of a new workflow run; a job of a repository that
   * was not declared is refused (IllegalArgumentException), and then none is queued.
   */
  synchronized List<JobRecord> enqueue(List<SimJob> newJobs) {
    List<RestApiState.Repository> repositories = new ArrayList<>();
    for (SimJob job : newJobs) {
      repositories.add(repositoryOf(job));
    }
    List<JobRecord> added = new ArrayList<>();
    for (int i = 0; i < newJobs.size(); i++) {
      JobRecord record =
          new JobRecord(nextJobId++, newJobs.get(i), now(), repositories.get(i), nextRunId++);
      jobs.add(record);
      added.add(record);
      jobListener.jobChanged(record, "queued");
    }
    notifyAll();
    return added;
  }

  private RestApiState.Repository repositoryOf(SimJob job) {
    if (job.repository().isPresent()) {
      String name = job.repository().get();
      return rest.repository(name)
          .orElseThrow(
              () ->
                  new IllegalArgumentException(
                      "job " + job.name() + ": repository " + name + " was not declared"));
    }
    return rest.firstRepository().orElse(DEFAULT_REPOSITORY);
  }

  /** The jobs, in the order queued. */
  synchronized List<JobRecord> jobs() {
    return List.copyOf(jobs);
  }

  /** The runner group's name, if it exists. */
  synchronized Optional<String> groupName(long groupId) {
    return groups.stream().filter(group -> group.id() == groupId).map(Group::name).findFirst();
  }

  /**
   * Waits up to {@code wait} for a queued job that {@code runner} can take and assigns it. Empty on
   * timeout or when the runner disappeared or went offline.
   */
  synchronized Optional<JobRecord> takeJob(long runnerId, Duration wait)
      throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      RunnerRecord runner = runners.get(runnerId);
      if (runner == null || !runner.online) {
        return Optional.empty();
      }
      if (runner.jobId != null) {
        return Optional.of(job(runner.jobId));
      }
      for (JobRecord job : jobs) {
        if (job.startedAt == null && matches(job.job.labels(), runner.labels)) {
          job.startedAt = now();
          job.runnerId = runner.id;
          job.runnerName = runner.name;
          job.runnerGroupId = runner.groupId;
          runner.jobId = job.id;
          jobListener.jobChanged(job, "in_progress");
          return Optional.of(job);
        }
      }
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        return Optional.empty();
      }
      wait(Math.max(1, remaining / 1_000_000));
    }
  }

  private JobRecord job(long id) {
    return jobs.stream().filter(job -> job.id == id).findFirst().orElseThrow();
  }

  static boolean matches(List<String> jobLabels, List<String> runnerLabels) {
    Set<String> have = new java.util.HashSet<>();
    runnerLabels.forEach(label -> have.add(label.toLowerCase(Locale.ROOT)));
    return jobLabels.stream().allMatch(label -> have.contains(label.toLowerCase(Locale.ROOT)));
  }

  /** Finishes the runner's job; an ephemeral runner is then removed, as GitHub does. */
  synchronized boolean completeJob(long runnerId, long jobId, String result) {
    RunnerRecord runner = runners.get(runnerId);
    if (runner == null || runner.jobId == null || runner.jobId != jobId) {
      return false;
    }
    finishJob(jobId, result);
    runner.jobId = null;
    if (runner.ephemeral) {
      removeRunner(runnerId);
    }
    notifyAll();
    return true;
  }

  private void finishJob(long jobId, String result) {
    JobRecord job = job(jobId);
    if (job.finishedAt == null) {
      job.finishedAt = now();
      job.result = result;
      jobListener.jobChanged(job, "completed");
    }
  }

  /**
   * Opens the runner's listener session for a listener of {@code version}; false when one is open.
   */
  synchronized boolean connect(long runnerId, String version, boolean disableUpdate) {
    RunnerRecord runner = runners.get(runnerId);
    if (runner == null || runner.online) {
      return false;
    }
    runner.online = true;
    runner.version = version;
    runner.disableUpdate = disableUpdate;
    runner.updateOffered = false;
    notifyAll();
    return true;
  }

  /**
   * Whether to send the runner an update message instead of a job: once per session, when a newer
   * version is {@code offered} and its updates are not disabled.
   */
  synchronized boolean offerUpdate(long runnerId, Optional<String> offered) {
    RunnerRecord runner = runners.get(runnerId);
    if (runner == null || runner.disableUpdate || runner.updateOffered || offered.isEmpty()) {
      return false;
    }
    runner.updateOffered = true;
    return true;
  }

  /**
   * Closes the listener session: the runner goes offline. A job it runs is not touched: the runner
   * reports its result itself, or it stays in progress.
   */
  synchronized void disconnect(long runnerId) {
    RunnerRecord runner = runners.get(runnerId);
    if (runner == null) {
      return;
    }
    runner.online = false;
    notifyAll();
  }

  /** The runner began to cancel its job; false when that is not its job. */
  synchronized boolean cancelling(long runnerId, long jobId) {
    RunnerRecord runner = runners.get(runnerId);
    if (runner == null || runner.jobId == null || runner.jobId != jobId) {
      return false;
    }
    JobRecord job = job(jobId);
    if (job.cancelStartedAt == null) {
      job.cancelStartedAt = now();
    }
    return true;
  }

  synchronized void expireTokens() {
    Instant now = now();
    registrationTokens.values().removeIf(token -> !now.isBefore(token.expiresAt()));
    removeTokens.values().removeIf(token -> !now.isBefore(token.expiresAt()));
    installationTokens.values().removeIf(expiry -> !now.isBefore(expiry));
  }

  /** What a REST API request meets before its endpoint: a latency and maybe a fault. */
  record ApiCall(Duration latency, Optional<Fault> fault) {}

  /**
   * Counts a REST API request against the rate limit and takes the fault it gets, at once: faults
   * hit requests in the order they were counted.
   */
  synchronized ApiCall countApiRequest() {
    apiRequests++;
    return new ApiCall(faults.latency(), faults.take());
  }

  synchronized long apiRequests() {
    return apiRequests;
  }

  public synchronized void injectFault(Fault fault) {
    faults.inject(fault);
  }

  public synchronized void clearFaults() {
    faults.clear();
  }

  /** Wakes the long polls, so that they see a closed simulator at once. */
  synchronized void wakeWaiters() {
    notifyAll();
  }

  public synchronized SimState snapshot() {
    int queued = 0;
    int running = 0;
    int finished = 0;
    List<SimState.JobState> jobStates = new ArrayList<>();
    for (JobRecord job : jobs) {
      switch (job.status()) {
        case "queued" -> queued++;
        case "in_progress" -> running++;
        default -> finished++;
      }
      jobStates.add(job.snapshot());
    }
    List<SimState.RunnerState> runnerStates = new ArrayList<>();
    runners.values().forEach(runner -> runnerStates.add(runner.snapshot()));
    return new SimState(
        runnerStates, jobStates, queued, running, finished, removedRunners, apiRequests);
  }
}
