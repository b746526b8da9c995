package dev.microrunner.cli.demo;

import dev.microrunner.github.JobDemand;
import dev.microrunner.github.Secret;
import dev.microrunner.github.WebhookReceiver;
import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimWebhook;
import dev.microrunner.loop.QueuedJobs;
import dev.microrunner.loop.Redactor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A demand-driven pool's path without GitHub: the simulator's signed {@code workflow_job} webhooks,
 * received on the loopback interface with a fresh secret and fed to a {@link QueuedJobs}. The demo
 * and the burst benchmark run their pools on it.
 */
public final class SimulatedWebhooks implements AutoCloseable {

  private final WebhookReceiver receiver;
  private final QueuedJobs jobs;

  private SimulatedWebhooks(WebhookReceiver receiver, QueuedJobs jobs) {
    this.receiver = receiver;
    this.jobs = jobs;
  }

  /**
   * Starts a receiver and adds it to {@code sim} as a webhook; jobs queued from now on are told to
   * it (GitHub does not tell a new webhook about the past). The secret goes to {@code redactor}.
   */
  public static SimulatedWebhooks connect(GitHubSimulator sim, Redactor redactor)
      throws IOException {
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String secret = HexFormat.of().formatHex(random);
    redactor.add(secret);
    QueuedJobs jobs = new QueuedJobs(new JobDemand());
    WebhookReceiver receiver =
        WebhookReceiver.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            Secret.of(secret),
            jobs::accept,
            WebhookReceiver.Options.defaults());
    sim.addWebhook(
        new SimWebhook(
            URI.create(
                "http://"
                    + receiver.address().getHostString()
                    + ":"
                    + receiver.address().getPort()
                    + WebhookReceiver.PATH),
            secret));
    return new SimulatedWebhooks(receiver, jobs);
  }

  /** The demand the webhooks feed. */
  public QueuedJobs jobs() {
    return jobs;
  }

  @Override
  public void close() {
    receiver.close();
  }
}
