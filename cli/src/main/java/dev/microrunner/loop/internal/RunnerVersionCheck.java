package dev.microrunner.loop.internal;

import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.PublishedRunnerRelease;
import dev.microrunner.github.RunnerDownload;
import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.Isolation;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares the actions/runner version the runners will have with what GitHub serves, before any VM
 * starts. GitHub offers the newest release on its runner downloads endpoint, tells an older runner
 * to update itself (a JIT runner cannot refuse), and no longer accepts a runner 30 days after a
 * newer release came out (docs.github.com, "About self-hosted runners": a runner must be updated
 * within 30 days of a new version).
 */
public final class RunnerVersionCheck {

  /** The image label that {@code microrunner image build} sets. */
  public static final String VERSION_LABEL = "dev.microrunner.runner-version";

  static final Duration UPDATE_WINDOW = Duration.ofDays(30);

  private static final Pattern VERSION = Pattern.compile("(\\d{1,6})\\.(\\d{1,6})\\.(\\d{1,6})");
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
  private static final Duration LISTENER_VERSION_TIMEOUT = Duration.ofSeconds(30);

  /** What the comparison found. */
  public enum Level {
    CURRENT,
    BEHIND,
    REFUSED,
    UNKNOWN
  }

  /** The outcome, with one line for people. */
  public record Verdict(Level level, String message) {}

  private RunnerVersionCheck() {}

  /**
   * The runner version of the VMs' image: its label; on the process runtime, what the host's
   * installation's listener says ({@code bin/Runner.Listener --version}).
   */
  public static Optional<String> runnerVersion(
      MicroVmRuntime runtime, VmSpec vm, CommandRunner commands) throws VmException {
    Optional<String> label = runtime.imageLabel(vm.image(), VERSION_LABEL);
    if (label.isPresent() || runtime.isolation() != Isolation.NONE) {
      return label.filter(v -> VERSION.matcher(v).matches());
    }
    String install =
        vm.environment()
            .getOrDefault("RUNNER_INSTALL", vm.environment().get("MICRORUNNER_RUNNER_DIR"));
    if (install == null) {
      return Optional.empty();
    }
    Path listener = Path.of(install, "bin", "Runner.Listener");
    if (!Files.isExecutable(listener)) {
      return Optional.empty();
    }
    Result result =
        commands.run(
            Command.of(
                    List.of(listener.toString(), "--version"),
                    ChildEnvironment.of(System.getenv(), Map.of()))
                .withTimeout(LISTENER_VERSION_TIMEOUT));
    return result.stdout().stream()
        .map(String::strip)
        .filter(line -> VERSION.matcher(line).matches())
        .findFirst();
  }

  /** Asks GitHub and judges {@code version}; GitHub's failures make the verdict unknown. */
  public static Verdict check(
      String version, String image, GitHubRunnerClient github, Instant now) {
    Optional<String> offered;
    try {
      offered =
          github.listRunnerDownloads().stream()
              .filter(d -> d.os().equals("linux"))
              .map(RunnerDownload::version)
              .flatMap(Optional::stream)
              .max(RunnerVersionCheck::compare);
    } catch (GitHubException e) {
      return new Verdict(
          Level.UNKNOWN, "could not ask GitHub which actions/runner it serves: " + e.getMessage());
    }
    List<PublishedRunnerRelease> releases;
    try {
      releases = github.listRunnerReleases();
    } catch (GitHubException e) {
      // GitHub Enterprise Server has no actions/runner releases to list: the refusal date stays
      // unknown, and the runners' own report ends a loop that GitHub refuses.
      releases = List.of();
    }
    return judge(version, image, offered, releases, now);
  }

  static Verdict judge(
      String version,
      String image,
      Optional<String> offered,
      List<PublishedRunnerRelease> releases,
      Instant now) {
    if (offered.isEmpty()) {
      return new Verdict(Level.UNKNOWN, "GitHub named no actions/runner download for Linux");
    }
    if (compare(version, offered.get()) >= 0) {
      return new Verdict(
          Level.CURRENT, "image " + image + " has actions/runner " + version + ", GitHub's newest");
    }
    String rebuild = " Rebuild it with `microrunner image build`.";
    Optional<PublishedRunnerRelease> firstNewer =
        releases.stream()
            .filter(r -> !r.prerelease() && compare(r.version(), version) > 0)
            .min(Comparator.comparing(PublishedRunnerRelease::publishedAt));
    if (firstNewer.isPresent()) {
      Instant deadline = firstNewer.get().publishedAt().plus(UPDATE_WINDOW);
      if (!deadline.isAfter(now)) {
        return new Verdict(
            Level.REFUSED,
            "image "
                + image
                + " has actions/runner "
                + version
                + ", which GitHub no longer accepts: "
                + firstNewer.get().version()
                + " came out on "
                + DAY.format(firstNewer.get().publishedAt())
                + ", more than 30 days ago, and GitHub serves "
                + offered.get()
                + "."
                + rebuild);
      }
      return new Verdict(
          Level.BEHIND,
          behind(version, image, offered.get())
              + " GitHub stops accepting it on "
              + DAY.format(deadline)
              + "."
              + rebuild);
    }
    return new Verdict(Level.BEHIND, behind(version, image, offered.get()) + rebuild);
  }

  private static String behind(String version, String image, String offered) {
    return "image "
        + image
        + " has actions/runner "
        + version
        + ", older than the "
        + offered
        + " GitHub serves: GitHub tells such runners to update themselves, and microrunner ends a"
        + " loop whose runner is told so rather than download the update in every VM.";
  }

  /** Negative, zero or positive as {@code a} is older than, equal to or newer than {@code b}. */
  static int compare(String a, String b) {
    Matcher left = VERSION.matcher(a);
    Matcher right = VERSION.matcher(b);
    if (!left.matches() || !right.matches()) {
      return a.compareTo(b);
    }
    for (int group = 1; group <= 3; group++) {
      int order =
          Integer.compare(
              Integer.parseInt(left.group(group)), Integer.parseInt(right.group(group)));
      if (order != 0) {
        return order;
      }
    }
    return 0;
  }
}
