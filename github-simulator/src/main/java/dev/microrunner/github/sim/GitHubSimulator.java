package dev.microrunner.github.sim;

import dev.microrunner.github.sim.internal.SimServer;
import dev.microrunner.github.sim.internal.SimStore;
import java.io.IOException;
import java.net.URI;
import java.security.PublicKey;
import java.util.Optional;

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
  private final SimServer server;

  private GitHubSimulator(SimulatorOptions options) throws IOException {
    this.store = new SimStore(options.clock(), options.tokenLifetime());
    this.server = SimServer.start(options.port(), store);
  }

  /** Starts a simulator; {@code options.port() == 0} picks a free port. */
  public static GitHubSimulator start(SimulatorOptions options) throws IOException {
    return new GitHubSimulator(options);
  }

  /** The API base and runner URL base: {@code http://127.0.0.1:PORT}. */
  public URI apiUrl() {
    return server.url();
  }

  /** Accepts {@code pat} as a personal access token from now on. */
  public void acceptToken(String pat) {
    store.acceptToken(pat);
  }

  /**
   * Registers a GitHub App by its app id or client id (the JWT's {@code iss}) and public key; it is
   * installed on every principal. Returns its installation id.
   */
  public long registerApp(String appIdOrClientId, PublicKey publicKey) {
    return store.registerApp(appIdOrClientId, publicKey);
  }

  /** Adds a runner group to every organization and enterprise; returns its id. */
  public long addRunnerGroup(String name) {
    return store.addGroup(name);
  }

  /**
   * Sets the actions/runner versions GitHub serves and accepts. A connecting runner older than
   * {@code latest} whose updates are not disabled (a JIT runner's cannot be) gets an update message
   * instead of a job; one older than {@code oldestAccepted} is refused. The defaults: latest
   * {@value dev.microrunner.github.sim.internal.RunnerVersions#DEFAULT_LATEST}, every version
   * accepted.
   */
  public void setRunnerVersions(String latest, Optional<String> oldestAccepted) {
    store.runnerVersions(latest, oldestAccepted);
  }

  public void enqueueJob(SimJob job) {
    store.enqueue(job);
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
