package dev.microrunner.github.sim;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An actions/runner release as the simulator serves it: {@code GET /repos/actions/runner/releases}
 * lists the releases (newest first), and the runner downloads endpoints ({@code GET
 * SCOPE/actions/runners/downloads}) offer the newest one that is not a prerelease, as GitHub offers
 * the runner version it wants runners on.
 *
 * @param version the runner version, e.g. {@code 2.336.0}; the release's tag is {@code v} and the
 *     version
 * @param publishedAt when the release was made available; GitHub refuses a runner that was not
 *     updated within 30 days after a newer version came out
 * @param prerelease whether it is marked as a prerelease (never offered for download)
 */
public record SimRunnerRelease(String version, Instant publishedAt, boolean prerelease) {

  /** The newest release of {@link #history}. */
  public static final String LATEST_VERSION = "2.336.0";

  /** How far apart the releases of {@link #history} are: about actions/runner's pace. */
  private static final Duration RELEASE_INTERVAL = Duration.ofDays(21);

  public SimRunnerRelease {
    if (version == null || !version.matches("\\d+(\\.\\d+)*")) {
      throw new IllegalArgumentException(
          "runner version '" + version + "' is not like 2.336.0 (digits and dots)");
    }
    Objects.requireNonNull(publishedAt, "publishedAt");
  }

  /** A release that is not a prerelease. */
  public static SimRunnerRelease of(String version, Instant publishedAt) {
    return new SimRunnerRelease(version, publishedAt, false);
  }

  /**
   * What the simulator serves unless told otherwise: 2.336.0 ({@link #LATEST_VERSION}), 2.335.0,
   * 2.334.0, 2.333.0 and 2.332.0, published 5, 26, 47, 68 and 89 days before {@code now} (the
   * simulator's clock when it starts), newest first. The dates are relative so that they stay
   * plausible: 2.336.0 is recent, and the 30 days after 2.334.0 came out are over, so by GitHub's
   * rule only runners on 2.334.0 or newer are still accepted.
   */
  public static List<SimRunnerRelease> history(Instant now) {
    List<SimRunnerRelease> releases = new ArrayList<>();
    Instant published = now.minus(Duration.ofDays(5));
    for (int minor = 336; minor >= 332; minor--) {
      releases.add(of("2." + minor + ".0", published));
      published = published.minus(RELEASE_INTERVAL);
    }
    return List.copyOf(releases);
  }
}
