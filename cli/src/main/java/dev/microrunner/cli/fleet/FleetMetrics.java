package dev.microrunner.cli.fleet;

import dev.microrunner.github.GitHubCallObserver;
import dev.microrunner.github.WebhookReceiver;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.Demand;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.PoolListener;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The orchestrator's Prometheus metrics, made from the loops' events and the GitHub clients' calls,
 * and served at {@code http://HOST:PORT/metrics} by the Prometheus Java client. Per-pool families
 * carry {@code pool}, {@code runtime} and {@code host}; none carries a runner id, a runner name, a
 * job name, a URL or a secret: every label value comes from a small fixed set or the configuration.
 */
public final class FleetMetrics implements PoolListener, GitHubCallObserver {

  static final String[] POOL_LABELS = {"pool", "runtime", "host"};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final String host;
  private final String defaultRuntime;
  private final FleetState state;
  private final long startedMillis = System.currentTimeMillis();
  private final Map<String, String> runtimes = new ConcurrentHashMap<>();
  private final Map<Integer, Track> tracks = new HashMap<>();

  private final Counter started;
  private final Counter registered;
  private final Counter completed;
  private final Counter failed;
  private final Counter killed;
  private final Histogram startToRegistration;
  private final Histogram jobDuration;
  private final Histogram hostGap;
  private final Histogram registrationLatency;
  private final Counter githubCalls;
  private final Counter githubRetries;
  private final Gauge rateLimitRemaining;

  /** What the metrics remember of a loop's current runner. */
  private static final class Track {
    long vmStartedNanos = -1;
    long exitedNanos = -1;
    long busyNanos = -1;
    boolean busy;
    boolean served;
    boolean stopping;
  }

  /**
   * @param host this host's name, the {@code host} label
   * @param defaultRuntime the orchestrator's runtime, the {@code runtime} label of pools without
   *     one of their own
   * @param version microrunner's version, for {@code microrunner_build_info}
   * @param state the loops' states, for {@code microrunner_loops}
   */
  public FleetMetrics(String host, String defaultRuntime, String version, FleetState state) {
    this.host = host;
    this.defaultRuntime = defaultRuntime;
    this.state = state;
    started = counter("microrunner_runners_started", "Runner VMs started, per pool.", POOL_LABELS);
    registered =
        counter(
            "microrunner_runners_registered",
            "Runners that registered at GitHub (the agent published .tkn), per pool.",
            POOL_LABELS);
    completed =
        counter(
            "microrunner_runners_completed",
            "Runners whose VM ended after they took a job, per pool.",
            POOL_LABELS);
    failed =
        counter(
            "microrunner_runners_failed",
            "Runners that failed (no registration, no job, VM start failed, GitHub errors): each"
                + " makes its loop back off, per pool.",
            POOL_LABELS);
    killed =
        counter(
            "microrunner_runners_killed",
            "Runners the host stopped (.trm and the grace period: a signal, a lifetime, a reload),"
                + " per pool.",
            POOL_LABELS);
    startToRegistration =
        histogram(
            "microrunner_vm_start_to_registration_seconds",
            "From a VM's start to its runner's registration (.tkn), per pool.",
            new double[] {0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300},
            POOL_LABELS);
    jobDuration =
        histogram(
            "microrunner_job_duration_seconds",
            "How long runners were busy with their job, per pool.",
            new double[] {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600},
            POOL_LABELS);
    hostGap =
        histogram(
            "microrunner_host_gap_seconds",
            "The host's gap between one VM's end and the next VM's start in a loop, per pool.",
            new double[] {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
            POOL_LABELS);
    registrationLatency =
        histogram(
            "microrunner_github_registration_seconds",
            "GitHub's answer time to a registration (generate-jitconfig or registration-token).",
            new double[] {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
            "endpoint",
            "host");
    githubCalls =
        counter(
            "microrunner_github_calls",
            "Exchanges with GitHub's REST API by endpoint kind and HTTP status (0: no answer).",
            "endpoint",
            "status",
            "host");
    githubRetries =
        counter(
            "microrunner_github_retries",
            "Exchanges with GitHub that repeated a failed one (5xx, network error, rate limit).",
            "endpoint",
            "host");
    rateLimitRemaining =
        Gauge.builder()
            .name("microrunner_github_rate_limit_remaining")
            .help("The last x-ratelimit-remaining GitHub sent: requests left in its window.")
            .labelNames("host")
            .register(registry);
    GaugeWithCallback.builder()
        .name("microrunner_loops")
        .help("Runner loops by the state of their current runner, per pool.")
        .labelNames("pool", "state", "runtime", "host")
        .callback(
            callback -> {
              for (Pool pool : state.pools()) {
                state
                    .count(pool.name())
                    .forEach(
                        (loopState, count) ->
                            callback.call(
                                count,
                                pool.name(),
                                loopState.label(),
                                runtimeOf(pool.name()),
                                host));
              }
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("microrunner_pool_loops")
        .help("Runner loops each pool is configured to keep running.")
        .labelNames(POOL_LABELS)
        .callback(
            callback -> {
              for (Pool pool : state.pools()) {
                callback.call(pool.loops(), pool.name(), runtimeOf(pool.name()), host);
              }
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("microrunner_uptime_seconds")
        .help("Seconds since the orchestrator started.")
        .labelNames("host")
        .callback(
            callback -> callback.call((System.currentTimeMillis() - startedMillis) / 1000.0, host))
        .register(registry);
    Gauge.builder()
        .name("microrunner_build_info")
        .help("microrunner's version; always 1.")
        .labelNames("version", "host")
        .register(registry)
        .labelValues(version, host)
        .set(1);
  }

  private Counter counter(String name, String help, String... labels) {
    return Counter.builder().name(name).help(help).labelNames(labels).register(registry);
  }

  private Histogram histogram(String name, String help, double[] bounds, String... labels) {
    return Histogram.builder()
        .name(name)
        .help(help)
        .unit(null)
        .classicOnly()
        .classicUpperBounds(bounds)
        .labelNames(labels)
        .withoutExemplars()
        .register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Adds, per demand-driven pool, the queued jobs {@code demand} counts for it and the most VMs it
   * may run ({@code microrunner_pool_queued_jobs}, {@code microrunner_pool_max_vms}).
   */
  public void watchDemand(Demand demand) {
    GaugeWithCallback.builder()
        .name("microrunner_pool_queued_jobs")
        .help("Queued jobs a demand-driven pool's runners could take (webhooks and polling).")
        .labelNames(POOL_LABELS)
        .callback(
            callback -> {
              for (Pool pool : state.pools()) {
                if (pool.scaling().isPresent()) {
                  callback.call(demand.queuedFor(pool), pool.name(), runtimeOf(pool.name()), host);
                }
              }
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("microrunner_pool_max_vms")
        .help("The most VMs a pool runs at once: its loops, or its max when it follows demand.")
        .labelNames(POOL_LABELS)
        .callback(
            callback -> {
              for (Pool pool : state.pools()) {
                callback.call(pool.maxVms(), pool.name(), runtimeOf(pool.name()), host);
              }
            })
        .register(registry);
  }

  /**
   * Adds the webhook receiver's deliveries by result ({@code microrunner_webhook_deliveries}):
   * {@code accepted}, {@code ping}, and every reason a delivery was refused.
   */
  public void watchWebhooks(WebhookReceiver receiver) {
    CounterWithCallback.builder()
        .name("microrunner_webhook_deliveries")
        .help(
            "Requests to the webhook receiver by result: accepted and ping, or why they were"
                + " refused (bad_signature, too_large, replayed, …).")
        .labelNames("result", "host")
        .callback(
            callback -> {
              WebhookReceiver.Counters counters = receiver.counters();
              callback.call((double) counters.accepted(), "accepted", host);
              callback.call((double) counters.pings(), "ping", host);
              callback.call((double) counters.badSignature(), "bad_signature", host);
              callback.call((double) counters.tooLarge(), "too_large", host);
              callback.call((double) counters.replayed(), "replayed", host);
              callback.call((double) counters.missingDeliveryId(), "missing_delivery_id", host);
              callback.call((double) counters.unsupportedEvent(), "unsupported_event", host);
              callback.call((double) counters.malformed(), "malformed", host);
              callback.call((double) counters.notFound(), "not_found", host);
              callback.call((double) counters.methodNotAllowed(), "method_not_allowed", host);
              callback.call((double) counters.consumerFailed(), "consumer_failed", host);
            })
        .register(registry);
  }

  @Override
  public void onPools(List<Pool> pools) {
    for (Pool pool : pools) {
      runtimes.put(pool.name(), pool.runtime().orElse(defaultRuntime));
    }
  }

  private String runtimeOf(String pool) {
    return runtimes.getOrDefault(pool, defaultRuntime);
  }

  @Override
  public void onEvent(String pool, LoopEvent event) {
    String[] labels = {pool, runtimeOf(pool), host};
    Optional<Double> gap = Optional.empty();
    Optional<Double> toRegistration = Optional.empty();
    Optional<Double> job = Optional.empty();
    boolean complete = false;
    boolean kill = false;
    synchronized (tracks) {
      Track track = tracks.computeIfAbsent(event.loop(), loop -> new Track());
      if (event instanceof LoopEvent.VmStarted) {
        if (track.exitedNanos >= 0) {
          gap = Optional.of(seconds(event.nanoTime() - track.exitedNanos));
        }
        track.vmStartedNanos = event.nanoTime();
        track.busy = false;
        track.served = false;
        track.stopping = false;
      } else if (event instanceof LoopEvent.Registered && track.vmStartedNanos >= 0) {
        toRegistration = Optional.of(seconds(event.nanoTime() - track.vmStartedNanos));
      } else if (event instanceof LoopEvent.RunnerStateChanged changed) {
        if (changed.state() == RunnerStatus.State.BUSY && !track.busy) {
          track.busy = true;
          track.served = true;
          track.busyNanos = event.nanoTime();
        } else if (changed.state() != RunnerStatus.State.BUSY && track.busy) {
          track.busy = false;
          job = Optional.of(seconds(event.nanoTime() - track.busyNanos));
        }
        if (changed.state() == RunnerStatus.State.STOPPING && !track.stopping) {
          track.stopping = true;
          kill = true;
        }
      } else if (event instanceof LoopEvent.VmExited) {
        if (track.busy) {
          track.busy = false;
          job = Optional.of(seconds(event.nanoTime() - track.busyNanos));
        }
        complete = track.served;
        track.exitedNanos = event.nanoTime();
      } else if (event instanceof LoopEvent.Ended) {
        tracks.remove(event.loop());
      }
    }
    if (event instanceof LoopEvent.VmStarted) {
      started.labelValues(labels).inc();
    } else if (event instanceof LoopEvent.Registered) {
      registered.labelValues(labels).inc();
    } else if (event instanceof LoopEvent.BackingOff) {
      failed.labelValues(labels).inc();
    }
    if (complete) {
      completed.labelValues(labels).inc();
    }
    if (kill) {
      killed.labelValues(labels).inc();
    }
    gap.ifPresent(value -> hostGap.labelValues(labels).observe(value));
    toRegistration.ifPresent(value -> startToRegistration.labelValues(labels).observe(value));
    job.ifPresent(value -> jobDuration.labelValues(labels).observe(value));
  }

  @Override
  public void onCall(GitHubCallObserver.Call call) {
    githubCalls.labelValues(call.endpoint(), String.valueOf(call.status()), host).inc();
    if (call.retry()) {
      githubRetries.labelValues(call.endpoint(), host).inc();
    }
    call.rateLimitRemaining()
        .ifPresent(left -> rateLimitRemaining.labelValues(host).set((double) left));
    if (call.status() / 100 == 2
        && (call.endpoint().equals("jitconfig") || call.endpoint().equals("registration-token"))) {
      registrationLatency
          .labelValues(call.endpoint(), host)
          .observe(call.duration().toNanos() / 1e9);
    }
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  /**
   * Serves the metrics at {@code http://address/metrics}; the caller closes the server.
   *
   * @throws IOException if the address cannot be bound
   */
  public HTTPServer serve(InetSocketAddress address) throws IOException {
    return HTTPServer.builder()
        .inetAddress(address.getAddress())
        .port(address.getPort())
        .registry(registry)
        .buildAndStart();
  }
}
