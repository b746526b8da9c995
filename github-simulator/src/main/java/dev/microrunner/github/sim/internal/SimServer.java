package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimulatorOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The simulator's HTTP layer: a JDK HTTP server on 127.0.0.1 that hands each request to the API it
 * is for ({@code /_sim/}: the control API, else the simulated runner's; everything else: GitHub's
 * REST API, inside its rate limits and faults) and writes the reply as JSON. A refusal ({@link
 * HttpError}) becomes GitHub's error body; anything unexpected a 500.
 */
public final class SimServer implements AutoCloseable {

  /** Logs under the simulator's public name, which is what a log line shows. */
  private static final Logger LOG = LoggerFactory.getLogger(GitHubSimulator.class);

  static {
    // Without TCP_NODELAY the JDK server's small writes meet the client's delayed ACK: ~40 ms per
    // request. Read once when the JDK server is first used; an explicit setting wins.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final URI url;
  private final SimStore store;
  private final RestApiEnvelope restApi;
  private final ControlRoutes controlApi;
  private final RunnerApiRoutes runnerApi;
  private final WebhookSender webhooks;

  private SimServer(SimulatorOptions options, SimStore store, RestApiState rest)
      throws IOException {
    this.store = store;
    this.server =
        HttpServer.create(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()), 64);
    AtomicInteger threads = new AtomicInteger();
    this.executor =
        Executors.newCachedThreadPool(
            task -> {
              Thread thread = new Thread(task, "github-sim-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    this.url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    this.webhooks = new WebhookSender(url, store, rest, options.clock());
    store.setJobListener(webhooks);
    this.restApi = new RestApiEnvelope(store, new RestApiRoutes(store, rest, url), options);
    this.controlApi = new ControlRoutes(store, webhooks);
    this.runnerApi = new RunnerApiRoutes(store, rest);
    server.createContext("/", this::handle);
  }

  /**
   * Serves {@code store} and {@code rest} on 127.0.0.1 at the options' port (0: a free one), with
   * the options' rate limits.
   */
  public static SimServer start(SimulatorOptions options, SimStore store, RestApiState rest)
      throws IOException {
    SimServer simServer = new SimServer(options, store, rest);
    simServer.server.start();
    LOG.info("GitHub simulator listening on {}", simServer.url);
    return simServer;
  }

  /** {@code http://127.0.0.1:PORT}. */
  public URI url() {
    return url;
  }

  /** The webhooks and their deliveries. */
  public WebhookSender webhooks() {
    return webhooks;
  }

  @Override
  public void close() {
    server.stop(0);
    webhooks.close();
    executor.shutdownNow();
    store.wakeWaiters();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Request request = new Request(exchange);
      Reply reply;
      try {
        reply = dispatch(request);
      } catch (HttpError e) {
        reply = e.reply();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        reply = Reply.error(503, "simulator shutting down");
      } catch (RuntimeException e) {
        LOG.warn("simulator failed on {} {}", request.method(), request.path(), e);
        reply = Reply.error(500, "Server Error");
      }
      send(exchange, reply);
    }
  }

  private Reply dispatch(Request request) throws IOException, HttpError, InterruptedException {
    if (request.path().startsWith("/_sim/")) {
      Optional<Reply> control = controlApi.route(request);
      return control.isPresent() ? control.get() : runnerApi.handle(request);
    }
    return restApi.handle(request);
  }

  private static void send(HttpExchange exchange, Reply reply) throws IOException {
    reply.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
    if (reply.body() == null) {
      exchange.sendResponseHeaders(reply.status(), -1);
      return;
    }
    byte[] bytes = JSON.writeValueAsBytes(reply.body());
    exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    exchange.sendResponseHeaders(reply.status(), bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
