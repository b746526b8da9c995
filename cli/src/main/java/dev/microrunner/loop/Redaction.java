package dev.microrunner.loop;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The secrets this process knows (PAT, loop secrets, JIT configs, registration tokens), so that
 * whatever writes log lines or messages can blank them out. The loops register a secret as soon as
 * they hold it and forget it once it is useless.
 */
public final class Redaction {

  /** What a secret is replaced with. */
  public static final String MASK = "***";

  /** Shorter values are not secrets worth the false positives of masking them. */
  private static final int MINIMUM_LENGTH = 8;

  private static final Set<String> SECRETS = ConcurrentHashMap.newKeySet();

  private Redaction() {}

  /** Remembers {@code secret} until {@link #forget}. */
  public static void register(String secret) {
    if (secret != null && secret.length() >= MINIMUM_LENGTH) {
      SECRETS.add(secret);
    }
  }

  public static void forget(String secret) {
    if (secret != null) {
      SECRETS.remove(secret);
    }
  }

  /** {@code text} with every registered secret replaced by {@link #MASK}. */
  public static String redact(String text) {
    if (text == null || text.isEmpty() || SECRETS.isEmpty()) {
      return text;
    }
    String result = text;
    for (String secret : SECRETS) {
      if (result.contains(secret)) {
        result = result.replace(secret, MASK);
      }
    }
    return result;
  }
}
