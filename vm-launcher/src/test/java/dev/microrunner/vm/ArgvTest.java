package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exact command lines of the microVM backends, which this machine cannot run (no KVM). */
class ArgvTest {
  private static final String LOOP_SECRET = "Zk3v9QpL0xN7aR2sT5uW8yB1cD4eF6gH";

  @TempDir Path temp;
  private Path tools;
  private Path loop;
  private Path data;
  private VmOwner owner;

  @BeforeEach
  void setUp() throws IOException {
    tools = Files.createDirectory(temp.resolve("tools"));
    for (String tool : List.of("podman", "krun", "krunvm", "buildah")) {
      Path file = Files.writeString(tools.resolve(tool), "#!/bin/sh\nexit 99\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    loop = Files.createDirectory(temp.resolve("GH-runner-001"));
    // The secret only ever travels in the handshake file, never in argv or environments.
    Files.writeString(loop.resolve("3-k2J9xQa.env"), "RUNNER_SECRET='" + LOOP_SECRET + "'\n");
    data = Files.createDirectory(temp.resolve("data"));
    owner = new VmOwner("GH-runner", "build-host", "inst0001", 4242, 1700000000000L);
  }

  private RuntimeOptions options(CommandRunner runner) {
    return RuntimeOptions.builder(owner, temp.resolve("state"))
        .commandRunner(runner)
        .environment("PATH", tools.toString())
        .build();
  }

  private VmSpec.Builder spec() {
    return VmSpec.builder()
        .name("GH-runner-001-3")
        .image("ghcr.io/example/runner:ubuntu")
        .cpus(4)
        .memoryMib(2048)
        .dns("9.9.9.9")
        .mount(EnvironmentMount.of(loop))
        .entrypoint("/usr/bin/microrunner-agent")
        .args("--env-file", EnvironmentMount.guestPath("3-k2J9xQa.env"))
        .workdir("/home/runner")
        .environment("RUNNER_USER", "runner");
  }

  private static final List<String> OWNER_LABELS =
      List.of(
          "--label", "dev.microrunner.prefix=GH-runner",
          "--label", "dev.microrunner.host=build-host",
          "--label", "dev.microrunner.instance=inst0001",
          "--label", "dev.microrunner.pid=4242",
          "--label", "dev.microrunner.pid-start=1700000000000");

  @Test
  void podmanKrunSetsVcpusThroughTheAnnotationAndMemoryThroughTheLimit() throws Exception {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("podman+krun", options(runner))) {
      runtime.start(spec().mount(new Mount(data, "/data", true)).build(), ConsoleListener.IGNORE);
    }

    List<String> expected = new ArrayList<>();
    expected.addAll(List.of("podman", "run", "--runtime", "krun", "--rm", "--pull", "never"));
    expected.addAll(List.of("--name", "GH-runner-001-3"));
    expected.addAll(OWNER_LABELS);
    expected.addAll(
        List.of("--annotation", "krun.cpus=4", "--memory", "2048m", "--dns", "9.9.9.9"));
    expected.addAll(List.of("--volume", loop + ":/_environment", "--volume", data + ":/data:ro"));
    expected.addAll(List.of("--workdir", "/home/runner", "--env", "RUNNER_USER=runner"));
    expected.addAll(List.of("--entrypoint", "/usr/bin/microrunner-agent"));
    expected.addAll(
        List.of("ghcr.io/example/runner:ubuntu", "--env-file", "/_environment/3-k2J9xQa.env"));
    assertEquals(List.of(expected), runner.argvs());
    assertFalse(runner.argvs().get(0).contains("--cpus"), "krun ignores --cpus");
    assertNoSecrets(runner);
  }

  @Test
  void podmanRuncUsesCpusAndNetwork() throws Exception {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("podman+runc", options(runner))) {
      runtime.start(spec().network("host").build(), ConsoleListener.IGNORE);
    }

    List<String> argv = runner.argvs().get(0);
    assertEquals(List.of("--runtime", "runc"), argv.subList(2, 4));
    int cpus = argv.indexOf("--cpus");
    assertEquals("4", argv.get(cpus + 1));
    assertEquals("host", argv.get(argv.indexOf("--network") + 1));
    assertFalse(argv.contains("--annotation"));
  }

  @Test
  void krunvmCreatesUnderBuildahUnshareThenStartsAndDeletesAfterExit() throws Exception {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("krunvm", options(runner))) {
      VmHandle vm = runtime.start(spec().build(), ConsoleListener.IGNORE);
      assertEquals(0, vm.awaitExit(java.time.Duration.ofSeconds(1)).orElseThrow());
    }

    assertEquals(
        List.of(
            List.of(
                "buildah",
                "unshare",
                "krunvm",
                "create",
                "ghcr.io/example/runner:ubuntu",
                "--name",
                "GH-runner-001-3",
                "--cpus",
                "4",
                "--mem",
                "2048",
                "--dns",
                "9.9.9.9",
                "--volume",
                loop + ":/_environment",
                "--workdir",
                "/home/runner"),
            List.of(
                "krunvm",
                "start",
                "GH-runner-001-3",
                "/usr/bin/env",
                "--",
                "RUNNER_USER=runner",
                "/usr/bin/microrunner-agent",
                "--env-file",
                "/_environment/3-k2J9xQa.env"),
            List.of("krunvm", "delete", "GH-runner-001-3")),
        runner.argvs());
    assertNoSecrets(runner);
  }

  @Test
  void anExitThatIsOnlySeenRunsNoToolAndDeleteCleansUpOnce() throws Exception {
    for (String name : List.of("krunvm", "podman+krun")) {
      RecordingCommandRunner runner = new RecordingCommandRunner();
      List<List<String>> afterStart;
      int beforeClose;
      try (MicroVmRuntime runtime = MicroVmRuntimes.create(name, options(runner))) {
        VmHandle vm = runtime.start(spec().build(), ConsoleListener.IGNORE);
        int started = runner.commands.size();

        // What a runner loop does between one VM's exit and the next VM's start.
        assertEquals(0, vm.awaitExit(java.time.Duration.ofSeconds(1)).orElseThrow());
        assertFalse(vm.isRunning());
        assertEquals(started, runner.commands.size(), name + ": " + runner.argvs());

        // Then, in the background, and closing the runtime adds nothing.
        runtime.delete(vm.name());
        afterStart = runner.argvs().subList(started, runner.commands.size());
        beforeClose = runner.commands.size();
      }
      assertEquals(beforeClose, runner.commands.size(), name + ": close cleaned up again");
      List<List<String>> expected =
          name.equals("krunvm")
              ? List.of(List.of("krunvm", "delete", "GH-runner-001-3"))
              // podman run --rm removed the container as it ended: no podman ps, no podman rm.
              : List.of();
      assertEquals(expected, afterStart, name);
    }
  }

  @Test
  void krunvmWithoutEnvironmentStartsTheEntrypointDirectly() throws Exception {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("krunvm", options(runner))) {
      VmSpec spec = spec().build();
      VmSpec plain =
          new VmSpec(
              spec.name(),
              spec.image(),
              1,
              512,
              spec.dns(),
              spec.mounts(),
              "/bin/agent",
              List.of(),
              spec.workdir(),
              spec.network(),
              java.util.Map.of());
      runtime.start(plain, ConsoleListener.IGNORE);
    }
    assertEquals(
        List.of("krunvm", "start", "GH-runner-001-3", "/bin/agent"), runner.argvs().get(1));
  }

  @Test
  void krunvmRefusesWhatItCannotDo() throws Exception {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("krunvm", options(runner))) {
      VmException readOnly =
          assertThrows(
              VmException.class,
              () ->
                  runtime.start(
                      spec().mount(new Mount(data, "/data", true)).build(),
                      ConsoleListener.IGNORE));
      assertTrue(readOnly.getMessage().contains("read-only"), readOnly.getMessage());
      VmException network =
          assertThrows(
              VmException.class,
              () -> runtime.start(spec().network("none").build(), ConsoleListener.IGNORE));
      assertTrue(network.getMessage().contains("network 'none'"), network.getMessage());
    }
    assertEquals(List.of(), runner.commands, "nothing ran");
  }

  @Test
  void krunvmReportsErrorsFromStdoutWithTheCommandAndStatus() throws Exception {
    RecordingCommandRunner runner =
        new RecordingCommandRunner(
            argv ->
                argv.contains("create")
                    ? new Result(255, List.of("A VM with this name already exists"), List.of())
                    : new Result(0, List.of(), List.of()));
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("krunvm", options(runner))) {
      RuntimeCommandException failure =
          assertThrows(
              RuntimeCommandException.class,
              () -> runtime.start(spec().build(), ConsoleListener.IGNORE));
      assertEquals(255, failure.exitStatus().orElseThrow());
      assertEquals("A VM with this name already exists", failure.outputTail());
      assertTrue(failure.getMessage().contains("krunvm create"), failure.getMessage());
      assertTrue(runtime.list().isEmpty(), "the ownership record is gone again");
    }
  }

  @Test
  void failuresRedactTokens() throws Exception {
    String token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    RecordingCommandRunner runner =
        new RecordingCommandRunner(
            argv -> new Result(125, List.of(), List.of("Error: authenticating with " + token)));
    try (MicroVmRuntime runtime =
        MicroVmRuntimes.create(
            "podman+krun",
            RuntimeOptions.builder(owner, temp.resolve("state"))
                .commandRunner(runner)
                .environment("PATH", tools.toString())
                .redactor(text -> text.replace("registry.example", "<registry>"))
                .build())) {
      RuntimeCommandException failure =
          assertThrows(
              RuntimeCommandException.class,
              () -> runtime.pull("registry.example/runner:1", PullPolicy.ALWAYS));
      assertFalse(failure.getMessage().contains(token), failure.getMessage());
      assertFalse(failure.getMessage().contains("registry.example"), failure.getMessage());
      assertTrue(failure.getMessage().contains("***"), failure.getMessage());
      assertEquals(125, failure.exitStatus().orElseThrow());
    }
  }

  @Test
  void runnerFailuresAreRedactedToo() throws Exception {
    String token = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
    CommandRunner timingOut =
        new RecordingCommandRunner() {
          @Override
          public Result run(Command command) throws RuntimeCommandException {
            throw new RuntimeCommandException(
                "timed out after PT2M", List.of("podman", "pull", token), null, "auth " + token);
          }
        };
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("podman+krun", options(timingOut))) {
      RuntimeCommandException failure =
          assertThrows(
              RuntimeCommandException.class, () -> runtime.pull("img:1", PullPolicy.ALWAYS));
      assertFalse(failure.getMessage().contains(token), failure.getMessage());
      assertTrue(failure.getMessage().contains("timed out"), failure.getMessage());
      assertEquals(null, failure.getCause(), "the unredacted original is not chained");
    }
  }

  @Test
  void pullRunsOnlyWhenThePolicySaysSo() throws Exception {
    RecordingCommandRunner present = new RecordingCommandRunner();
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("podman+krun", options(present))) {
      runtime.pull("img:1", PullPolicy.MISSING);
      runtime.pull("img:1", PullPolicy.NEVER);
    }
    assertEquals(
        List.of(
            List.of("podman", "image", "exists", "img:1"),
            List.of("podman", "image", "exists", "img:1")),
        present.argvs());

    RecordingCommandRunner absent =
        new RecordingCommandRunner(
            argv -> new Result(argv.contains("exists") ? 1 : 0, List.of(), List.of()));
    try (MicroVmRuntime runtime = MicroVmRuntimes.create("podman+krun", options(absent))) {
      runtime.pull("img:1", PullPolicy.MISSING);
      assertThrows(VmException.class, () -> runtime.pull("img:1", PullPolicy.NEVER));
    }
    assertEquals(List.of("podman", "pull", "--quiet", "img:1"), absent.argvs().get(1));
  }

  private void assertNoSecrets(RecordingCommandRunner runner) {
    for (Command command : runner.commands) {
      for (String arg : command.argv()) {
        assertFalse(arg.contains(LOOP_SECRET), "secret on argv: " + command.argv());
      }
      for (var variable : command.environment().entrySet()) {
        assertFalse(variable.getValue().contains(LOOP_SECRET), variable.getKey());
        assertFalse(
            List.of("GITHUB_TOKEN", "RUNNER_PAT", "RUNNER_SECRET").contains(variable.getKey()),
            variable.getKey());
      }
    }
  }

  @Test
  void imageLabelsAreReadWithTheImageToolsOwnInspect() throws Exception {
    RecordingCommandRunner runner =
        new RecordingCommandRunner(
            argv ->
                new Result(
                    0,
                    List.of(
                        argv.stream().anyMatch(a -> a.contains("absent.key"))
                            ? "<no value>"
                            : "2.336.0"),
                    List.of()));
    try (MicroVmRuntime podman = MicroVmRuntimes.create("podman+krun", options(runner));
        MicroVmRuntime krunvm = MicroVmRuntimes.create("krunvm", options(runner))) {
      assertEquals(
          java.util.Optional.of("2.336.0"),
          podman.imageLabel("ghcr.io/example/runner:ubuntu", "dev.microrunner.runner-version"));
      assertEquals(
          java.util.Optional.empty(),
          krunvm.imageLabel("ghcr.io/example/runner:ubuntu", "absent.key"));
      assertThrows(
          IllegalArgumentException.class, () -> podman.imageLabel("img", "x\"}}{{ .Config.Env }}"));
    }

    assertEquals(
        List.of(
            List.of(
                "podman",
                "image",
                "inspect",
                "--format",
                "{{index .Labels \"dev.microrunner.runner-version\"}}",
                "ghcr.io/example/runner:ubuntu"),
            List.of(
                "buildah",
                "inspect",
                "--type",
                "image",
                "--format",
                "{{index .OCIv1.Config.Labels \"absent.key\"}}",
                "ghcr.io/example/runner:ubuntu")),
        runner.argvs());
  }
}
