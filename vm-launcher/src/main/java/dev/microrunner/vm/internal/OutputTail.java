package dev.microrunner.vm.internal;

import java.util.List;

/** The last lines of a tool's output, for exception messages. */
final class OutputTail {
  static final int LINES = 10;

  private OutputTail() {}

  static String of(List<String> lines) {
    List<String> tail = lines.subList(Math.max(0, lines.size() - LINES), lines.size());
    return String.join("\n", tail);
  }
}
