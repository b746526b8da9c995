package dev.microrunner.github;

import java.util.Objects;

/** A personal access token; {@code toString} never shows it. */
public record PersonalAccessToken(Secret token) implements Credentials {

  public PersonalAccessToken {
    Objects.requireNonNull(token, "token");
  }

  @Override
  public String toString() {
    return "PersonalAccessToken[redacted]";
  }
}
