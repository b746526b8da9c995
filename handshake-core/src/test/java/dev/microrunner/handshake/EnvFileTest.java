package dev.microrunner.handshake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EnvFileTest {
  static List<String> trickyValues() {
    return List.of(
        "",
        "plain",
        "it's",
        "'",
        "''",
        "'\\''",
        "\"double\"",
        "$HOME ${HOME} $(id) `id`",
        "back\\slash\\",
        "line1\nline2\n",
        "\n\n",
        "trailing newline\n",
        "carriage\r\nreturn",
        "tab\tand\u000bvertical",
        "; rm -rf / #",
        "unicode \u00e9\u00e8 \u4e2d\u6587 \ud83d\ude00",
        "a=b c=d",
        "*?[glob]",
        "~root",
        "-n",
        "%s%n");
  }

  @Test
  void rendersSingleQuotedLinesInOrder() {
    var values = new LinkedHashMap<String, String>();
    values.put(EnvFile.RUNNER_NAME, "ubuntu-krun-3");
    values.put(EnvFile.RUNNER_LABELS, "it's");

    assertEquals("RUNNER_NAME='ubuntu-krun-3'\nRUNNER_LABELS='it'\\''s'\n", EnvFile.render(values));
  }

  @ParameterizedTest
  @MethodSource("trickyValues")
  void roundTripsTrickyValues(String value) {
    Map<String, String> values = Map.of("KEY", value);

    assertEquals(values, EnvFile.parse(EnvFile.render(values)));
  }

  @ParameterizedTest
  @MethodSource("trickyValues")
  void aRealPosixShellSourcingTheFileGetsTheSameValue(String value, @TempDir Path dir)
      throws IOException, InterruptedException {
    Path file = dir.resolve("runner.env");
    Files.writeString(
        file, EnvFile.render(Map.of("RUNNER_TOKEN", value, "OTHER", "x")), StandardCharsets.UTF_8);

    Process shell =
        new ProcessBuilder(
                "/bin/sh", "-c", ". \"$1\"; printf %s \"$RUNNER_TOKEN\"", "sh", file.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    byte[] output = shell.getInputStream().readAllBytes();

    assertTrue(shell.waitFor(10, TimeUnit.SECONDS));
    assertEquals(0, shell.exitValue());
    assertEquals(value, new String(output, StandardCharsets.UTF_8));
  }

  @Test
  void rejectsInvalidKeysNamingThem() {
    for (String key : List.of("", "1ABC", "A-B", "A B", "A=B", "ÄB", "A\nB", "A".repeat(129))) {
      var e = assertThrows(IllegalArgumentException.class, () -> EnvFile.render(Map.of(key, "v")));
      assertTrue(e.getMessage().startsWith("invalid env key"), e.getMessage());
    }
  }

  @Test
  void rejectsNulAndUnpairedSurrogatesWithoutEchoingTheValue() {
    var nul =
        assertThrows(
            IllegalArgumentException.class,
            () -> EnvFile.render(Map.of("RUNNER_SECRET", "topsecret\0")));
    assertTrue(nul.getMessage().contains("RUNNER_SECRET"), nul.getMessage());
    assertTrue(nul.getMessage().contains("NUL"), nul.getMessage());
    assertFalse(nul.getMessage().contains("topsecret"));

    assertThrows(IllegalArgumentException.class, () -> EnvFile.render(Map.of("K", "a\ud800b")));
    assertThrows(IllegalArgumentException.class, () -> EnvFile.render(Map.of("K", "\udc00")));
    assertThrows(IllegalArgumentException.class, () -> EnvFile.render(Map.of("K", "a\ud800")));
  }

  @Test
  void parsesEmptyTextAsNoEntries() {
    assertEquals(Map.of(), EnvFile.parse(""));
  }

  @Test
  void lineNumbersCountNewlinesInsideValues() {
    String text = "A='one\ntwo'\nB='x'\nC=unquoted\n";

    var e = assertThrows(EnvFileFormatException.class, () -> EnvFile.parse(text));

    assertEquals(4, e.lineNumber());
    assertTrue(e.getMessage().startsWith("line 4:"), e.getMessage());
  }

  @Test
  void rejectsEverythingTheWriterDoesNotProduce() {
    assertLineError("A='x'\nB=\"double\"\n", 2);
    assertLineError("A='x'\nB='unterminated\n", 2);
    assertLineError("A='x'", 1);
    assertLineError("A='x' \n", 1);
    assertLineError("A='x'\n\n", 2);
    assertLineError("# comment\n", 1);
    assertLineError("export A='x'\n", 1);
    assertLineError(" A='x'\n", 1);
    assertLineError("A = 'x'\n", 1);
    assertLineError("A='x'\r\n", 1);
    assertLineError("A='x'\nA='y'\n", 2);
    assertLineError("A='x'\\\n", 1);
    assertLineError("A='a\0b'\n", 1);
    assertLineError("A='x'\nB=$(id)\n", 2);
    assertLineError("1A='x'\n", 1);
    assertLineError("A='x'\n" + "K".repeat(129) + "='x'\n", 2);
  }

  @Test
  void parseErrorsNeverEchoValueText() {
    String secretLike = "Zk9vYmFyYmF6cXV4c2VjcmV0dmFsdWVzMTIzNDU2Nzg5MA".repeat(3);

    for (String text :
        new String[] {
          "RUNNER_SECRET=" + secretLike + "\n",
          secretLike + "\n",
          "RUNNER_SECRET='" + secretLike + "\n",
          "RUNNER_SECRET='x'" + secretLike + "\n"
        }) {
      var e = assertThrows(EnvFileFormatException.class, () -> EnvFile.parse(text));
      assertFalse(e.getMessage().contains(secretLike.substring(0, 12)), e.getMessage());
    }
  }

  private static void assertLineError(String text, int line) {
    var e = assertThrows(EnvFileFormatException.class, () -> EnvFile.parse(text), text);
    assertEquals(line, e.lineNumber(), e.getMessage());
  }

  @Test
  void parsedMapIsUnmodifiable() {
    Map<String, String> parsed = EnvFile.parse("A='x'\n");

    assertThrows(UnsupportedOperationException.class, () -> parsed.put("B", "y"));
  }
}
