package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Result;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * .github/scripts/runner-release.sh, which the images workflow uses to read the newest
 * actions/runner release and its checksums from the GitHub API and to pin them: run on API answers
 * written here, in the shape GitHub sends them.
 */
class RunnerReleaseScriptTest {
  static final String X64 = "0123456789abcdef".repeat(4);
  static final String ARM64 = "fedcba9876543210".repeat(4);
  static final Path SCRIPT =
      Path.of(System.getProperty("basedir", "."))
          .resolve("../.github/scripts/runner-release.sh")
          .normalize();

  @TempDir Path directory;

  @Test
  void readsTheChecksumsFromTheReleaseNotes() throws Exception {
    Path release = release("v2.401.0", body(X64.toUpperCase(Locale.ROOT), ARM64), "");
    Result result = script("latest", release.toString());
    assertEquals(0, result.exitStatus(), result.stderrTail());
    assertEquals(
        List.of("version=2.401.0", "sha256_x64=" + X64, "sha256_arm64=" + ARM64), result.stdout());
  }

  @Test
  void usesTheAssetDigestWhenTheNotesHaveNone() throws Exception {
    Path release =
        release(
            "v2.401.0",
            "no checksums here",
            asset("x64", "2.401.0", X64) + "," + asset("arm64", "2.401.0", ARM64));
    Result result = script("latest", release.toString());
    assertEquals(0, result.exitStatus(), result.stderrTail());
    assertTrue(result.stdout().contains("sha256_arm64=" + ARM64), result.stdout().toString());
  }

  @Test
  void refusesNotesAndDigestThatDisagree() throws Exception {
    Path release = release("v2.401.0", body(X64, ARM64), asset("x64", "2.401.0", ARM64));
    Result result = script("latest", release.toString());
    assertNotEquals(0, result.exitStatus());
    assertTrue(result.stderrTail().contains("linux-x64"), result.stderrTail());
  }

  @Test
  void refusesAReleaseWithoutAChecksum() throws Exception {
    Path release = release("v2.401.0", body(X64, ""), "");
    Result result = script("latest", release.toString());
    assertNotEquals(0, result.exitStatus());
    assertTrue(result.stderrTail().contains("linux-arm64"), result.stderrTail());
  }

  @Test
  void theCommittedPinIsAcceptedExactlyWhenItHoldsNoPlaceholder() throws Exception {
    Path properties = pinnedCopy();
    boolean placeholder = Files.readString(properties).contains(RunnerRelease.PLACEHOLDER);
    Result result = script("pinned", properties.toString());
    assertEquals(placeholder, result.exitStatus() != 0, result.stderrTail());
  }

  @Test
  void pinRewritesThePropertiesThatRunnerReleaseReads() throws Exception {
    Path properties = pinnedCopy();
    Result pin = script("pin", properties.toString(), "2.401.0", X64, ARM64);
    assertEquals(0, pin.exitStatus(), pin.stderrTail());

    Result pinned = script("pinned", properties.toString());
    assertEquals(
        List.of("version=2.401.0", "sha256_x64=" + X64, "sha256_arm64=" + ARM64), pinned.stdout());
    assertTrue(Files.readString(properties).startsWith("#"), "the explanation is kept");
  }

  @Test
  void pinRefusesAChecksumThatIsNotOne() throws Exception {
    Path properties = pinnedCopy();
    String before = Files.readString(properties);
    Result pin = script("pin", properties.toString(), "2.401.0", X64, RunnerRelease.PLACEHOLDER);
    assertNotEquals(0, pin.exitStatus());
    assertEquals(before, Files.readString(properties));
  }

  private Path pinnedCopy() throws Exception {
    Path copy = directory.resolve("runner-versions.properties");
    try (InputStream in = getClass().getResourceAsStream(RunnerRelease.PINNED_RESOURCE)) {
      Files.copy(in, copy);
    }
    return copy;
  }

  private static String body(String x64, String arm64) {
    return "## What's Changed\\n- actions-runner-linux-x64-2.401.0.tar.gz <!-- BEGIN SHA linux-x64"
        + " -->"
        + x64
        + "<!-- END SHA linux-x64 -->\\n- actions-runner-linux-arm64-2.401.0.tar.gz <!-- BEGIN SHA"
        + " linux-arm64 -->"
        + arm64
        + "<!-- END SHA linux-arm64 -->\\n";
  }

  private static String asset(String arch, String version, String sha256) {
    return "{\"name\": \"actions-runner-linux-"
        + arch
        + "-"
        + version
        + ".tar.gz\", \"digest\": \"sha256:"
        + sha256
        + "\"}";
  }

  private Path release(String tag, String body, String assets) throws Exception {
    Path file = directory.resolve("release.json");
    Files.writeString(
        file,
        "{\"tag_name\": \""
            + tag
            + "\", \"body\": \""
            + body
            + "\", \"assets\": ["
            + assets
            + "]}");
    return file;
  }

  private static Result script(String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of(SCRIPT.toString()));
    argv.addAll(List.of(args));
    return Commands.run(argv, Map.of());
  }
}
