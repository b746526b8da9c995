package dev.microrunner.loop.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.PublishedRunnerRelease;
import dev.microrunner.loop.internal.RunnerVersionCheck.Level;
import dev.microrunner.loop.internal.RunnerVersionCheck.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * GitHub's policy for self-hosted runners (docs.github.com, "About self-hosted runners"): the
 * newest release is offered, and a runner must be updated within 30 days of a newer one.
 */
class RunnerVersionCheckTest {

  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
  private static final String IMAGE = "localhost/microrunner/runner-ubuntu:2.334.0";
  private static final List<PublishedRunnerRelease> RELEASES =
      List.of(
          release("2.336.0", 5),
          release("2.335.0", 26),
          release("2.334.0", 47),
          release("2.333.0", 68),
          new PublishedRunnerRelease("2.337.0", NOW.minus(Duration.ofDays(1)), true));

  private static PublishedRunnerRelease release(String version, int daysAgo) {
    return new PublishedRunnerRelease(version, NOW.minus(Duration.ofDays(daysAgo)), false);
  }

  private static Verdict judge(String version) {
    return RunnerVersionCheck.judge(version, IMAGE, Optional.of("2.336.0"), RELEASES, NOW);
  }

  @Test
  void theOfferedVersionOrNewerIsCurrent() {
    assertEquals(Level.CURRENT, judge("2.336.0").level());
    assertEquals(Level.CURRENT, judge("2.400.0").level());
  }

  @Test
  void behindWithinThirtyDaysOfTheFirstNewerReleaseWarnsWithTheDate() {
    Verdict verdict = judge("2.334.0");

    assertEquals(Level.BEHIND, verdict.level());
    // 2.335.0 came out 26 days ago: four days are left.
    assertTrue(verdict.message().contains("on 2026-12-04"), verdict.message());
    assertTrue(verdict.message().contains("microrunner image build"), verdict.message());
  }

  @Test
  void thirtyDaysAfterANewerReleaseTheVersionIsRefused() {
    Verdict verdict = judge("2.333.0");

    assertEquals(Level.REFUSED, verdict.level(), verdict.message());
    assertTrue(verdict.message().contains("2.334.0 came out on 2026-10-14"), verdict.message());
  }

  @Test
  void prereleasesDoNotStartTheClock() {
    Verdict verdict =
        RunnerVersionCheck.judge(
            "2.336.0", IMAGE, Optional.of("2.336.0"), RELEASES, NOW.plus(Duration.ofDays(40)));

    assertEquals(Level.CURRENT, verdict.level());
  }

  @Test
  void withoutReleaseDatesBehindOnlyWarns() {
    Verdict verdict =
        RunnerVersionCheck.judge("2.300.0", IMAGE, Optional.of("2.336.0"), List.of(), NOW);

    assertEquals(Level.BEHIND, verdict.level());
  }

  @Test
  void versionsCompareNumerically() {
    assertTrue(RunnerVersionCheck.compare("2.99.0", "2.100.0") < 0);
    assertEquals(0, RunnerVersionCheck.compare("2.336.0", "2.336.0"));
  }
}
