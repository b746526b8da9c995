package dev.microrunner.bench;

import dev.microrunner.cli.demo.SelfLaunch;
import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.VmException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The host gap seen from outside, on a stand-in podman (such as {@code
 * ../shared/stand-ins/fake-podman}) whose guests register and end at once and which logs every call
 * with a timestamp: {@code microrunner orchestrator} as an operator runs it, against a bare shell
 * loop that runs the same stand-in back to back, in one run. The bare loop is the floor any runner
 * loop could reach; the gap is from a guest's end to the next {@code podman run}, as the stand-in
 * logs both.
 */
final class StandInGap {

  private static final CommandRunner COMMANDS = CommandRunner.commonsExec();
  private static final Duration LIMIT = Duration.ofMinutes(5);

  /** The stand-in's knobs: guests that boot, run their job and see {@code .trm} at once. */
  private static final String INSTANT_GUESTS =
      "FAKE_BOOT_S=0\nFAKE_JOB_S=0\nFAKE_TRM_POLL_S=0.02\n";

  private static final String BARE_LOOP =
      """
      # microrunner bench: the floor, podman run back to back from a shell.
      dir=$1; n=$2; i=0
      while [ "$i" -lt "$n" ]; do
        i=$((i + 1))
        printf "RUNNER_SECRET='bench'\\n" > "$dir/1-bare$i.env"
        podman run --rm --name "bare-$i" --volume "$dir:/_environment" stand-in /agent \\
          -E "/_environment/1-bare$i.env" -k "/_environment/1-bare$i.tkn" || exit 1
      done\
      """;

  private final Path standIn;
  private final int runners;
  private final Path work;

  /**
   * @param standIn the directory of the stand-in {@code podman}
   * @param runners VMs of each loop, so that both reach their steady state
   * @param work a directory of the bench's own
   */
  StandInGap(Path standIn, int runners, Path work) {
    this.standIn = standIn;
    this.runners = runners;
    this.work = work;
  }

  BenchResult measure(URI api, String principal, Path tokenFile)
      throws IOException, VmException, InterruptedException {
    List<Long> bare = bareLoop();
    List<Long> microrunner = orchestrator(api, principal, tokenFile);
    long bareMedian = Bench.median(bare);
    long median = Bench.median(microrunner);
    return new BenchResult(
        "host gap seen from outside, against a bare loop (stand-in podman)",
        Bench.millis(median) + " vs " + Bench.millis(bareMedian),
        "<= 2x the bare loop",
        "18-19 ms",
        median <= 2 * bareMedian,
        String.format(
            Locale.ROOT,
            "%s as podman: from each guest's end to the next `podman run` in its call log, median"
                + " of %d gaps for `microrunner orchestrator -n 1 -R podman+krun -r %d` (launcher"
                + " JVM options, the simulator answering at once) and of %d for a shell loop"
                + " running the same stand-in %d times; ratio %.2f.",
            standIn,
            microrunner.size(),
            runners,
            bare.size(),
            runners,
            (double) median / bareMedian));
  }

  private List<Long> bareLoop() throws IOException, VmException {
    Path state = stateDirectory("bare");
    Path loop = Files.createDirectories(work.resolve("stand-in-bare-loop"));
    Path script = SelfLaunch.writeScript(work.resolve("bare-loop"), BARE_LOOP);
    run(
        List.of("/bin/sh", script.toString(), loop.toString(), String.valueOf(runners)),
        state,
        "the bare loop");
    return StandInCallLog.gaps(state.resolve("fake-podman/calls.log"));
  }

  private List<Long> orchestrator(URI api, String principal, Path tokenFile)
      throws IOException, VmException {
    Path state = stateDirectory("microrunner");
    List<String> arguments =
        List.of(
            "orchestrator",
            "-n",
            "1",
            "-R",
            "podman+krun",
            "-p",
            "bench-stand-in",
            "--state-dir",
            work.resolve("state").toString(),
            "--base-dir",
            work.resolve("base-stand-in").toString(),
            "-l",
            work.resolve("stand-in.log").toString(),
            "--",
            "-g",
            api.toString(),
            "-p",
            principal,
            "--token-file",
            tokenFile.toString(),
            "-r",
            String.valueOf(runners),
            "-i",
            "stand-in");
    run(SelfLaunch.command(SelfLaunch.LAUNCHER_JVM_FLAGS, arguments), state, "the orchestrator");
    return StandInCallLog.gaps(state.resolve("fake-podman/calls.log"));
  }

  /**
   * A state directory of the stand-in's own. Runtime tools get an allow-listed environment, so the
   * stand-in takes its knobs from {@code $XDG_RUNTIME_DIR/fake-podman/env}.
   */
  private Path stateDirectory(String name) throws IOException {
    Path runtimeDirectory = Files.createDirectories(work.resolve("stand-in-" + name));
    Path state = Files.createDirectories(runtimeDirectory.resolve("fake-podman"));
    Files.writeString(state.resolve("env"), INSTANT_GUESTS);
    return runtimeDirectory;
  }

  private void run(List<String> argv, Path runtimeDirectory, String what)
      throws IOException, VmException {
    Map<String, String> environment =
        ChildEnvironment.of(
            Map.of(
                "PATH",
                standIn + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"),
                "XDG_RUNTIME_DIR",
                runtimeDirectory.toString()));
    Result result = COMMANDS.run(Command.of(argv, environment).withTimeout(LIMIT));
    if (result.exitStatus() != 0) {
      throw new IOException(
          what
              + " on the stand-in ended with status "
              + result.exitStatus()
              + ": "
              + result.stderrTail()
              + result.stdoutTail());
    }
  }
}
