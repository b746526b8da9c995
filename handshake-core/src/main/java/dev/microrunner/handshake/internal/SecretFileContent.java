package dev.microrunner.handshake.internal;

import dev.microrunner.handshake.LoopSecret;
import java.util.Arrays;

/**
 * Decides whether the content of a break or terminate file holds the loop secret. Exactly the
 * secret is accepted, or the secret followed by one {@code \n} (what {@code echo "$secret" > f}
 * writes). Anything else, including CR, NUL padding or a second newline, is rejected.
 */
public final class SecretFileContent {
  private SecretFileContent() {}

  public static boolean holds(LoopSecret secret, byte[] content) {
    byte[] candidate = content;
    if (candidate.length > 0 && candidate[candidate.length - 1] == '\n') {
      candidate = Arrays.copyOf(candidate, candidate.length - 1);
    }
    return secret.matches(candidate);
  }
}
