package dev.microrunner.image;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Result;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays, through the image's docker shim and a real podman configured as in the VM, the docker
 * commands that actions/runner 2.331.0 issues for this job, in its order and with its arguments:
 *
 * <pre>
 * jobs:
 *   replay:
 *     container: JOB_IMAGE
 *     services:
 *       db:    { image: DB_IMAGE,    ports: ["P1:P1"], options: --health-cmd "…" --health-interval 1s --health-retries 3 }
 *       cache: { image: CACHE_IMAGE, ports: ["P2"],    options: --health-cmd "…" --health-interval 1s --health-retries 3 }
 *     steps:
 *       - run: … reaches db:P1 and cache:P2 …
 * </pre>
 *
 * <p>Where each command comes from, in actions/runner at tag v2.331.0 (commit
 * 39f6c643d3032f8795fa71f1482731ca90c8e038):
 *
 * <ul>
 *   <li>{@code src/Runner.Worker/ContainerOperationProvider.cs}: StartContainersAsync
 *       (AssertCompatibleOS → version ×2; the clean-up of earlier jobs: ps by label, rm --force
 *       each, network prune by label; network create; per container, job container first, then the
 *       services in the workflow's order: pull (3 tries), create, start, ps to see it running, then
 *       port for a service or inspect of its environment for the job container), then
 *       RunContainersHealthcheck (inspect of health while "starting"); StopContainersAsync (logs of
 *       each service, rm --force of each container, network rm).
 *   <li>{@code src/Runner.Worker/Container/DockerCommandManager.cs}: the arguments of each command
 *       (the key-only instance label, the option order of create, the formats).
 *   <li>{@code src/Runner.Worker/Container/ContainerInfo.cs}: the job container's docker socket
 *       mount and the services' port mappings; {@code MountWellKnownDirectories} in
 *       ContainerOperationProvider.cs: the job container's mounts, HOME and {@code tail -f
 *       /dev/null}.
 *   <li>{@code src/Runner.Worker/Handlers/StepHost.cs} (ContainerStepHost.ExecuteAsync) and
 *       ScriptHandler.cs: a run step is {@code exec -i --workdir … -e NAME … ID sh -e
 *       /__w/_temp/GUID.sh}, the script written by the runner into its _temp directory.
 * </ul>
 *
 * <p>The runner hands docker one argument string that .NET splits; each command below is that split
 * (so {@code --format '{{.Server.APIVersion}}'} keeps its single quotes, and {@code
 * --format="{{…}}"} loses its double ones). Two stand-ins: images come from a registry on 127.0.0.1
 * (the machine reaches no other), and the docker socket mounted into the job container is the
 * test's own service socket, where the VM's agent serves /var/run/docker.sock.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerJobReplayTest {
  // The runner's ParseDockerPort: "TARGET_PORT/PROTO -> HOST:HOST_PORT".
  private static final Pattern RUNNER_PORT_LINE =
      Pattern.compile("^(?<targetPort>\\d+)/(?<proto>\\w+) -> (?<host>.+):(?<hostPort>\\d+)$");
  private static final SecureRandom RANDOM = new SecureRandom();

  ShimOnPodman docker;
  Path runnerRoot;
  String label;
  String jobImage;
  String dbImage;
  String cacheImage;
  int dbPort;
  int cachePort;

  @BeforeAll
  void start(@TempDir Path directory) throws Exception {
    docker = ShimOnPodman.start(directory);
    // The key-only label: the first 6 hex digits of the SHA-256 of the runner's .runner file.
    label = hex(3);
    dbPort = freePort();
    cachePort = freePort();
    LocalPodmanBases podman = docker.podman;
    String job = podman.busyboxImage("job", Map.of());
    String db =
        podman.busyboxImage(
            "db",
            Map.of(),
            "CMD [\"nc\", \"-ll\", \"-p\", \"" + dbPort + "\", \"-e\", \"/bin/echo\", \"db-ok\"]");
    String cache =
        podman.busyboxImage(
            "cache",
            Map.of(),
            "CMD [\"nc\", \"-ll\", \"-p\", \""
                + cachePort
                + "\", \"-e\", \"/bin/echo\", \"cache-ok\"]");
    String tag = podman.labelValue();
    jobImage = docker.registry.publish(podman, job, "replay/node", tag, directory);
    dbImage = docker.registry.publish(podman, db, "replay/postgres", tag, directory);
    cacheImage = docker.registry.publish(podman, cache, "replay/redis", tag, directory);
    runnerRoot = Files.createDirectories(directory.resolve("runner"));
  }

  @AfterAll
  void stop() throws Exception {
    if (docker != null) {
      try {
        docker.removeLabelled(label);
      } finally {
        docker.stop();
      }
    }
  }

  @Test
  void aContainerJobWithTwoServicesRunsAndLeavesNothingBehind() throws Exception {
    // The runner's directories in the VM: _work (with the workspace), _temp, externals, tools.
    Path work = Files.createDirectories(runnerRoot.resolve("_work"));
    Files.createDirectories(work.resolve("replay/replay"));
    Path temp = Files.createDirectories(work.resolve("_temp"));
    Path actions = Files.createDirectories(work.resolve("_actions"));
    Path tools = Files.createDirectories(work.resolve("_tool"));
    Path externals = Files.createDirectories(runnerRoot.resolve("externals"));
    Path githubHome = Files.createDirectories(temp.resolve("_github_home"));
    Path githubWorkflow = Files.createDirectories(temp.resolve("_github_workflow"));

    // --- Initialize containers: AssertCompatibleOS ---
    for (String side : List.of("Server", "Client")) {
      Result version = docker.dockerOk("version", "--format", "'{{." + side + ".APIVersion}}'");
      Matcher number = Pattern.compile("(\\d+)\\.(\\d+)").matcher(version.stdout().get(0));
      assertTrue(number.find(), version.stdout().toString());
      assertTrue(
          Integer.parseInt(number.group(1)) > 1 || Integer.parseInt(number.group(2)) >= 35,
          side + " API " + number.group() + " is older than the runner's 1.35");
    }

    // --- Clean up resources from previous jobs ---
    List<String> stale =
        docker
            .dockerOk("ps", "--all", "--quiet", "--no-trunc", "--filter", "label=" + label)
            .stdout();
    for (String id : stale) {
      docker.dockerOk("rm", "--force", id);
    }
    docker.dockerOk("network", "prune", "--force", "--filter", "label=" + label);

    // --- Create local container network ---
    String network = "github_network_" + UUID.randomUUID().toString().replace("-", "");
    docker.dockerOk("network", "create", "--label", label, network);

    // --- Starting job container ---
    docker.dockerOk("pull", jobImage);
    List<String> createJob = new ArrayList<>();
    createJob.addAll(
        List.of(
            "create",
            "--name",
            displayName(jobImage),
            "--label",
            label,
            "--workdir",
            "/__w/replay/replay",
            "--network",
            network,
            "-e",
            "HOME=/github/home",
            "-e",
            "GITHUB_ACTIONS=true",
            "-e",
            "CI=true",
            "-v",
            docker.socket + ":/var/run/docker.sock",
            "-v",
            work + ":/__w",
            "-v",
            externals + ":/__e:ro",
            "-v",
            temp + ":/__w/_temp",
            "-v",
            actions + ":/__w/_actions",
            "-v",
            tools + ":/__t",
            "-v",
            githubHome + ":/github/home",
            "-v",
            githubWorkflow + ":/github/workflow",
            "--entrypoint",
            "tail",
            jobImage,
            "-f",
            "/dev/null"));
    String jobId = createAndStart(createJob);
    Result environment =
        docker.dockerOk("inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", jobId);
    assertTrue(
        environment.stdout().stream().anyMatch(line -> line.startsWith("PATH=")),
        environment.stdout().toString());

    // --- Starting db and cache service containers ---
    Map<String, String> dbPorts = new LinkedHashMap<>();
    String dbId =
        startService(
            network, "db", dbImage, String.valueOf(dbPort) + ":" + dbPort, dbPort, dbPorts);
    Map<String, String> cachePorts = new LinkedHashMap<>();
    String cacheId =
        startService(
            network, "cache", cacheImage, String.valueOf(cachePort), cachePort, cachePorts);
    // job.services.<alias>.ports, as the runner fills them from `docker port`.
    assertEquals(Map.of(String.valueOf(dbPort), String.valueOf(dbPort)), dbPorts);
    assertEquals(Map.of(String.valueOf(cachePort), String.valueOf(cachePort)), cachePorts);

    // --- Waiting for all services to be ready ---
    for (String service : List.of(dbId, cacheId)) {
      assertEquals("healthy", awaitHealth(service));
    }

    // --- A run step, executed in the job container ---
    Path script = temp.resolve(UUID.randomUUID() + ".sh");
    Files.writeString(
        script,
        "echo | nc db " + dbPort + "\necho | nc cache " + cachePort + "\necho \"$GITHUB_JOB\"\n");
    Result step =
        docker.docker(
            Map.of("GITHUB_JOB", "replay", "CI", "true"),
            List.of(
                "exec",
                "-i",
                "--workdir",
                "/__w/replay/replay",
                "-e",
                "GITHUB_JOB",
                "-e",
                "CI",
                jobId,
                "sh",
                "-e",
                "/__w/_temp/" + script.getFileName()));
    assertEquals(0, step.exitStatus(), step.stderrTail());
    assertEquals(List.of("db-ok", "cache-ok", "replay"), step.stdout());

    // Steps on the VM resolve the aliases through the VM's hosts file, to the VM itself, where
    // the services listen on their own ports.
    assertTrue(
        docker.shimHostsEntries().stream()
            .anyMatch(line -> line.startsWith("127.0.0.1\tdb ") && line.contains(network)),
        docker.shimHostsEntries().toString());
    assertTrue(
        docker.shimHostsEntries().stream()
            .anyMatch(line -> line.startsWith("127.0.0.1\tcache ") && line.contains(network)),
        docker.shimHostsEntries().toString());
    assertEquals("db-ok", readLine(dbPort));
    assertEquals("cache-ok", readLine(cachePort));

    // --- Stop containers (post job) ---
    for (String service : List.of(dbId, cacheId)) {
      docker.dockerOk("logs", "--details", service);
    }
    for (String id : List.of(jobId, dbId, cacheId)) {
      docker.dockerOk("rm", "--force", id);
    }
    docker.dockerOk("network", "rm", network);

    assertEquals(List.of(), docker.containersLabelled(label), "containers left");
    assertEquals(List.of(), docker.networksLabelled(label), "networks left");
    assertEquals(List.of(), docker.shimHostsEntries(), "hosts entries left");
  }

  private String startService(
      String network,
      String alias,
      String image,
      String portMapping,
      int port,
      Map<String, String> ports)
      throws Exception {
    docker.dockerOk("pull", image);
    String id =
        createAndStart(
            List.of(
                "create",
                "--name",
                displayName(image),
                "--label",
                label,
                "--network",
                network,
                "--network-alias",
                alias,
                "-p",
                portMapping,
                // the service's options: from the workflow, split as .NET splits them
                "--health-cmd",
                "echo | nc 127.0.0.1 " + port + " | grep -q ok",
                "--health-interval",
                "1s",
                "--health-retries",
                "3",
                "-e",
                "GITHUB_ACTIONS=true",
                "-e",
                "CI=true",
                image));
    for (String line : docker.dockerOk("port", id).stdout()) {
      Matcher mapping = RUNNER_PORT_LINE.matcher(line);
      if (mapping.matches()) {
        ports.put(mapping.group("targetPort"), mapping.group("hostPort"));
      }
    }
    return id;
  }

  /** create, start, and the runner's check that the container runs; returns the id. */
  private String createAndStart(List<String> create) throws Exception {
    Result created = docker.dockerOk(create);
    String id = created.stdout().get(0);
    assertTrue(id.matches("[0-9a-f]{64}"), "create prints the full id first: " + created.stdout());
    docker.dockerOk("start", id);
    Result running =
        docker.dockerOk(
            "ps",
            "--all",
            "--filter",
            "id=" + id,
            "--filter",
            "status=running",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Status}}");
    assertTrue(
        running.stdout().stream()
            .filter(line -> !line.isEmpty())
            .findFirst()
            .orElse("")
            .startsWith(id),
        "the container runs: " + running.stdout());
    return id;
  }

  /** The runner's health wait, with polls instead of its 2, 4, 8… second back-off. */
  private String awaitHealth(String id) {
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
              health.add(inspect.stdout().isEmpty() ? "" : inspect.stdout().get(0));
              return !health.get(health.size() - 1).equalsIgnoreCase("starting");
            });
    return health.get(health.size() - 1);
  }

  /** The runner's container name: {@code ALIAS_SANITIZEDIMAGE_6HEX}, ALIAS a GUID's hex. */
  private static String displayName(String image) {
    StringBuilder sanitized = new StringBuilder();
    for (int i = 0; i < image.length(); i++) {
      char c = image.charAt(i);
      boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      boolean digit = c >= '0' && c <= '9' && sanitized.length() > 0;
      if (letter || digit) {
        sanitized.append(c);
      }
    }
    return UUID.randomUUID().toString().replace("-", "") + "_" + sanitized + "_" + hex(3);
  }

  private static String hex(int bytes) {
    byte[] random = new byte[bytes];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String readLine(int port) throws Exception {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        BufferedReader reader =
            new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
      socket.setSoTimeout(10_000);
      return reader.readLine();
    }
  }
}
