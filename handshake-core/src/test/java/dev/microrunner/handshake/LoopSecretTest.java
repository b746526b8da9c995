package dev.microrunner.handshake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoopSecretTest {

  @Test
  void generatedSecretIs256BitsOfBase64Url() {
    LoopSecret secret = LoopSecret.generate();

    assertEquals(43, secret.reveal().length());
    assertTrue(secret.reveal().matches("[A-Za-z0-9_-]+"));
    assertEquals(32, Base64.getUrlDecoder().decode(secret.reveal()).length);
  }

  @Test
  void generatedSecretsDiffer() {
    assertNotEquals(LoopSecret.generate().reveal(), LoopSecret.generate().reveal());
  }

  @Test
  void toStringIsRedacted() {
    LoopSecret secret = LoopSecret.generate();

    assertEquals("LoopSecret[redacted]", secret.toString());
    assertFalse(String.valueOf(secret).contains(secret.reveal()));
  }

  @Test
  void acceptsUserSecretOf22Base64UrlCharacters() {
    LoopSecret secret = LoopSecret.of("abcdefghij-_KLMNOPQRST");

    assertEquals("abcdefghij-_KLMNOPQRST", secret.reveal());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "short", "abcdefghijklmnopqrstu", "abcdefghijklmnopqrstuv+", "a b"})
  void rejectsShortOrNonBase64UrlSecretsSayingWhatIsWrong(String value) {
    var e = assertThrows(IllegalArgumentException.class, () -> LoopSecret.of(value));

    // The command line names its option and variable (RunnerCommandTest); the library says why.
    assertTrue(
        e.getMessage().matches("the loop secret (is empty|has \\d+ characters.*|must use .*)"),
        e.getMessage());
    if (!value.isEmpty()) {
      assertFalse(e.getMessage().contains(value), "the value must not be echoed");
    }
  }

  @Test
  void rejectsNullAndOverLongSecrets() {
    assertThrows(IllegalArgumentException.class, () -> LoopSecret.of(null));
    assertThrows(IllegalArgumentException.class, () -> LoopSecret.of("a".repeat(1025)));
  }

  @Test
  void matchesOnlyTheExactValue() {
    LoopSecret secret = LoopSecret.of("abcdefghijklmnopqrstuvwxyz");

    assertTrue(secret.matches("abcdefghijklmnopqrstuvwxyz"));
    assertFalse(secret.matches("abcdefghijklmnopqrstuvwxy"));
    assertFalse(secret.matches("abcdefghijklmnopqrstuvwxyzz"));
    assertFalse(secret.matches("Abcdefghijklmnopqrstuvwxyz"));
    assertFalse(secret.matches(""));
    assertFalse(secret.matches((String) null));
    assertFalse(secret.matches((byte[]) null));
  }
}
