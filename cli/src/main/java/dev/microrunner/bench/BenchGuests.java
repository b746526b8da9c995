package dev.microrunner.bench;

import dev.microrunner.cli.demo.SelfLaunch;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The stand-in guests of the benchmark: shell scripts run as the VM's entrypoint with the agent's
 * arguments ({@code -E <id>.env -k <id>.tkn}). They register by publishing the {@code .tkn} and
 * take no real job, so that what is measured is microrunner's own cost.
 */
final class BenchGuests {

  /** Registers and ends at once; {@code BENCH_JOB_SECONDS} makes it "run a job" that long. */
  static final String INSTANT = "instant-guest";

  /**
   * Registers, then stays busy and ignores {@code .trm}, so that it is stopped after the grace
   * period. It ends on SIGTERM, as the images' init (which forwards the signal to the agent) does;
   * a bare {@code sleep} as a container's PID 1 would ignore SIGTERM and wait for the kill.
   */
  static final String BUSY = "busy-guest";

  private static final String ARGUMENTS =
      """
      env_file=''
      token_file=''
      while [ $# -gt 0 ]; do
        case $1 in
          -E) env_file=$2; shift 2 ;;
          -k) token_file=$2; shift 2 ;;
          *) shift ;;
        esac
      done
      [ -n "$env_file" ] && [ -n "$token_file" ] || { echo 'need -E and -k' >&2; exit 2; }
      rm -f "$env_file"
      echo registered > "$token_file"
      """;

  private BenchGuests() {}

  /** Writes both guests into {@code dir}. */
  static void write(Path dir) throws IOException {
    SelfLaunch.writeScript(
        dir.resolve(INSTANT),
        "# microrunner bench: an instant guest.\n"
            + ARGUMENTS
            + "if [ -n \"${BENCH_JOB_SECONDS:-}\" ]; then sleep \"$BENCH_JOB_SECONDS\"; fi\n"
            + "exit 0");
    SelfLaunch.writeScript(
        dir.resolve(BUSY),
        "# microrunner bench: a busy guest that ignores .trm.\n"
            + ARGUMENTS
            + "sleep 3600 &\n"
            + "child=$!\n"
            + "trap 'kill $child 2>/dev/null; exit 143' TERM INT\n"
            + "wait $child");
  }
}
