package dev.microrunner.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * An actions/runner release and the published SHA-256 of its Linux archives.
 *
 * <p>A checksum may be absent (the pinned file holds a placeholder until the weekly workflow fills
 * it in): {@link #sha256(Architecture)} then refuses, so no image is ever built from an unverified
 * download.
 */
public record RunnerRelease(
    String version, Optional<String> sha256X64, Optional<String> sha256Arm64) {

  /** The resource that pins the release baked into the main image. */
  public static final String PINNED_RESOURCE = "/dev/microrunner/image/runner-versions.properties";

  /** What runner-versions.properties holds where a checksum is not known yet. */
  public static final String PLACEHOLDER = "NOT-PINNED";

  private static final Pattern VERSION = Pattern.compile("\\d+\\.\\d+\\.\\d+");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  public RunnerRelease {
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(sha256X64, "sha256X64");
    Objects.requireNonNull(sha256Arm64, "sha256Arm64");
    if (!VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException(
          "actions/runner version '" + version + "' is not of the form 2.329.0");
    }
    sha256X64.ifPresent(value -> requireSha256(value, Architecture.X64));
    sha256Arm64.ifPresent(value -> requireSha256(value, Architecture.ARM64));
  }

  /**
   * A release with the given checksums; {@code null}, blank or {@link #PLACEHOLDER} means not
   * known.
   */
  public static RunnerRelease of(String version, String sha256X64, String sha256Arm64) {
    return new RunnerRelease(version, known(sha256X64), known(sha256Arm64));
  }

  /** The release pinned in runner-versions.properties. */
  public static RunnerRelease pinned() {
    Properties properties = new Properties();
    try (InputStream in = RunnerRelease.class.getResourceAsStream(PINNED_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(PINNED_RESOURCE + " is missing from the classpath");
      }
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + PINNED_RESOURCE, e);
    }
    return of(
        required(properties, "version"),
        required(properties, "sha256.linux-x64"),
        required(properties, "sha256.linux-arm64"));
  }

  /**
   * The SHA-256 of this release's archive for one architecture.
   *
   * @throws ImageBuildException when it is not known, naming the release, the architecture and how
   *     to pin it
   */
  public String sha256(Architecture architecture) throws ImageBuildException {
    Optional<String> value = architecture == Architecture.X64 ? sha256X64 : sha256Arm64;
    return value.orElseThrow(
        () ->
            new ImageBuildException(
                "no SHA-256 is pinned for actions/runner "
                    + version
                    + " linux-"
                    + architecture.runnerArch()
                    + ": runner-versions.properties holds the placeholder "
                    + PLACEHOLDER
                    + " until the weekly images workflow pins the published checksums;"
                    + " pass the checksum from the release notes explicitly"));
  }

  /** The build argument value: the checksum, or the placeholder the image refuses. */
  String buildArgument(Architecture architecture) {
    Optional<String> value = architecture == Architecture.X64 ? sha256X64 : sha256Arm64;
    return value.orElse(PLACEHOLDER);
  }

  private static Optional<String> known(String value) {
    if (value == null || value.isBlank() || value.strip().equals(PLACEHOLDER)) {
      return Optional.empty();
    }
    return Optional.of(value.strip());
  }

  private static String required(Properties properties, String key) {
    String value = properties.getProperty(key);
    if (value == null) {
      throw new IllegalStateException(PINNED_RESOURCE + " has no '" + key + "'");
    }
    return value;
  }

  private static void requireSha256(String value, Architecture architecture) {
    if (!SHA256.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "SHA-256 for actions/runner linux-"
              + architecture.runnerArch()
              + " must be 64 lower-case hex digits, got '"
              + value
              + "'");
    }
  }
}
