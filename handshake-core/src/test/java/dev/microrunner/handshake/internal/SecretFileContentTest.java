package dev.microrunner.handshake.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.handshake.LoopSecret;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SecretFileContentTest {
  private final LoopSecret secret = LoopSecret.of("abcdefghijklmnopqrstuvwxyz");

  private boolean holds(String content) {
    return SecretFileContent.holds(secret, content.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void acceptsTheSecretAloneOrWithOneTrailingNewline() {
    assertTrue(holds("abcdefghijklmnopqrstuvwxyz"));
    assertTrue(holds("abcdefghijklmnopqrstuvwxyz\n"));
  }

  @Test
  void rejectsEverythingElse() {
    assertFalse(holds(""));
    assertFalse(holds("\n"));
    assertFalse(holds("abcdefghijklmnopqrstuvwxyz\n\n"));
    assertFalse(holds("abcdefghijklmnopqrstuvwxyz\r\n"));
    assertFalse(holds("abcdefghijklmnopqrstuvwxyz\0"));
    assertFalse(holds("abcdefghijklmnopqrstuvwxy"));
    assertFalse(holds("abcdefghijklmnopqrstuvwxyz "));
  }
}
