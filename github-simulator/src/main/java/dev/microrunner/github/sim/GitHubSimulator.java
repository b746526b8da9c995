package dev.microrunner.github.sim;

import dev.microrunner.github.sim.internal.RestApiState;
import dev.microrunner.github.sim.internal.SimServer;
import dev.microrunner.github.sim.internal.SimStore;
import java.io.IOException;
import java.net.URI;
import java.security.PublicKey;
import java.util.List;

/**
 * A GitHub simulator on 127.0.0.1: the self-hosted runner endpoints of GitHub's REST API (same
 * paths, status codes, headers and JSON), GitHub App installation tokens, a job queue served to
 * {@link SimulatedRunner}, and control endpoints under {@code /_sim/} (see docs/github.md).
 *
 * <p>The control endpoints need no authentication: the simulator listens on the loopback interface
 * only and is meant for tests and the demo.
 */
public final class GitHubSimulator implements AutoCloseable {

  private final SimStore store;
  private final RestApiState rest;
  private final SimServer server;

  private GitHubSimulator(SimulatorOptions options) throws IOException {
    this.rest = new RestApiState(SimRunnerRelease.history(options.clock().instant()));
    this.store = new SimStore(options.clock(), options.tokenLifetime(), rest);
    this.server = SimServer.start(options, store, rest);
    options.webhooks().forEach(server.webhooks()::add);
  }

  /** Starts a simulator; {@code options.port() == 0} picks a free port. */
  public static GitHubSimulator start(SimulatorOptions options) throws IOException {
    return new GitHubSimulator(options);
  }

  /** The API base and runner URL base: {@code http://127.0.0.1:PORT}. */
  public URI apiUrl() {
    return server.url();
  }

  /**
   * Declares the repository {@code owner/name}. Nothing exists until declared: GitHub's endpoints
   * answer 404 for a repository, organization or enterprise the simulator was not told of.
   */
  public void addRepository(String fullName) {
    rest.addRepository(fullName);
  }

  /** Declares the organization {@code login} (see {@link #addRepository}). */
  public void addOrganization(String login) {
    rest.addOrganization(login);
  }

  /** Declares the enterprise {@code slug} (see {@link #addRepository}). */
  public void addEnterprise(String slug) {
    rest.addEnterprise(slug);
  }

  /**
   * Replaces the actions/runner releases the simulator serves (default: {@link
   * SimRunnerRelease#history} at start): {@code GET /repos/actions/runner/releases} lists them,
   * newest first, and the runner downloads endpoints offer the newest that is not a prerelease.
   * They also decide what a connecting runner meets, as at GitHub: a version older than the offered
   * one is told to update itself (unless its updates are disabled, which a JIT runner's cannot be),
   * and one that a newer release has followed for more than 30 days is refused.
   */
  public void setRunnerReleases(List<SimRunnerRelease> releases) {
    rest.setRunnerReleases(releases);
  }

  /** Accepts {@code pat} as a personal access token from now on. */
  public void acceptToken(String pat) {
    store.acceptToken(pat);
  }

  /**
   * Registers a GitHub App by its app id or client id (the JWT's {@code iss}) and public key; it is
   * installed on every declared repository and organization. Returns its installation id.
   */
  public long registerApp(String appIdOrClientId, PublicKey publicKey) {
    return store.registerApp(appIdOrClientId, publicKey);
  }

  /** Adds a runner group to every organization and enterprise; returns its id. */
  public long addRunnerGroup(String name) {
    return store.addGroup(name);
  }

  /**
   * Queues {@code job} as the one job of a new workflow run of its repository; a repository that
   * was not declared is an IllegalArgumentException.
   */
  public void enqueueJob(SimJob job) {
    store.enqueue(job);
  }

  /**
   * Adds a webhook: from now on every job that is queued, taken by a runner and completed is sent
   * to it as a signed {@code workflow_job} event, as GitHub sends them; it is pinged at once, as
   * GitHub pings a new webhook. Returns its id ({@code X-GitHub-Hook-ID}).
   */
  public long addWebhook(SimWebhook webhook) {
    return server.webhooks().add(webhook);
  }

  /**
   * Makes the next {@code count} webhook deliveries fail without being sent, as when the receiver
   * cannot be reached (GitHub does not send them again); 0 ends it.
   */
  public void dropWebhookDeliveries(int count) {
    server.webhooks().dropNext(count);
  }

  /** The last 1,000 webhook deliveries and how each went, oldest first. */
  public List<SimWebhookDelivery> webhookDeliveries() {
    return server.webhooks().deliveries();
  }

  public SimState state() {
    return store.snapshot();
  }

  /** Injects {@code fault} into the GitHub API responses (never into {@code /_sim/}). */
  public void injectFault(Fault fault) {
    store.injectFault(fault);
  }

  /** Removes every pending fault and the latency. */
  public void clearFaults() {
    store.clearFaults();
  }

  @Override
  public void close() {
    server.close();
  }
}
