package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class RunnerReleaseTest {
  static final String X64 = "a".repeat(64);
  static final String ARM64 = "0123456789abcdef".repeat(4);

  @Test
  void pinnedReleaseMatchesThePropertiesFile() throws Exception {
    Properties properties = new Properties();
    try (InputStream in = RunnerRelease.class.getResourceAsStream(RunnerRelease.PINNED_RESOURCE)) {
      properties.load(in);
    }
    RunnerRelease pinned = RunnerRelease.pinned();
    assertEquals(properties.getProperty("version"), pinned.version());
    assertEquals(
        RunnerRelease.of("0.0.0", properties.getProperty("sha256.linux-x64"), null).sha256X64(),
        pinned.sha256X64());
    assertEquals(
        RunnerRelease.of("0.0.0", null, properties.getProperty("sha256.linux-arm64")).sha256Arm64(),
        pinned.sha256Arm64());
  }

  @Test
  void placeholderMeansUnknownAndRefusesToBuild() {
    RunnerRelease release = RunnerRelease.of("2.300.0", RunnerRelease.PLACEHOLDER, ARM64);
    assertEquals(Optional.empty(), release.sha256X64());
    ImageBuildException error =
        assertThrows(ImageBuildException.class, () -> release.sha256(Architecture.X64));
    assertTrue(error.getMessage().contains("2.300.0 linux-x64"), error.getMessage());
    // How to pass it is the command line's to say (ImageCommandTest).
    assertTrue(error.getMessage().contains("pass the checksum"), error.getMessage());
  }

  @Test
  void knownChecksumsAreReturnedPerArchitecture() throws Exception {
    RunnerRelease release = RunnerRelease.of("2.300.0", X64, ARM64);
    assertEquals(X64, release.sha256(Architecture.X64));
    assertEquals(ARM64, release.sha256(Architecture.ARM64));
  }

  @Test
  void rejectsMalformedChecksumsAndVersions() {
    IllegalArgumentException checksum =
        assertThrows(
            IllegalArgumentException.class, () -> RunnerRelease.of("2.300.0", "abc", null));
    assertTrue(checksum.getMessage().contains("linux-x64"), checksum.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> RunnerRelease.of("2.300.0", null, ARM64.toUpperCase(Locale.ROOT)));
    IllegalArgumentException version =
        assertThrows(IllegalArgumentException.class, () -> RunnerRelease.of("v2.300", X64, X64));
    assertTrue(version.getMessage().contains("v2.300"), version.getMessage());
  }
}
