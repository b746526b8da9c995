package dev.microrunner.github.sim.internal;

import java.util.Optional;

/**
 * Who sent a REST request, as authentication and the rate limit see it: the token or GitHub App it
 * authenticated as, or, without valid credentials, the client's address (GitHub counts such
 * requests per IP address, never against the token they presented).
 *
 * @param id the token, the App's id, or the client's address
 * @param app the App whose JWT verified, for {@link Kind#APP}
 */
record Caller(Kind kind, String id, Optional<SimStore.App> app) {

  enum Kind {
    /** A personal access token or installation token the simulator accepts. */
    TOKEN,
    /** A GitHub App's JWT, on the App endpoints. */
    APP,
    /** No credentials. */
    ANONYMOUS,
    /** Credentials that do not verify: a 401 wherever they are presented. */
    BAD_CREDENTIALS
  }

  static Caller token(String token) {
    return new Caller(Kind.TOKEN, token, Optional.empty());
  }

  static Caller app(SimStore.App app) {
    return new Caller(Kind.APP, app.appId(), Optional.of(app));
  }

  static Caller anonymous(String address) {
    return new Caller(Kind.ANONYMOUS, address, Optional.empty());
  }

  static Caller badCredentials(String address) {
    return new Caller(Kind.BAD_CREDENTIALS, address, Optional.empty());
  }

  boolean authenticated() {
    return kind == Kind.TOKEN || kind == Kind.APP;
  }

  /** The rate-limit window this caller's requests count against. */
  String rateLimitKey() {
    return switch (kind) {
      case TOKEN -> "token " + id;
      case APP -> "app " + id;
      case ANONYMOUS, BAD_CREDENTIALS -> "address " + id;
    };
  }

  /** GitHub's message when the window is used up. */
  String rateLimitExceeded() {
    return switch (kind) {
      case TOKEN -> "API rate limit exceeded for user ID 1.";
      case APP -> "API rate limit exceeded for app ID " + id + ".";
      case ANONYMOUS, BAD_CREDENTIALS ->
          "API rate limit exceeded for "
              + id
              + ". (But here's the good news: Authenticated requests get a higher rate limit."
              + " Check out the documentation for more details.)";
    };
  }

  @Override
  public String toString() {
    // Never the token itself.
    return "Caller[" + kind + (kind == Kind.TOKEN ? "" : " " + id) + "]";
  }
}
