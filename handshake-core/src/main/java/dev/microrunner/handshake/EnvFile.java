package dev.microrunner.handshake;

import dev.microrunner.handshake.internal.Printable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The {@code .env} format: one {@code KEY='value'} entry per key, each ending with a newline.
 * Values are single-quoted, and a quote inside a value is written {@code '\''}, so a POSIX shell
 * sourcing the file gets every value back byte for byte (newlines, {@code $}, backticks and
 * backslashes included). The reader accepts exactly what the writer produces and evaluates nothing.
 */
public final class EnvFile {
  public static final String RUNNER_SECRET = "RUNNER_SECRET";
  public static final String RUNNER_NAME = "RUNNER_NAME";
  public static final String RUNNER_LABELS = "RUNNER_LABELS";
  public static final String RUNNER_GROUP = "RUNNER_GROUP";
  public static final String RUNNER_URL = "RUNNER_URL";
  public static final String RUNNER_JITCONFIG = "RUNNER_JITCONFIG";
  public static final String RUNNER_TOKEN = "RUNNER_TOKEN";
  public static final String RUNNER_USER = "RUNNER_USER";
  public static final String RUNNER_UPDATE = "RUNNER_UPDATE";
  public static final String RUNNER_WORKDIR = "RUNNER_WORKDIR";
  public static final String RUNNER_DNS = "RUNNER_DNS";
  public static final String RUNNER_GITHUB = "RUNNER_GITHUB";
  public static final String RUNNER_SCOPE = "RUNNER_SCOPE";
  public static final String RUNNER_PRINCIPAL = "RUNNER_PRINCIPAL";

  /** A POSIX shell variable name, bounded. */
  private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

  private EnvFile() {}

  /**
   * Renders the entries in iteration order.
   *
   * @throws IllegalArgumentException for a key that is not a shell variable name, or a value
   *     holding NUL or an unpaired surrogate (neither survives a file); the message names the key,
   *     never the value
   */
  public static String render(Map<String, String> values) {
    Objects.requireNonNull(values, "values");
    var out = new StringBuilder();
    for (var entry : values.entrySet()) {
      String key = entry.getKey();
      String value = entry.getValue();
      checkKey(key);
      if (value == null) {
        throw new IllegalArgumentException("env value of " + key + " is null");
      }
      checkValue(key, value);
      out.append(key).append("='").append(value.replace("'", "'\\''")).append("'\n");
    }
    return out.toString();
  }

  /**
   * Parses text written by {@link #render}; anything else is rejected.
   *
   * @throws EnvFileFormatException with the line number of the first problem
   */
  public static Map<String, String> parse(String text) {
    Objects.requireNonNull(text, "text");
    return new Parser(text).parse();
  }

  private static void checkKey(String key) {
    if (key == null || !KEY.matcher(key).matches()) {
      throw new IllegalArgumentException(
          "invalid env key "
              + (key == null ? "null" : Printable.quote(key))
              + ": expected a shell variable name ([A-Za-z_][A-Za-z0-9_]*, at most 128 characters)");
    }
  }

  private static void checkValue(String key, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\0') {
        throw new IllegalArgumentException(
            "env value of " + key + " contains a NUL character at index " + i);
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
          continue;
        }
        throw new IllegalArgumentException(
            "env value of " + key + " has an unpaired surrogate at index " + i);
      }
      if (Character.isLowSurrogate(c)) {
        throw new IllegalArgumentException(
            "env value of " + key + " has an unpaired surrogate at index " + i);
      }
    }
  }

  private static final class Parser {
    private final String text;
    private int pos;
    private int line = 1;

    Parser(String text) {
      this.text = text;
    }

    Map<String, String> parse() {
      var values = new LinkedHashMap<String, String>();
      while (pos < text.length()) {
        int entryLine = line;
        String key = key();
        expect('=', "expected '=' after " + key);
        String value = value(key);
        if (pos >= text.length()) {
          throw error("entry " + key + " does not end with a newline");
        }
        expect('\n', "unexpected character after the closing quote of " + key);
        if (values.putIfAbsent(key, value) != null) {
          throw new EnvFileFormatException(entryLine, "duplicate key " + key);
        }
      }
      return Collections.unmodifiableMap(values);
    }

    private String key() {
      int start = pos;
      while (pos < text.length() && isKeyChar(text.charAt(pos), pos == start)) {
        pos++;
      }
      if (pos == start) {
        throw error("expected KEY='value'");
      }
      String key = text.substring(start, pos);
      if (!KEY.matcher(key).matches()) {
        // not echoed: in a damaged file this text could be part of a secret value
        throw error("key longer than 128 characters");
      }
      return key;
    }

    private String value(String key) {
      var value = new StringBuilder();
      boolean sawSegment = false;
      while (pos < text.length()) {
        char c = text.charAt(pos);
        if (c == '\'') {
          int close = text.indexOf('\'', pos + 1);
          if (close < 0) {
            throw error("unterminated quote in the value of " + key);
          }
          String segment = text.substring(pos + 1, close);
          int nul = segment.indexOf('\0');
          if (nul >= 0) {
            countLines(segment.substring(0, nul));
            throw error("NUL character in the value of " + key);
          }
          countLines(segment);
          value.append(segment);
          pos = close + 1;
          sawSegment = true;
        } else if (c == '\\' && pos + 1 < text.length() && text.charAt(pos + 1) == '\'') {
          value.append('\'');
          pos += 2;
          sawSegment = true;
        } else {
          break;
        }
      }
      if (!sawSegment) {
        throw error("the value of " + key + " must be single-quoted");
      }
      return value.toString();
    }

    private void countLines(String segment) {
      for (int i = 0; i < segment.length(); i++) {
        if (segment.charAt(i) == '\n') {
          line++;
        }
      }
    }

    private void expect(char expected, String problem) {
      if (pos >= text.length() || text.charAt(pos) != expected) {
        throw error(problem);
      }
      pos++;
      if (expected == '\n') {
        line++;
      }
    }

    private EnvFileFormatException error(String problem) {
      return new EnvFileFormatException(line, problem);
    }

    private static boolean isKeyChar(char c, boolean first) {
      return (c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || c == '_'
          || (!first && c >= '0' && c <= '9');
    }
  }
}
