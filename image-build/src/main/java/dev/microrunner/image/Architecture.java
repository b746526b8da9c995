package dev.microrunner.image;

import java.util.Locale;

/** A CPU architecture that actions/runner publishes a Linux build for. */
public enum Architecture {
  X64("amd64", "x64"),
  ARM64("arm64", "arm64");

  private final String platformArch;
  private final String runnerArch;

  Architecture(String platformArch, String runnerArch) {
    this.platformArch = platformArch;
    this.runnerArch = runnerArch;
  }

  /** The OCI platform, e.g. {@code linux/amd64}. */
  public String platform() {
    return "linux/" + platformArch;
  }

  /** The name in actions/runner archive names, e.g. {@code x64}. */
  public String runnerArch() {
    return runnerArch;
  }

  /**
   * The architecture of an OCI platform such as {@code linux/arm64} or {@code linux/arm64/v8}.
   *
   * @throws IllegalArgumentException for any platform actions/runner has no Linux build for
   */
  public static Architecture ofPlatform(String platform) {
    String[] parts = platform.strip().split("/", -1);
    if (parts.length >= 2 && parts[0].equals("linux")) {
      for (Architecture architecture : values()) {
        if (architecture.platformArch.equals(parts[1])) {
          return architecture;
        }
      }
    }
    throw new IllegalArgumentException(
        "unsupported platform '"
            + platform
            + "': runner images are built for linux/amd64 and linux/arm64");
  }

  /** The architecture of this JVM's machine, the one a build without --platform targets. */
  public static Architecture host() {
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "amd64", "x86_64" -> X64;
      case "aarch64", "arm64" -> ARM64;
      default ->
          throw new IllegalStateException(
              "this machine's architecture '" + arch + "' has no actions/runner build");
    };
  }
}
