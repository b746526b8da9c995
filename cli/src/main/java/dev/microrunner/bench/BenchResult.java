package dev.microrunner.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * One row of the benchmark table.
 *
 * @param metric what was measured
 * @param measured the figure, with its unit
 * @param target the target, e.g. {@code <= 1 s}
 * @param earlier the earlier shell implementation's figure on the same kind of host
 * @param pass whether the target was met
 * @param note how it was measured, shown under the table
 */
public record BenchResult(
    String metric, String measured, String target, String earlier, boolean pass, String note) {

  /** Prints an aligned table, then the notes. */
  public static void printTable(List<BenchResult> results, PrintWriter out) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"metric", "measured", "target", "earlier impl.", "result"});
    for (BenchResult result : results) {
      rows.add(
          new String[] {
            result.metric(),
            result.measured(),
            result.target(),
            result.earlier(),
            result.pass() ? "pass" : "FAIL"
          });
    }
    int[] widths = new int[5];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == row.length - 1 ? row[i] : pad(row[i], widths[i]) + " | ");
      }
      out.println(line);
    }
    out.println();
    for (int i = 0; i < results.size(); i++) {
      out.println("(" + (i + 1) + ") " + results.get(i).note());
    }
    out.flush();
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(width - text.length());
  }
}
