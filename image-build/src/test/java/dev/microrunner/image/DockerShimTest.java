package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.microrunner.vm.CommandRunner.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The docker CLI shim, run as a real script in front of a fake docker that prints its argv: which
 * commands get {@code --network host}, which pass through untouched, and that arguments survive
 * byte for byte.
 */
class DockerShimTest {
  @TempDir static Path directory;
  static Path shim;
  static Path fakeDocker;

  @BeforeAll
  static void writeShim() throws IOException {
    Path context = TestFiles.context(directory);
    shim = context.resolve("docker-shim");
    // A space in the path: the shim must quote the real CLI's path too.
    Path bin = Files.createDirectories(directory.resolve("real bin"));
    fakeDocker = TestFiles.executableResource("fake-docker", bin.resolve("docker"));
  }

  static Stream<Arguments> networkAdded() {
    return Stream.of(
        row("run alpine echo hi", "run --network host alpine echo hi"),
        row("create alpine", "create --network host alpine"),
        row("container run -it alpine sh", "container run --network host -it alpine sh"),
        row("container create alpine", "container create --network host alpine"),
        row("build -t app .", "build --network host -t app ."),
        row("image build .", "image build --network host ."),
        row("builder build .", "builder build --network host ."),
        row("buildx build --load -t app .", "buildx build --network host --load -t app ."),
        row("buildx b .", "buildx b --network host ."),
        row("--log-level debug run alpine", "--log-level debug run --network host alpine"),
        row("-H unix:///x.sock run alpine", "-H unix:///x.sock run --network host alpine"),
        row("--context=default -D run alpine", "--context=default -D run --network host alpine"),
        row(
            "run -e X=1 --rm -v /a:/b -w /b alpine ls",
            "run --network host -e X=1 --rm -v /a:/b -w /b alpine ls"),
        row("run -eX=1 -it --name=n alpine", "run --network host -eX=1 -it --name=n alpine"),
        // After the image, --network belongs to the container's command.
        row("run alpine echo --network", "run --network host alpine echo --network"),
        row("run -d alpine sh -c --net=x", "run --network host -d alpine sh -c --net=x"),
        // The value of -e is not an option, even when it looks like one.
        row("run -e --net alpine", "run --network host -e --net alpine"));
  }

  static Stream<Arguments> passedThrough() {
    return Stream.of(
        row("ps -a"),
        row("exec -it box sh"),
        row("pull alpine"),
        row("images"),
        row("compose up -d"),
        row("compose run web"),
        row("network create lan"),
        row("container ls"),
        row("image ls"),
        row("buildx ls"),
        row("version"),
        row("--version"),
        row("login -u someone ghcr.io"),
        row("exec box docker run alpine"),
        // The caller chose a network: no second one.
        row("run --network none alpine"),
        row("run --network=bridge alpine"),
        row("run --net host alpine"),
        row("run -it --net=host alpine sh"),
        row("container run --network none alpine"),
        row("build --network=none ."),
        row("build . --network none"),
        row("buildx build . --net=host"));
  }

  @ParameterizedTest(name = "docker {0}")
  @MethodSource("networkAdded")
  void addsHostNetwork(List<String> given, List<String> expected) throws Exception {
    assertEquals(expected, runShim(given));
  }

  @ParameterizedTest(name = "docker {0}")
  @MethodSource("passedThrough")
  void passesThroughUntouched(List<String> given, List<String> expected) throws Exception {
    assertEquals(expected, runShim(given));
  }

  static Stream<Arguments> quoting() {
    return Stream.of(
        Arguments.of(
            List.of("run", "--label", "a b", "alpine", "sh", "-c", "echo \"$HOME\" 'quoted' *")),
        Arguments.of(List.of("run", "alpine", "printf", "%s", "", "$(id)", "a\tb", "back\\slash")),
        Arguments.of(List.of("exec", "box", "sh", "-c", "echo $PATH; ls *")));
  }

  @ParameterizedTest
  @MethodSource("quoting")
  void keepsEveryArgumentAsGiven(List<String> given) throws Exception {
    List<String> expected = new ArrayList<>(given);
    if (given.get(0).equals("run")) {
      expected.addAll(1, List.of("--network", "host"));
    }
    assertEquals(expected, runShim(given));
  }

  @ParameterizedTest
  @MethodSource("noArguments")
  void passesNoArgumentsThrough(List<String> given) throws Exception {
    assertEquals(List.of(), runShim(given));
  }

  static Stream<Arguments> noArguments() {
    return Stream.of(Arguments.of(List.of()));
  }

  private static Arguments row(String given, String expected) {
    return Arguments.of(words(given), words(expected));
  }

  private static Arguments row(String unchanged) {
    return Arguments.of(words(unchanged), words(unchanged));
  }

  private static List<String> words(String line) {
    return List.of(line.split(" "));
  }

  private static List<String> runShim(List<String> arguments) throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add(shim.toString());
    argv.addAll(arguments);
    Result result = Commands.run(argv, Map.of("MICRORUNNER_REAL_DOCKER", fakeDocker.toString()));
    assertEquals(0, result.exitStatus(), result.stderrTail());
    return result.stdout();
  }
}
