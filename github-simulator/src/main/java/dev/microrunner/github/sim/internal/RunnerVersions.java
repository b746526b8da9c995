package dev.microrunner.github.sim.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** actions/runner versions ({@code 2.336.0}), as the simulator compares them. */
public final class RunnerVersions {

  /**
   * The file in a simulated runner root that holds the version installed there by an update (or
   * {@code SimulatedRunnerDistribution.setVersion}); without it the listener has its default.
   */
  public static final String INSTALLED_VERSION_FILE = ".sim-runner-version";

  private static final Pattern VERSION = Pattern.compile("(\\d{1,6})\\.(\\d{1,6})\\.(\\d{1,6})");

  private RunnerVersions() {}

  /** The three numbers of {@code version}. */
  public static int[] parse(String version) {
    Matcher matcher = version == null ? null : VERSION.matcher(version);
    if (matcher == null || !matcher.matches()) {
      throw new IllegalArgumentException(
          "runner version '" + version + "' is not of the form 2.336.0");
    }
    return new int[] {
      Integer.parseInt(matcher.group(1)),
      Integer.parseInt(matcher.group(2)),
      Integer.parseInt(matcher.group(3))
    };
  }

  /** Negative, zero or positive as {@code a} is older than, the same as or newer than {@code b}. */
  public static int compare(String a, String b) {
    int[] left = parse(a);
    int[] right = parse(b);
    for (int i = 0; i < left.length; i++) {
      if (left[i] != right[i]) {
        return Integer.compare(left[i], right[i]);
      }
    }
    return 0;
  }
}
