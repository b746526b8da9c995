package dev.microrunner.github;

import dev.microrunner.github.internal.PemPrivateKeys;
import dev.microrunner.github.internal.SecretFiles;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Map;

/**
 * How the client authenticates: a personal access token or a GitHub App installation.
 *
 * <p>Enterprise scope needs a classic personal access token; GitHub Apps cannot manage enterprise
 * runners.
 */
public sealed interface Credentials permits PersonalAccessToken, GitHubAppCredentials {

  /** A personal access token (classic {@code ghp_…} or fine-grained {@code github_pat_…}). */
  static Credentials pat(Secret token) {
    return new PersonalAccessToken(token);
  }

  /** A personal access token from the environment variable {@code variable}. */
  static Credentials patFromEnv(String variable) throws GitHubException {
    return patFromEnv(variable, System.getenv());
  }

  /** As {@link #patFromEnv(String)}, reading from {@code environment} (tests, embedding). */
  static Credentials patFromEnv(String variable, Map<String, String> environment)
      throws GitHubException {
    String value = environment.get(variable);
    if (value == null || value.isBlank()) {
      throw new InvalidCredentialsException(
          "environment variable " + variable + " is not set or empty: it must hold the token");
    }
    return pat(Secret.of(value.strip()));
  }

  /**
   * A personal access token read from {@code file} (one line). Warns through SLF4J when the file is
   * readable by group or others.
   */
  static Credentials patFromFile(Path file) throws GitHubException {
    return pat(SecretFiles.readToken(file));
  }

  /**
   * A GitHub App: its app id or client id, and its private key file in PKCS#1 ({@code BEGIN RSA
   * PRIVATE KEY}, what GitHub hands out) or PKCS#8 ({@code BEGIN PRIVATE KEY}) PEM.
   */
  static Credentials app(String appIdOrClientId, Path privateKeyPem) throws GitHubException {
    if (appIdOrClientId == null || !appIdOrClientId.strip().matches("[A-Za-z0-9._-]{1,100}")) {
      throw new InvalidCredentialsException(
          "GitHub App id or client id '"
              + appIdOrClientId
              + "' is not valid (a number such as 123456 or a client id such as Iv1.abc123)");
    }
    PrivateKey key = PemPrivateKeys.read(privateKeyPem);
    return new GitHubAppCredentials(appIdOrClientId.strip(), privateKeyPem, key);
  }
}
