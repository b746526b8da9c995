package dev.microrunner.vm;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A {@link CommandRunner} that records commands instead of running them: the unit seam for
 * exact-argv tests. Started commands end at once with status 0.
 */
class RecordingCommandRunner implements CommandRunner {
  final List<Command> commands = new CopyOnWriteArrayList<>();
  private final Function<List<String>, Result> answers;

  RecordingCommandRunner(Function<List<String>, Result> answers) {
    this.answers = answers;
  }

  RecordingCommandRunner() {
    this(argv -> new Result(0, List.of(), List.of()));
  }

  @Override
  public Result run(Command command) throws RuntimeCommandException {
    commands.add(command);
    return answers.apply(command.argv());
  }

  @Override
  public Running start(Command command) {
    commands.add(command);
    return new Running() {
      @Override
      public Optional<ProcessHandle> process() {
        return Optional.empty();
      }

      @Override
      public Optional<Integer> awaitExit(Duration timeout) {
        return Optional.of(0);
      }

      @Override
      public Optional<Integer> exitStatus() {
        return Optional.of(0);
      }

      @Override
      public void kill() {}
    };
  }

  /** The argv of every recorded command, tool paths reduced to their file names. */
  List<List<String>> argvs() {
    return commands.stream().map(c -> withToolNames(c.argv())).toList();
  }

  static List<String> withToolNames(List<String> argv) {
    return argv.stream()
        .map(
            arg ->
                arg.startsWith("/") && arg.contains("/tools/")
                    ? arg.substring(arg.lastIndexOf('/') + 1)
                    : arg)
        .toList();
  }
}
