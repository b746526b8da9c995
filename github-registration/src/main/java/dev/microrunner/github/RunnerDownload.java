package dev.microrunner.github;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A runner application GitHub offers for download ({@code GET SCOPE/actions/runners/downloads}):
 * the actions/runner release GitHub wants this scope's runners on, for one platform.
 *
 * @param os {@code linux}, {@code osx} or {@code win}
 * @param architecture {@code x64}, {@code arm64}, {@code arm}
 * @param downloadUrl where the file is
 * @param filename e.g. {@code actions-runner-linux-x64-2.336.0.tar.gz}
 * @param tempDownloadToken a short-lived bearer token for the download, when GitHub gives one
 * @param sha256Checksum the file's SHA-256 in hex, when GitHub gives one
 */
public record RunnerDownload(
    String os,
    String architecture,
    URI downloadUrl,
    String filename,
    Optional<Secret> tempDownloadToken,
    Optional<String> sha256Checksum) {

  /** {@code actions-runner-<os>-<arch>-<version>.tar.gz} or {@code .zip}. */
  private static final Pattern FILENAME =
      Pattern.compile(
          "actions-runner-[A-Za-z]+-[A-Za-z0-9]+-(\\d+(?:\\.\\d+)*)\\.(?:tar\\.gz|zip)");

  public RunnerDownload {
    Objects.requireNonNull(os, "os");
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(downloadUrl, "downloadUrl");
    Objects.requireNonNull(filename, "filename");
    Objects.requireNonNull(tempDownloadToken, "tempDownloadToken");
    Objects.requireNonNull(sha256Checksum, "sha256Checksum");
  }

  /**
   * The runner version, read from the file name ({@code 2.336.0} of {@code
   * actions-runner-linux-x64-2.336.0.tar.gz}); empty when the name is not of that form.
   */
  public Optional<String> version() {
    Matcher matcher = FILENAME.matcher(filename);
    return matcher.matches() ? Optional.of(matcher.group(1)) : Optional.empty();
  }
}
