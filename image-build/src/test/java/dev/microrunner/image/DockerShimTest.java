package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * commands get {@code --network host}, which pass through untouched, how builds and published ports
 * are rewritten, and that arguments survive byte for byte. What the shim does with real podman
 * (networks, aliases, health, compose, builds) is in {@link DockerShimPodmanTest} and {@link
 * ContainerJobReplayTest}.
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
        row("run -e --net alpine", "run --network host -e --net alpine"),
        // Published ports are the container's own ports on the VM, recorded for `docker port`.
        row(
            "run -d -p 8080:8080 -p 53/udp alpine",
            "run --network host --label dev.microrunner.ports=8080/tcp,53/udp -d alpine"),
        row(
            "create -dp 127.0.0.1:9000-9001:9000-9001 alpine",
            "create --network host --label dev.microrunner.ports=9000/tcp,9001/tcp -d alpine"),
        row(
            "run --publish=80 --name web alpine",
            "run --network host --label dev.microrunner.ports=80/tcp --name web alpine"),
        // Without a user-defined network, --add-host and aliases stay with the container.
        row(
            "run -p=5432 --add-host db:10.0.0.1 alpine",
            "run --network host --label dev.microrunner.ports=5432/tcp --add-host db:10.0.0.1"
                + " alpine"));
  }

  /** Builds run the classic builder: podman's API has no BuildKit. */
  static Stream<Arguments> classicBuild() {
    return Stream.of(
        row("build -t app .", "DOCKER_BUILDKIT=0 build --network host -t app ."),
        row("image build .", "DOCKER_BUILDKIT=0 image build --network host ."),
        row("builder build .", "DOCKER_BUILDKIT=0 builder build --network host ."),
        row(
            "--log-level info build .",
            "DOCKER_BUILDKIT=0 --log-level info build --network host ."),
        row("build --network=none .", "DOCKER_BUILDKIT=0 build --network=none ."),
        row("build . --network none", "DOCKER_BUILDKIT=0 build . --network none"),
        // buildx build becomes the same classic build; --load is what it does anyway.
        row("buildx build --load -t app .", "DOCKER_BUILDKIT=0 build --network host -t app ."),
        row("buildx b .", "DOCKER_BUILDKIT=0 build --network host ."),
        row("buildx build . --net=host", "DOCKER_BUILDKIT=0 build . --net=host"),
        row(
            "buildx build --progress plain --provenance=false --cache-from type=gha -t a -f F .",
            "DOCKER_BUILDKIT=0 build --network host -t a -f F ."),
        row(
            "buildx build --platform linux/arm64 --output type=docker -ta .",
            "DOCKER_BUILDKIT=0 build --network host --platform linux/arm64 -ta ."));
  }

  /** What needs BuildKit to build the same image is refused, with what to do instead. */
  static Stream<Arguments> buildKitOnly() {
    return Stream.of(
        Arguments.of(words("buildx build --secret id=npm .")),
        Arguments.of(words("buildx build --ssh default .")),
        Arguments.of(words("buildx build --platform linux/amd64,linux/arm64 .")),
        Arguments.of(words("buildx build -o type=local,dest=out .")),
        Arguments.of(words("buildx build --push .")),
        Arguments.of(words("run -p 8080:80 alpine")));
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
        row("buildx version"),
        row("network ls"),
        row("logs --details box"),
        row("ps --all --quiet --no-trunc --filter label=1a2b3c"),
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
        row("container run --network=container:db alpine"),
        row("run --network bridge -p 8080:80 alpine"));
  }

  @ParameterizedTest(name = "docker {0}")
  @MethodSource("networkAdded")
  void addsHostNetwork(List<String> given, List<String> expected) throws Exception {
    assertEquals(expected, runShim(given));
  }

  @ParameterizedTest(name = "docker {0}")
  @MethodSource("classicBuild")
  void buildsWithTheClassicBuilder(List<String> given, List<String> expected) throws Exception {
    assertEquals(expected, runShim(given));
  }

  @ParameterizedTest(name = "docker {0}")
  @MethodSource("buildKitOnly")
  void refusesWhatItCannotDoWithAMessage(List<String> given) throws Exception {
    Result result = shim(given);
    assertEquals(125, result.exitStatus(), result.stdout().toString());
    assertEquals(List.of(), result.stdout(), "the real CLI was not called");
    assertTrue(
        result.stderr().size() == 1
            && result.stderr().get(0).startsWith("docker (microrunner shim): "),
        result.stderr().toString());
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
    Result result = shim(arguments);
    assertEquals(0, result.exitStatus(), result.stderrTail());
    return result.stdout();
  }

  private static Result shim(List<String> arguments) throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add(shim.toString());
    argv.addAll(arguments);
    return Commands.run(argv, Map.of("MICRORUNNER_REAL_DOCKER", fakeDocker.toString()));
  }
}
