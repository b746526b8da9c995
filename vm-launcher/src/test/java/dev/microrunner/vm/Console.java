package dev.microrunner.vm;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/** Collects console lines from every VM of a test. */
final class Console implements ConsoleListener {
  private record Line(String vm, String text) {}

  private final List<Line> lines = new CopyOnWriteArrayList<>();

  @Override
  public void line(String vmName, String line) {
    lines.add(new Line(vmName, line));
  }

  List<String> of(String vmName) {
    return lines.stream()
        .filter(line -> line.vm().equals(vmName))
        .map(Line::text)
        .collect(Collectors.toList());
  }
}
