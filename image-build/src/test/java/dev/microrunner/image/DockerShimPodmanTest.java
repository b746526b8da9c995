package dev.microrunner.image;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.Executables;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker shim against real podman, configured as in the VM ({@link ShimOnPodman}): the errors a
 * user can act on (a port wanted twice, an unknown network, a service that never gets healthy or
 * exits), docker build and buildx build with BuildKit out of reach, and docker compose up/down.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerShimPodmanTest {
  ShimOnPodman docker;
  Path directory;
  String label;
  String busybox;
  String network;

  @BeforeAll
  void start(@TempDir Path temporary) throws Exception {
    directory = temporary;
    docker = ShimOnPodman.start(directory);
    busybox = docker.podman.busyboxImage("busybox", Map.of());
    label = "microrunner-test-" + docker.podman.labelValue();
  }

  @AfterAll
  void stop() throws Exception {
    if (docker != null) {
      docker.stop();
    }
  }

  @AfterEach
  void removeContainersAndNetwork() throws Exception {
    if (docker != null) {
      docker.removeLabelled(label);
    }
  }

  private String newNetwork() throws Exception {
    network = "github_network_" + UUID.randomUUID().toString().replace("-", "");
    docker.dockerOk("network", "create", "--label", label, network);
    return network;
  }

  private List<String> service(String alias, String... optionsAndImage) {
    List<String> argv =
        new ArrayList<>(
            List.of(
                "create",
                "--label",
                label,
                "--network",
                network,
                "--network-alias",
                alias,
                "--name",
                alias + "-" + docker.podman.labelValue()));
    argv.addAll(List.of(optionsAndImage));
    return argv;
  }

  @Test
  void twoServicesWantingOnePortGetOneErrorNamingBoth() throws Exception {
    newNetwork();
    int port = freePort();
    String mapping = port + ":" + port;
    docker.dockerOk(service("db", "-p", mapping, busybox, "sleep", "60"));

    Result clash = docker.docker(service("cache", "-p", mapping, busybox, "sleep", "60"));

    assertEquals(125, clash.exitStatus());
    assertEquals(List.of(), clash.stdout(), "no container id");
    String message = String.join("\n", clash.stderr());
    assertTrue(
        message.contains("port " + port + "/tcp")
            && message.contains("service db")
            && message.contains("service cache"),
        message);
    assertEquals(1, docker.containersLabelled(label).size(), "cache was not created");

    Result moved = docker.docker(service("web", "-p", (port + 1) + ":" + port, busybox));
    assertEquals(125, moved.exitStatus());
    assertTrue(
        String.join("\n", moved.stderr()).contains("-p " + port + ":" + port),
        "says which -p works: " + moved.stderr());
  }

  @Test
  void containersOnANetworkResolveEachOtherAndTheirEntriesGoWithThem() throws Exception {
    newNetwork();
    int port = freePort();
    String server =
        docker
            .dockerOk(
                "run",
                "--detach",
                "--label",
                label,
                "--network=" + network,
                "--network-alias=api",
                "--add-host",
                "registry.test:10.0.0.7",
                busybox,
                "nc",
                "-ll",
                "-p",
                String.valueOf(port),
                "-e",
                "/bin/echo",
                "api-ok")
            .stdout()
            .get(0);
    assertEquals(
        List.of("host"),
        docker.dockerOk("inspect", "--format", "{{.HostConfig.NetworkMode}}", server).stdout());

    // A one-off container on the network reaches it by alias; run --rm takes its own entry along.
    List<String> client =
        List.of(
            "run",
            "--rm",
            "--label",
            label,
            "--network",
            network,
            "--network-alias",
            "client",
            busybox,
            "sh",
            "-c",
            "until echo | nc api "
                + port
                + "; do sleep 0.2; done; grep -c registry.test /etc/hosts");
    assertEquals(List.of("api-ok", "1"), docker.dockerOk(client).stdout());
    assertEquals(2, docker.shimHostsEntries().size(), docker.shimHostsEntries().toString());

    // A container started without a network joins with an alias of its own, and leaves.
    String other = docker.dockerOk("create", "--label", label, busybox, "true").stdout().get(0);
    docker.dockerOk("network", "connect", "--alias", "worker", network, other);
    assertTrue(
        docker.shimHostsEntries().stream().anyMatch(line -> line.contains("\tworker ")),
        docker.shimHostsEntries().toString());
    docker.dockerOk("network", "disconnect", network, other);
    assertFalse(
        docker.shimHostsEntries().stream().anyMatch(line -> line.contains("worker")),
        docker.shimHostsEntries().toString());

    docker.dockerOk("rm", "--force", server, other);
    assertEquals(List.of(), docker.shimHostsEntries());
    docker.dockerOk("network", "rm", network);
  }

  @Test
  void anUnknownNetworkSaysHowToCreateIt() throws Exception {
    Result unknown =
        docker.docker(
            "create", "--label", label, "--network", "github_network_missing", busybox, "true");

    assertEquals(125, unknown.exitStatus());
    String message = String.join("\n", unknown.stderr());
    assertTrue(
        message.contains("network github_network_missing not found")
            && message.contains("docker network create github_network_missing"),
        message);
    assertEquals(List.of(), docker.containersLabelled(label));
    assertEquals(List.of(), docker.shimHostsEntries());
  }

  @Test
  void aServiceThatNeverGetsHealthyEndsTheRunnersWaitAsUnhealthy() throws Exception {
    newNetwork();
    String id =
        docker
            .dockerOk(
                service(
                    "db",
                    "--health-cmd",
                    "test -e /tmp/never",
                    "--health-interval",
                    "1s",
                    "--health-retries",
                    "2",
                    busybox,
                    "sleep",
                    "60"))
            .stdout()
            .get(0);
    docker.dockerOk("start", id);

    List<String> explanations = new ArrayList<>();
    assertEquals("unhealthy", awaitHealth(id, explanations));
    String message = String.join("\n", explanations);
    assertTrue(message.contains("service db") && message.contains("test -e /tmp/never"), message);
  }

  @Test
  void aServiceThatExitsIsReportedUnhealthyWithItsExitStatus() throws Exception {
    newNetwork();
    String id =
        docker
            .dockerOk(service("db", "--health-cmd", "true", busybox, "sh", "-c", "exit 3"))
            .stdout()
            .get(0);
    docker.dockerOk("start", id);
    await("the service exits")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                docker
                    .dockerOk("inspect", "--format", "{{.State.Status}}", id)
                    .stdout()
                    .equals(List.of("exited")));

    List<String> explanations = new ArrayList<>();
    assertEquals("unhealthy", awaitHealth(id, explanations));
    assertTrue(
        String.join("\n", explanations).contains("exited with status 3"), explanations.toString());
  }

  @Test
  void buildAndBuildxBuildUseTheClassicBuilderNotBuildKit() throws Exception {
    // A buildx plugin that fails as BuildKit does against podman; the images' docker CLI has one.
    Path calls = directory.resolve("buildx-calls");
    docker.plugin(
        "buildx",
        "echo \"$*\" >> '"
            + calls
            + "'\necho 'ERROR: BuildKit is not available from this daemon' >&2\nexit 1");
    Path context = Files.createDirectories(directory.resolve("build-context"));
    Files.writeString(
        context.resolve("Containerfile"), "FROM " + busybox + "\nRUN echo built > /built\n");

    for (String verb : List.of("build", "buildx build")) {
      String tag = docker.podman.image("built-" + verb.replace(' ', '-'));
      docker.podman.removeAtEnd(tag);
      List<String> argv = new ArrayList<>(List.of(verb.split(" ")));
      argv.addAll(List.of("--load", "-t", tag, "-f", context.resolve("Containerfile").toString()));
      argv.add(context.toString());
      if (verb.equals("build")) {
        argv.remove("--load");
      }
      docker.dockerOk(argv);

      Result built = docker.dockerOk("run", "--rm", tag, "cat", "/built");
      assertEquals(List.of("built"), built.stdout(), verb);
    }
    assertFalse(Files.exists(calls), "the buildx plugin was never called");
  }

  @Test
  void composeUpAndDownOfTwoServicesOnTheDefaultNetworkOneWaitingForTheOthersHealth()
      throws Exception {
    useComposeOrSkip();
    int port = freePort();
    Path project = Files.createDirectories(directory.resolve("compose-project"));
    Files.writeString(
        project.resolve("compose.yaml"),
        "services:\n"
            + "  web:\n"
            + "    image: "
            + busybox
            + "\n"
            + "    command: [\"nc\", \"-ll\", \"-p\", \""
            + port
            + "\", \"-e\", \"/bin/echo\", \"web-ok\"]\n"
            + "    stop_grace_period: 1s\n"
            + "    healthcheck:\n"
            + "      test: [\"CMD-SHELL\", \"echo | nc 127.0.0.1 "
            + port
            + " | grep -q web-ok\"]\n"
            + "      interval: 1s\n"
            + "      retries: 30\n"
            + "  probe:\n"
            + "    image: "
            + busybox
            + "\n"
            + "    command: [\"sh\", \"-c\", \"until echo | nc web "
            + port
            + " > /tmp/reply && test -s /tmp/reply; do sleep 0.2; done; exec sleep 600\"]\n"
            + "    stop_grace_period: 1s\n"
            // compose waits for web's health check, which only the shim has run
            + "    depends_on:\n"
            + "      web:\n"
            + "        condition: service_healthy\n");
    String name = "microrunner-test-" + docker.podman.labelValue();
    String projectLabel = "com.docker.compose.project=" + name;
    try {
      docker.dockerOk(
          "compose", "-p", name, "-f", project.resolve("compose.yaml").toString(), "up", "-d");

      List<String> containers =
          docker.dockerOk("ps", "--all", "--quiet", "--filter", "label=" + projectLabel).stdout();
      assertEquals(2, containers.size(), containers.toString());
      for (String id : containers) {
        assertEquals(
            List.of("host"),
            docker.dockerOk("inspect", "--format", "{{.HostConfig.NetworkMode}}", id).stdout());
      }
      String web =
          docker
              .dockerOk(
                  "ps",
                  "--quiet",
                  "--filter",
                  "label=" + projectLabel,
                  "--filter",
                  "label=com.docker.compose.service=web")
              .stdout()
              .get(0);
      assertEquals(
          List.of("healthy"),
          docker.dockerOk("inspect", "--format", "{{.State.Health.Status}}", web).stdout());
      String probe =
          docker
              .dockerOk(
                  "ps",
                  "--quiet",
                  "--filter",
                  "label=" + projectLabel,
                  "--filter",
                  "label=com.docker.compose.service=probe")
              .stdout()
              .get(0);
      await("probe reaches web by its service name")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  docker
                      .docker("exec", probe, "cat", "/tmp/reply")
                      .stdout()
                      .equals(List.of("web-ok")));
    } finally {
      docker.dockerOk(
          "compose", "-p", name, "-f", project.resolve("compose.yaml").toString(), "down");
    }
    assertEquals(
        List.of(),
        docker.dockerOk("ps", "--all", "--quiet", "--filter", "label=" + projectLabel).stdout());
    assertEquals(
        List.of(),
        docker.dockerOk("network", "ls", "--quiet", "--filter", "label=" + projectLabel).stdout());
  }

  /**
   * The images' docker CLI has the compose plugin. Here, the real CLI's own when it has one, or a
   * plugin that runs the standalone docker-compose (Debian's, which .ci/run installs).
   */
  private void useComposeOrSkip() throws Exception {
    Result plugin = docker.docker("compose", "version");
    if (plugin.exitStatus() == 0) {
      return;
    }
    ShimOnPodman.require("docker-compose", "docker compose or docker-compose");
    Path compose = Executables.find("docker-compose", System.getenv()).orElseThrow();
    docker.plugin("compose", "exec '" + compose + "' \"$@\"");
    docker.dockerOk("compose", "version");
  }

  /** The runner's health query, repeated until the status is no longer "starting". */
  private String awaitHealth(String id, List<String> explanations) {
    List<String> health = new ArrayList<>();
    await("the health of " + id)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              Result inspect =
                  docker.dockerOk(
                      "inspect",
                      "--format={{if .Config.Healthcheck}}{{print .State.Health.Status}}{{end}}",
                      id);
              explanations.addAll(inspect.stderr());
              health.add(inspect.stdout().isEmpty() ? "" : inspect.stdout().get(0));
              return !health.get(health.size() - 1).equals("starting");
            });
    return health.get(health.size() - 1);
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
