package dev.microrunner.github;

import java.time.Instant;
import java.util.Objects;

/** A registration or remove token for {@code config.sh}; valid for about an hour. */
public record RegistrationToken(Secret token, Instant expiresAt) {
  public RegistrationToken {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }
}
