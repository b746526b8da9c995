package dev.microrunner.vm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link MicroVmRuntime} backend must have. Subclasses say how to build the
 * runtime and which image holds a POSIX shell with {@code sleep}, {@code cat} and {@code echo}.
 */
abstract class MicroVmRuntimeContract {
  static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

  /** An endless loop; {@code sleep} is short so that a trap runs promptly. */
  static final String LOOP = "echo ready; while true; do sleep 0.1; done";

  @TempDir Path temp;

  final Console console = new Console();
  private final List<MicroVmRuntime> runtimes = new ArrayList<>();
  private final List<VmHandle> handles = new ArrayList<>();
  String prefix;
  VmOwner owner;
  MicroVmRuntime runtime;

  /** A runtime of the backend under test for {@code owner}, state under {@code stateDirectory}. */
  abstract MicroVmRuntime create(VmOwner owner, Path stateDirectory) throws Exception;

  /** An image with /bin/sh, present in the runtime's local storage. */
  abstract String image();

  /** False for backends that ignore images (process). */
  boolean usesImages() {
    return true;
  }

  @BeforeEach
  void createRuntime() throws Exception {
    prefix = "mrt" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    owner = VmOwner.forThisProcess(prefix);
    runtime = runtimeFor(owner);
  }

  MicroVmRuntime runtimeFor(VmOwner vmOwner) throws Exception {
    MicroVmRuntime created = create(vmOwner, temp.resolve("state"));
    runtimes.add(created);
    return created;
  }

  @AfterEach
  void removeEverything() throws Exception {
    for (VmHandle handle : handles) {
      if (handle.isRunning()) {
        handle.stop(Duration.ZERO);
      }
    }
    for (MicroVmRuntime each : runtimes) {
      each.close();
    }
  }

  String name(String suffix) {
    return prefix + "-" + suffix;
  }

  VmSpec.Builder shell(String name, String script, String... args) {
    List<String> all = new ArrayList<>(List.of("-c", script, "sh"));
    all.addAll(List.of(args));
    return VmSpec.builder()
        .name(name)
        .image(image())
        .cpus(1)
        .memoryMib(256)
        .entrypoint("/bin/sh")
        .args(all);
  }

  VmHandle start(MicroVmRuntime on, VmSpec spec) throws VmException {
    VmHandle handle = on.start(spec, console);
    handles.add(handle);
    return handle;
  }

  int awaitExit(VmHandle handle) throws InterruptedException {
    Optional<Integer> status = handle.awaitExit(EXIT_TIMEOUT);
    assertTrue(status.isPresent(), "VM " + handle.name() + " did not end within " + EXIT_TIMEOUT);
    return status.get();
  }

  void awaitLine(String vmName, String line) {
    await().atMost(EXIT_TIMEOUT).until(() -> console.of(vmName).contains(line));
  }

  List<String> names(List<VmInfo> vms) {
    return vms.stream().map(VmInfo::name).collect(Collectors.toList());
  }

  @Test
  void runsTheEntrypointAndReportsConsoleLinesAndExitStatus() throws Exception {
    VmHandle vm =
        start(runtime, shell(name("exit"), "echo first; echo second >&2; exit 3").build());

    assertEquals(3, awaitExit(vm));
    assertEquals(Optional.of(3), vm.exitStatus());
    assertFalse(vm.isRunning());
    assertTrue(
        console.of(vm.name()).containsAll(List.of("first", "second")),
        console.of(vm.name()).toString());
  }

  @Test
  void passesTheEnvironmentAndTheWorkingDirectory() throws Exception {
    Path work = Files.createDirectory(temp.resolve("work"));
    VmHandle vm =
        start(
            runtime,
            shell(name("env"), "echo \"greeting=$GREETING\"; pwd")
                .environment("GREETING", "hello")
                .mount(new Mount(work, "/work", false))
                .workdir("/work")
                .build());

    assertEquals(0, awaitExit(vm));
    List<String> lines = console.of(vm.name());
    assertTrue(lines.contains("greeting=hello"), lines.toString());
    assertTrue(lines.contains("/work") || lines.contains(work.toString()), lines.toString());
  }

  @Test
  void sharesTheLoopDirectoryAtEnvironmentPath() throws Exception {
    Path loop = Files.createDirectory(temp.resolve("loop-001"));
    Files.writeString(loop.resolve("3-abc.env"), "RUNNER_NAME='r1'\n");
    VmHandle vm =
        start(
            runtime,
            shell(
                    name("mount"),
                    "cat \"$1\"; echo registered > \"$2\"",
                    EnvironmentMount.guestPath("3-abc.env"),
                    EnvironmentMount.guestPath("3-abc.tkn"))
                .mount(EnvironmentMount.of(loop))
                .build());

    assertEquals(0, awaitExit(vm));
    assertTrue(
        console.of(vm.name()).contains("RUNNER_NAME='r1'"), console.of(vm.name()).toString());
    assertEquals("registered\n", Files.readString(loop.resolve("3-abc.tkn")));
  }

  @Test
  void stopsGracefullyWhenTheWorkloadHandlesSigterm() throws Exception {
    VmHandle vm =
        start(
            runtime, shell(name("graceful"), "trap 'echo got-term; exit 0' TERM; " + LOOP).build());
    awaitLine(vm.name(), "ready");
    assertTrue(vm.isRunning());

    vm.stop(Duration.ofSeconds(30));

    assertFalse(vm.isRunning());
    assertEquals(Optional.of(0), vm.exitStatus(), "the trap's exit status, not a kill");
    assertTrue(console.of(vm.name()).contains("got-term"), console.of(vm.name()).toString());
  }

  @Test
  void forcesAStopWhenTheWorkloadIgnoresSigterm() throws Exception {
    VmHandle vm = start(runtime, shell(name("stubborn"), "trap '' TERM; " + LOOP).build());
    awaitLine(vm.name(), "ready");

    vm.stop(Duration.ofSeconds(1));

    assertFalse(vm.isRunning());
    int status = vm.exitStatus().orElseThrow();
    assertNotEquals(0, status, "killed, so not a clean exit");
    await().atMost(EXIT_TIMEOUT).until(() -> !names(runtime.list()).contains(vm.name()));
  }

  @Test
  void stopsAVmRightAfterStartingIt() throws Exception {
    VmHandle vm = start(runtime, shell(name("hasty"), LOOP).build());

    vm.stop(Duration.ofSeconds(1));

    assertFalse(vm.isRunning());
    assertTrue(vm.exitStatus().isPresent());
    await().atMost(EXIT_TIMEOUT).until(() -> !names(runtime.list()).contains(vm.name()));
  }

  @Test
  void keepsDeliveringConsoleLinesWhenAListenerThrows() throws Exception {
    ConsoleListener failing =
        (vmName, line) -> {
          console.line(vmName, line);
          throw new IllegalStateException("listener bug");
        };
    VmHandle vm =
        runtime.start(
            shell(name("listener"), "i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done")
                .build(),
            failing);

    assertEquals(0, awaitExit(vm));
    assertTrue(console.of(vm.name()).contains("line199"), console.of(vm.name()).toString());
  }

  @Test
  void stopOfAnEndedVmDoesNothing() throws Exception {
    VmHandle vm = start(runtime, shell(name("done"), "exit 4").build());
    assertEquals(4, awaitExit(vm));

    vm.stop(Duration.ofSeconds(1));

    assertEquals(Optional.of(4), vm.exitStatus());
  }

  @Test
  void listsAndDeletesOnlyItsOwnVms() throws Exception {
    VmOwner otherLive = VmOwner.forThisProcess(prefix);
    MicroVmRuntime other = runtimeFor(otherLive);
    VmHandle mine = start(runtime, shell(name("mine"), LOOP).build());
    VmHandle theirs = start(other, shell(name("theirs"), LOOP).build());
    awaitLine(mine.name(), "ready");
    awaitLine(theirs.name(), "ready");

    List<VmInfo> listed = runtime.list();
    assertEquals(List.of(mine.name()), names(listed));
    assertEquals(owner, listed.get(0).owner());
    assertEquals(List.of(theirs.name()), names(other.list()));
    assertEquals(List.of(), runtime.listOrphans(), "a live instance's VMs are not orphans");

    VmException refused = assertThrows(VmException.class, () -> runtime.delete(theirs.name()));
    assertTrue(refused.getMessage().contains(otherLive.instanceId()), refused.getMessage());
    assertTrue(theirs.isRunning(), "another live instance's VM must survive");

    runtime.delete(mine.name());
    awaitExit(mine);
    assertEquals(List.of(), runtime.list());
    runtime.delete(mine.name());
    runtime.delete(name("never-existed"));
    assertTrue(theirs.isRunning());
    assertEquals(List.of(theirs.name()), names(other.list()));
  }

  @Test
  void findsAndDeletesOrphansOfDeadInstancesOfTheSameDeploymentOnly() throws Exception {
    VmOwner dead = deadOwner(prefix, owner.host());
    VmOwner reusedPid =
        new VmOwner(prefix, owner.host(), "reused", owner.pid(), owner.processStartMillis() - 1000);
    VmOwner otherPrefix = deadOwner(prefix + "x", owner.host());
    VmOwner otherHost = deadOwner(prefix, "elsewhere.example");
    VmHandle orphan = start(runtimeFor(dead), shell(name("orphan"), LOOP).build());
    VmHandle pidReuseOrphan = start(runtimeFor(reusedPid), shell(name("reused"), LOOP).build());
    VmHandle notOurPrefix = start(runtimeFor(otherPrefix), shell(name("prefix"), LOOP).build());
    VmHandle notOurHost = start(runtimeFor(otherHost), shell(name("host"), LOOP).build());
    for (VmHandle vm : List.of(orphan, pidReuseOrphan, notOurPrefix, notOurHost)) {
      awaitLine(vm.name(), "ready");
    }

    List<VmInfo> orphans = runtime.listOrphans();
    assertEquals(List.of(orphan.name(), pidReuseOrphan.name()), names(orphans));
    assertEquals(dead, orphans.get(0).owner());
    assertEquals(List.of(), runtime.list());
    assertThrows(VmException.class, () -> runtime.delete(notOurHost.name()));
    assertThrows(VmException.class, () -> runtime.delete(notOurPrefix.name()));

    for (VmInfo vm : orphans) {
      runtime.delete(vm.name());
    }
    awaitExit(orphan);
    awaitExit(pidReuseOrphan);
    assertEquals(List.of(), runtime.listOrphans());
    assertTrue(notOurHost.isRunning());
    assertTrue(notOurPrefix.isRunning());
  }

  /** An owner whose process has ended. */
  static VmOwner deadOwner(String prefix, String host) throws IOException, InterruptedException {
    Process process = new ProcessBuilder("true").start();
    long startMillis =
        process.toHandle().info().startInstant().map(i -> i.toEpochMilli()).orElse(1L);
    assertEquals(0, process.waitFor());
    await().until(() -> !process.toHandle().isAlive());
    return new VmOwner(prefix, host, "dead" + process.pid(), process.pid(), startMillis);
  }

  @Test
  void reportsAnEntrypointThatDoesNotExistWithStatus127() throws Exception {
    VmHandle vm =
        start(
            runtime,
            shell(name("notfound"), "").entrypoint("/no/such/entrypoint").args(List.of()).build());

    int status = awaitExit(vm);

    assertEquals(ExitStatus.NOT_FOUND, status, console.of(vm.name()).toString());
    assertTrue(ExitStatus.isStartFailure(status));
  }

  @Test
  void reportsAnEntrypointThatCannotBeExecutedWithStatus126() throws Exception {
    VmHandle vm =
        start(runtime, shell(name("notexec"), "").entrypoint("/etc").args(List.of()).build());

    assertEquals(ExitStatus.NOT_EXECUTABLE, awaitExit(vm), console.of(vm.name()).toString());
  }

  @Test
  void failsClearlyOnAnImageThatIsNotThere() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(usesImages(), "this runtime ignores images");
    String missing = "localhost/microrunner-missing-image:1";
    VmException pullError =
        assertThrows(VmException.class, () -> runtime.pull(missing, PullPolicy.NEVER));
    assertTrue(pullError.getMessage().contains(missing), pullError.getMessage());

    VmSpec spec = shell(name("noimage"), "exit 0").image(missing).build();
    try {
      VmHandle vm = start(runtime, spec);
      assertEquals(ExitStatus.RUNTIME_FAILED, awaitExit(vm), console.of(vm.name()).toString());
    } catch (RuntimeCommandException e) {
      assertTrue(e.getMessage().contains(missing), e.getMessage());
      assertTrue(e.exitStatus().isPresent());
    }
    assertEquals(List.of(), runtime.list(), "a failed start leaves no VM behind");
  }

  /** Which commands each policy runs is pinned by ArgvTest; here, that a present image works. */
  @Test
  void acceptsAPresentImageUnderMissingAndNeverAndStartsFromIt() throws Exception {
    runtime.pull(image(), PullPolicy.MISSING);
    runtime.pull(image(), PullPolicy.NEVER);

    assertEquals(0, awaitExit(start(runtime, shell(name("pulled"), "exit 0").build())));
  }

  @Test
  void closeStopsTheVmsItStarted() throws Exception {
    VmHandle vm = start(runtime, shell(name("leftover"), "trap 'exit 0' TERM; " + LOOP).build());
    awaitLine(vm.name(), "ready");

    runtime.close();

    assertFalse(vm.isRunning());
  }

  @Test
  void rejectsInvalidSpecsBeforeStartingAnything() throws Exception {
    IllegalArgumentException cpus =
        assertThrows(IllegalArgumentException.class, () -> shell(name("x"), "").cpus(0).build());
    assertTrue(cpus.getMessage().contains("cpus must be positive"), cpus.getMessage());
    IllegalArgumentException mount =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                shell(name("x"), "").mount(new Mount(temp.resolve("absent"), "/a", false)).build());
    assertTrue(mount.getMessage().contains("does not exist"), mount.getMessage());
    assertEquals(List.of(), runtime.list());
  }

  @Test
  void reportsItsIdentity() {
    assertTrue(MicroVmRuntimes.names().contains(runtime.name()));
    assertTrue(runtime.availability().available(), runtime.availability().reason());
  }
}
