package dev.microrunner.loop;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The secrets one orchestrator or command knows (PAT, loop secrets, JIT configs, registration
 * tokens), so that whatever writes log lines or messages can mask them. Whoever holds a secret adds
 * it as soon as it has it and removes it once it is useless (a loop's secret when the loop ends, a
 * JIT config when its registration is gone). Thread-safe.
 */
public final class Redactor {

  /** What a secret is replaced with. */
  public static final String MASK = "***";

  /** Shorter values are not secrets worth the false positives of masking them. */
  private static final int MINIMUM_LENGTH = 8;

  private final Set<String> secrets = ConcurrentHashMap.newKeySet();

  /** Masks {@code secret} from now on, until {@link #forget}. */
  public void add(String secret) {
    if (secret != null && secret.length() >= MINIMUM_LENGTH) {
      secrets.add(secret);
    }
  }

  public void forget(String secret) {
    if (secret != null) {
      secrets.remove(secret);
    }
  }

  /** {@code text} with every known secret replaced by {@link #MASK}. */
  public String redact(String text) {
    if (text == null || text.isEmpty() || secrets.isEmpty()) {
      return text;
    }
    String result = text;
    for (String secret : secrets) {
      if (result.contains(secret)) {
        result = result.replace(secret, MASK);
      }
    }
    return result;
  }
}
