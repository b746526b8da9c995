package dev.microrunner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.cli.fleet.StatusClient;
import dev.microrunner.cli.fleet.StatusServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code microrunner status [--json]}: what the running orchestrator's loops do, asked over its
 * socket in the state directory.
 */
@Command(
    name = "status",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    description = {
      "Shows the loops of the orchestrator running with this prefix and state directory: pool,"
          + " loop, runner id, state, VM age, job, failures in a row.",
      "Exit status 1 when no orchestrator answers.",
    })
public final class StatusCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = {"-p", "--prefix"},
      defaultValue = "${env:ORCHESTRATOR_PREFIX:-GH-runner}",
      description = "The orchestrator's prefix. ORCHESTRATOR_PREFIX, now: ${DEFAULT-VALUE}.")
  String prefix;

  @Option(
      names = "--json",
      description =
          "Print the status as one JSON object: {\"loops\": [{\"pool\", \"loop\", \"runner\","
              + " \"state\", \"vm_age_seconds\", \"job\", \"failures_in_a_row\"}], …}.")
  boolean json;

  @Mixin StateDirectoryOption stateDirectory = new StateDirectoryOption();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path socket = StatusServer.socketPath(stateDirectory.resolve(System.getenv()), prefix);
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      err.println(
          "microrunner status: no orchestrator with prefix "
              + prefix
              + " is running here (no "
              + socket
              + ")");
      return ExitCodes.FAILURE;
    }
    String answer;
    JsonNode status;
    try {
      answer = StatusClient.fetch(socket);
      status = JSON.readTree(answer);
    } catch (IOException e) {
      err.println(
          "microrunner status: the orchestrator with prefix "
              + prefix
              + " does not answer on "
              + socket
              + " ("
              + e.getMessage()
              + "); it may have stopped");
      return ExitCodes.FAILURE;
    }
    if (json) {
      out.println(status.toString());
    } else {
      out.print(table(status));
    }
    out.flush();
    return ExitCodes.OK;
  }

  /** The loops as a table, one line each, and a line per pool below. */
  static String table(JsonNode status) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"POOL", "LOOP", "RUNNER", "STATE", "VM AGE", "JOB", "FAILURES"});
    for (JsonNode loop : status.path("loops")) {
      rows.add(
          new String[] {
            loop.path("pool").asText(),
            loop.path("loop").asText(),
            text(loop.path("runner")),
            loop.path("state").asText(),
            loop.path("vm_age_seconds").isNumber()
                ? age(loop.path("vm_age_seconds").asDouble())
                : "-",
            text(loop.path("job")),
            loop.path("failures_in_a_row").asText("0"),
          });
    }
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder table = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        boolean number = i == 1 || i == 4 || i == 6;
        String cell = row[i];
        String padding = " ".repeat(widths[i] - cell.length());
        line.append(number ? padding + cell : cell + padding);
        if (i < row.length - 1) {
          line.append("  ");
        }
      }
      table.append(line.toString().stripTrailing()).append('\n');
    }
    int loops = status.path("loops").size();
    table.append(loops).append(" loop(s) running; pools: ");
    List<String> pools = new ArrayList<>();
    status
        .path("pools")
        .forEach(p -> pools.add(p.path("name").asText() + " (" + p.path("loops").asInt() + ")"));
    table.append(String.join(", ", pools)).append('\n');
    return table.toString();
  }

  private static String text(JsonNode node) {
    return node.isNull() || node.isMissingNode() || node.asText().isEmpty() ? "-" : node.asText();
  }

  /** 42s, 3m04s, 2h05m. */
  static String age(double seconds) {
    long s = (long) seconds;
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format("%dm%02ds", s / 60, s % 60);
    }
    return String.format("%dh%02dm", s / 3600, (s % 3600) / 60);
  }
}
