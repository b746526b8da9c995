package dev.microrunner.cli.demo;

import dev.microrunner.github.sim.SimState;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/** The demo's summary: one row per runner (id, job, registered after, job time, total). */
final class RunnerTable {

  record Row(String runner, String job, String registeredAfter, String jobTime, String total) {}

  private static final Row HEADER =
      new Row("runner", "job", "registered after", "job time", "total");

  private final List<Row> rows;
  private final int runnersWithJobs;

  private RunnerTable(List<Row> rows, int runnersWithJobs) {
    this.rows = List.copyOf(rows);
    this.runnersWithJobs = runnersWithJobs;
  }

  /** Rows for {@code runners} (in start order), each with the job it ran, if any. */
  static RunnerTable of(List<RunnerTracker.Runner> runners, List<SimState.JobState> jobs) {
    List<Row> rows = new ArrayList<>();
    int withJobs = 0;
    for (RunnerTracker.Runner runner : runners) {
      Optional<SimState.JobState> job =
          jobs.stream()
              .filter(j -> j.runnerName().equals(Optional.of(runner.name())))
              .filter(j -> j.result().isPresent())
              .findFirst();
      if (job.isPresent()) {
        withJobs++;
      }
      rows.add(
          new Row(
              runner.id().toString(),
              job.map(SimState.JobState::name).orElse("- (stopped at the end)"),
              seconds(between(runner.vmStarted(), runner.registered())),
              job.flatMap(
                      j ->
                          j.startedAt()
                              .flatMap(s -> j.finishedAt().map(f -> Duration.between(s, f))))
                  .map(RunnerTable::seconds)
                  .orElse("-"),
              seconds(between(runner.vmStarted(), runner.vmExited()))));
    }
    return new RunnerTable(rows, withJobs);
  }

  /** How many runners ran a job to completion. */
  int runnersWithJobs() {
    return runnersWithJobs;
  }

  List<Row> rows() {
    return rows;
  }

  void print(PrintWriter out) {
    List<Row> all = new ArrayList<>();
    all.add(HEADER);
    all.addAll(rows);
    int[] widths = new int[4];
    for (Row row : all) {
      widths[0] = Math.max(widths[0], row.runner().length());
      widths[1] = Math.max(widths[1], row.job().length());
      widths[2] = Math.max(widths[2], row.registeredAfter().length());
      widths[3] = Math.max(widths[3], row.jobTime().length());
    }
    String format =
        "%-" + widths[0] + "s  %-" + widths[1] + "s  %" + widths[2] + "s  %" + widths[3]
            + "s  %s%n";
    for (Row row : all) {
      out.printf(
          Locale.ROOT,
          format,
          row.runner(),
          row.job(),
          row.registeredAfter(),
          row.jobTime(),
          row.total());
    }
  }

  private static Optional<Duration> between(OptionalLong from, OptionalLong to) {
    if (from.isEmpty() || to.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofNanos(to.getAsLong() - from.getAsLong()));
  }

  private static String seconds(Optional<Duration> duration) {
    return duration.map(RunnerTable::seconds).orElse("-");
  }

  private static String seconds(Duration duration) {
    return String.format(Locale.ROOT, "%.2f s", duration.toNanos() / 1e9);
  }
}
