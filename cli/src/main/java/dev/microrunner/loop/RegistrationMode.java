package dev.microrunner.loop;

/** How the host registers each runner at GitHub. */
public enum RegistrationMode {
  /** A just-in-time runner configuration per runner (the default): the VM gets only that. */
  JIT,
  /** A registration token that the agent hands to {@code config.sh}, for servers without JIT. */
  TOKEN;

  /** Parses {@code jit} or {@code token}, case-insensitively. */
  public static RegistrationMode parse(String text) {
    for (RegistrationMode mode : values()) {
      if (mode.name().equalsIgnoreCase(text.trim())) {
        return mode;
      }
    }
    throw new IllegalArgumentException(
        "registration mode must be jit or token, not '" + text + "'");
  }
}
