package dev.microrunner.github.internal;

import dev.microrunner.github.GitHubAppCredentials;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A GitHub App's installation token for one principal, cached and renewed before it expires. */
public final class InstallationTokens implements GitHubHttp.BearerSource {

  private static final Logger LOG = LoggerFactory.getLogger(InstallationTokens.class);

  /** Renew this long before expiry so that a token never runs out in the middle of a call. */
  public static final Duration RENEWAL_MARGIN = Duration.ofMinutes(5);

  private final GitHubAppCredentials app;
  private final RunnerScope scope;
  private final GitHubTarget target;
  private final GitHubHttp http;
  private final FailureMessages failures;
  private Long installationId;
  private Secret token;
  private Instant expiresAt;

  public InstallationTokens(
      GitHubAppCredentials app,
      RunnerScope scope,
      GitHubTarget target,
      GitHubHttp http,
      FailureMessages failures) {
    this.app = app;
    this.scope = scope;
    this.target = target;
    this.http = http;
    this.failures = failures;
  }

  /** A revoked installation token (or an uninstalled app) must not stay cached. */
  @Override
  public synchronized void rejected(Secret bearer) {
    if (bearer.equals(token)) {
      LOG.debug("installation token for {} rejected; dropping it", scope);
      token = null;
      installationId = null;
    }
  }

  @Override
  public synchronized Secret bearer() throws GitHubException {
    Instant now = http.clock().instant();
    if (token != null && now.isBefore(expiresAt.minus(RENEWAL_MARGIN))) {
      return token;
    }
    GitHubHttp.BearerSource jwt = () -> app.jwt(http.clock().instant());
    if (installationId == null) {
      GitHubHttp.Response installation =
          http.send(
              "GET", target.api(scope.apiPath() + "/installation"), null, jwt, Set.of(), failures);
      installationId = installation.body().path("id").asLong(0);
      if (installationId == 0) {
        installationId = null;
        throw new GitHubException(
            "GitHub's installation response for " + scope + " has no id",
            installation.status(),
            false);
      }
      LOG.debug(
          "GitHub App {} installation for {}: {}", app.appIdOrClientId(), scope, installationId);
    }
    GitHubHttp.Response issued =
        http.send(
            "POST",
            target.api("/app/installations/" + installationId + "/access_tokens"),
            null,
            jwt,
            Set.of(),
            failures);
    String value = issued.body().path("token").asText("");
    if (value.isEmpty()) {
      throw new GitHubException("GitHub issued no installation token", issued.status(), false);
    }
    token = Secret.of(value);
    expiresAt = Json.instant(issued.body(), "expires_at");
    LOG.debug("installation token renewed for {}, expires at {}", scope, expiresAt);
    return token;
  }
}
