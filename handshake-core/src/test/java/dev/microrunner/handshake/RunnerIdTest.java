package dev.microrunner.handshake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RunnerIdTest {

  @Test
  void parsesLoopAndRandomPart() {
    RunnerId id = RunnerId.parse("3-k2J9xQa");

    assertEquals(3, id.loop());
    assertEquals("k2J9xQa", id.random());
    assertEquals("3-k2J9xQa", id.toString());
  }

  @Test
  void namesEachProtocolFile() {
    RunnerId id = RunnerId.parse("12-abc");

    assertEquals("12-abc.env", id.fileName(HandshakeFile.ENV));
    assertEquals("12-abc.tkn", id.fileName(HandshakeFile.TOKEN));
    assertEquals("12-abc.brk", id.fileName(HandshakeFile.BREAK));
    assertEquals("12-abc.trm", id.fileName(HandshakeFile.TERMINATE));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "3",
        "3-",
        "-abc",
        "0-abc",
        "03-abc",
        "-1-abc",
        "1000000-abc",
        "3-../x",
        "3-a/b",
        "../3-abc",
        "3-abc/",
        "3-ab.c",
        "3-abc\u0000",
        "3-ab c",
        "3-abc\n",
        "3-\u00e9t\u00e9",
        "3-abcdefghijklmnopqrstuvwxyz0123456",
        "3-abc-def"
      })
  void rejectsAnythingButLoopDashAlphanumerics(String text) {
    var e = assertThrows(IllegalArgumentException.class, () -> RunnerId.parse(text));

    assertTrue(e.getMessage().startsWith("not a runner id"), e.getMessage());
    assertFalse(e.getMessage().contains("\u0000"), "control characters are escaped");
    assertFalse(e.getMessage().contains("\n"), "control characters are escaped");
  }

  @Test
  void messageShowsEscapedText() {
    var e = assertThrows(IllegalArgumentException.class, () -> RunnerId.parse("3-a\u0000b"));

    assertTrue(e.getMessage().contains("\"3-a\\u0000b\""), e.getMessage());
  }

  @Test
  void overLongTextIsTruncatedInTheMessage() {
    String text = "3-" + "a".repeat(10_000);

    var e = assertThrows(IllegalArgumentException.class, () -> RunnerId.parse(text));

    assertTrue(e.getMessage().length() < 300, e.getMessage());
  }

  @Test
  void constructorValidatesToo() {
    assertThrows(IllegalArgumentException.class, () -> new RunnerId(0, "abc"));
    assertThrows(IllegalArgumentException.class, () -> new RunnerId(1, "a/b"));
    assertThrows(NullPointerException.class, () -> new RunnerId(1, null));
  }

  @Test
  void randomIdsHaveEightAlphanumericsAndDiffer() {
    var seen = new HashSet<String>();
    for (int i = 0; i < 1000; i++) {
      RunnerId id = RunnerId.random(7);
      assertEquals(7, id.loop());
      assertTrue(id.random().matches("[A-Za-z0-9]{8}"), id.random());
      assertEquals(id, RunnerId.parse(id.toString()));
      seen.add(id.random());
    }
    assertEquals(1000, seen.size());
  }

  @Test
  void equalityIsByValue() {
    assertEquals(RunnerId.parse("3-abc"), new RunnerId(3, "abc"));
    assertNotEquals(RunnerId.parse("3-abc"), RunnerId.parse("4-abc"));
  }
}
