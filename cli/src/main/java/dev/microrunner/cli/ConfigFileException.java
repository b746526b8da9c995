package dev.microrunner.cli;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A problem in the configuration file, at a place: {@code FILE:LINE:COLUMN: PATH: PROBLEM}, e.g.
 * {@code fleet.yaml:12:13: pools[1].memory: must be at least 64 MiB, not 10 MiB}. The path is the
 * key's, with list items numbered from 0. Line and column are 1-based; 0 when the whole file is
 * meant.
 */
final class ConfigFileException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final int line;
  private final int column;
  private final String path;
  private final String problem;

  ConfigFileException(Path file, int line, int column, String path, String problem) {
    super(format(file, line, column, path, problem));
    this.file = Objects.requireNonNull(file, "file");
    this.line = line;
    this.column = column;
    this.path = Objects.requireNonNull(path, "path");
    this.problem = Objects.requireNonNull(problem, "problem");
  }

  private static String format(Path file, int line, int column, String path, String problem) {
    String place = line > 0 ? file + ":" + line + ":" + column : file.toString();
    return place + ": " + (path.isEmpty() ? "" : path + ": ") + problem;
  }

  Path file() {
    return file;
  }

  int line() {
    return line;
  }

  int column() {
    return column;
  }

  /** The key path, e.g. {@code pools[1].memory}; empty for the file as a whole. */
  String path() {
    return path;
  }

  String problem() {
    return problem;
  }
}
