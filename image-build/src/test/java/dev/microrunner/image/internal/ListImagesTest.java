package dev.microrunner.image.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.image.BuildTool;
import dev.microrunner.image.Commands;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.Executables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The listing that {@code image clean} parses, run by the real program on a real image: each
 * program must accept the template and print {@code ID REPOSITORY:TAG}. The image carries a label
 * of this test's own, and the listing is narrowed to it, so images of other builds on this machine
 * are neither listed nor touched.
 */
class ListImagesTest {
  @TempDir Path directory;

  @ParameterizedTest
  @EnumSource(BuildTool.class)
  void theRealProgramPrintsIdAndName(BuildTool tool) throws Exception {
    assumeTrue(onPath("buildah"), "buildah is not installed: it makes the image listed here");
    assumeTrue(onPath(tool.executable()), tool + " is not installed");
    Path conf = directory.resolve("containers.conf");
    Files.writeString(
        conf,
        """
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        [engine]
        runtime = "runc"
        """);
    Map<String, String> environment = Map.of("CONTAINERS_CONF", conf.toString());
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String label = "dev.microrunner.test-run=" + suffix;
    String image = "localhost/microrunner-list-test:" + suffix;

    String container = run(environment, "buildah", "from", "scratch").stdout().get(0);
    try {
      run(environment, "buildah", "config", "--label", label, container);
      run(environment, "buildah", "commit", "--quiet", container, image);
    } finally {
      run(environment, "buildah", "rm", container);
    }
    try {
      List<String> argv = new ArrayList<>(BuildCommands.listImages(tool));
      argv.set(argv.indexOf("label=" + BuildCommands.IMAGE_LABEL), "label=" + label);

      List<String> lines = run(environment, argv.toArray(String[]::new)).stdout();

      assertEquals(1, lines.size(), lines.toString());
      String[] fields = lines.get(0).strip().split("\\s+", -1);
      assertEquals(2, fields.length, lines.get(0));
      assertTrue(fields[0].matches("[0-9a-f]{12,64}"), lines.get(0));
      assertEquals(image, fields[1]);
    } finally {
      run(environment, "buildah", "rmi", image);
    }
  }

  private Result run(Map<String, String> environment, String... argv) throws Exception {
    Result result = Commands.run(List.of(argv), environment);
    assertEquals(
        0, result.exitStatus(), () -> String.join(" ", argv) + " failed: " + result.stderrTail());
    return result;
  }

  private static boolean onPath(String program) {
    return Executables.find(program, System.getenv()).isPresent();
  }
}
