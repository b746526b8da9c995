package dev.microrunner.github;

import dev.microrunner.github.internal.AppJwt;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.Objects;

/** A GitHub App's identity and private key; the key never leaves this object. */
public final class GitHubAppCredentials implements Credentials {

  private final String appIdOrClientId;
  private final Path privateKeyFile;
  private final PrivateKey privateKey;

  GitHubAppCredentials(String appIdOrClientId, Path privateKeyFile, PrivateKey privateKey) {
    this.appIdOrClientId = Objects.requireNonNull(appIdOrClientId);
    this.privateKeyFile = Objects.requireNonNull(privateKeyFile);
    this.privateKey = Objects.requireNonNull(privateKey);
  }

  public String appIdOrClientId() {
    return appIdOrClientId;
  }

  public Path privateKeyFile() {
    return privateKeyFile;
  }

  /**
   * A JSON web token for the app, RS256-signed: {@code iat} 60 s before {@code now} (clock drift),
   * {@code exp} 9 minutes after it (GitHub allows at most 10), {@code iss} the app id or client id.
   */
  public Secret jwt(Instant now) {
    return Secret.of(AppJwt.sign(privateKey, appIdOrClientId, now));
  }

  @Override
  public String toString() {
    return "GitHubAppCredentials[app=" + appIdOrClientId + ", key=" + privateKeyFile + "]";
  }
}
