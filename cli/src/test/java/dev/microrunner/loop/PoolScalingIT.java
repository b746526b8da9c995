package dev.microrunner.loop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.JobDemand;
import dev.microrunner.github.Secret;
import dev.microrunner.github.WebhookReceiver;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.loop.LoopEvent.VmExited;
import dev.microrunner.loop.LoopEvent.VmStarted;
import dev.microrunner.vm.Availability;
import dev.microrunner.vm.ConsoleListener;
import dev.microrunner.vm.Isolation;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmInfo;
import dev.microrunner.vm.VmSpec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Demand-driven pools with the real agent and simulated runners: they grow for queued jobs up to
 * {@code max}, shrink as jobs end and after the idle timeout, and never exceed {@code max}.
 */
class PoolScalingIT {

  @TempDir Path work;
  private LoopHarness harness;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger mostRunning = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    harness = LoopHarness.start(work);
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private Orchestrator orchestrator(Pool pool, Demand demand) {
    return Orchestrator.builder(
            harness
                .orchestrator(harness.runner().build())
                .pools(List.of(pool))
                .parallelStart(4)
                .build())
        .listener(
            event -> {
              harness.events.add(event);
              if (event instanceof VmStarted) {
                mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
              } else if (event instanceof VmExited) {
                running.decrementAndGet();
              }
            })
        .demand(demand)
        .build();
  }

  private Pool pool(int minIdle, int max, Duration idleTimeout) {
    return Pool.scaled(
        "auto", new Scaling(minIdle, max, idleTimeout), Optional.empty(), harness.runner().build());
  }

  private long online() {
    return harness.sim.state().runners().stream().filter(r -> r.status().equals("online")).count();
  }

  /** The simulator's queued jobs: what GitHub would report as the pool's demand. */
  private int queuedAtTheSimulator() {
    return (int)
        harness.sim.state().jobs().stream().filter(j -> j.status().equals("queued")).count();
  }

  @Test
  void aBurstGrowsThePoolToItsMaxAndItShrinksToMinIdleAsTheJobsEnd() throws Exception {
    Orchestrator orchestrator =
        orchestrator(pool(1, 3, Duration.ofMinutes(5)), p -> queuedAtTheSimulator());
    CompletableFuture<Orchestrator.Result> result = runInBackground(orchestrator);
    await().atMost(Duration.ofSeconds(60)).until(() -> online() == 1);

    for (int i = 1; i <= 6; i++) {
      harness.sim.enqueueJob(new SimJob("job-" + i, LoopHarness.LABELS, Duration.ofSeconds(2)));
    }
    await().atMost(Duration.ofSeconds(90)).until(() -> harness.sim.state().finishedJobs() == 6);
    assertEquals(3, mostRunning.get(), "VMs at the busiest moment: max, never more");

    // The loops whose jobs ended did not start idle VMs beyond min-idle.
    await().atMost(Duration.ofSeconds(60)).until(() -> online() == 1 && running.get() == 1);
    orchestrator.stop(false);
    Orchestrator.Result ended = result.get(60, TimeUnit.SECONDS);
    assertTrue(ended.failure().isEmpty(), "" + ended);
    assertEquals(6, ended.runners(), "every job's runner counted, shrunk loops' too: " + ended);
    assertTrue(ended.loops().size() < 6, "the loops that shrank away are not kept: " + ended);
    assertEquals(List.of(), harness.sim.state().runners(), "registrations left behind");
  }

  @Test
  void twoHundredQueuedWebhooksHoldAtMaxAndIdleRunnersStopAfterTheIdleTimeout() throws Exception {
    QueuedJobs queued = new QueuedJobs(new JobDemand());
    String secret = "whs-" + "PoolScalingItWebhookSecret000";
    try (WebhookReceiver receiver =
        WebhookReceiver.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            Secret.of(secret),
            queued::accept,
            WebhookReceiver.Options.defaults())) {
      Orchestrator orchestrator = orchestrator(pool(0, 2, Duration.ofSeconds(1)), queued);
      CompletableFuture<Orchestrator.Result> result = runInBackground(orchestrator);

      for (int job = 1; job <= 200; job++) {
        assertEquals(202, deliver(receiver, secret, "queued", job));
      }
      assertEquals(200, receiver.counters().accepted());
      await().atMost(Duration.ofSeconds(60)).until(() -> online() == 2);
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(5))
          .until(() -> running.get() <= 2 && online() <= 2);
      assertEquals(2, mostRunning.get(), "200 queued jobs, max 2");

      // The jobs went elsewhere (another host took them): the idle runners go after 1 s.
      for (int job = 1; job <= 200; job++) {
        assertEquals(202, deliver(receiver, secret, "completed", job));
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> running.get() == 0 && online() == 0);
      orchestrator.stop(false);
      assertTrue(result.get(60, TimeUnit.SECONDS).failure().isEmpty(), "" + result.get());
      assertEquals(List.of(), harness.sim.state().runners(), "registrations left behind");
    }
  }

  /** A workflow_job delivery signed as GitHub signs it; returns the receiver's status. */
  private static int deliver(WebhookReceiver receiver, String secret, String action, int job)
      throws Exception {
    String body =
        """
        {"action":"%s","workflow_job":{"id":%d,"run_id":%d,"labels":["self-hosted",
        "microrunner-test"],"status":"%s"},"repository":{"full_name":"%s"}}"""
            .formatted(action, job, job, action, LoopHarness.PRINCIPAL);
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String signature = HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:" + receiver.address().getPort() + WebhookReceiver.PATH))
            .header("X-GitHub-Event", "workflow_job")
            .header("X-GitHub-Delivery", action + "-" + job)
            .header("X-Hub-Signature-256", "sha256=" + signature)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return HttpClient.newHttpClient()
        .send(request, HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void aMaxTheHostCannotHoldIsRefusedBeforeAnythingStarts() {
    Pool big =
        Pool.scaled(
            "big",
            new Scaling(1, 8, Duration.ofMinutes(5)),
            Optional.empty(),
            harness.runner().vm(vm -> vm.memoryMib(4096).cpus(2)).build());
    Orchestrator orchestrator =
        Orchestrator.builder(
                harness.orchestrator(harness.runner().build()).pools(List.of(big)).build())
            .runtime(new VmRuntimeThatStartsNothing())
            .hostCapacity(new HostCapacity(16384, 64))
            .build();

    InvalidSettingException refused =
        assertThrows(InvalidSettingException.class, orchestrator::run);

    assertEquals("max", refused.setting());
    assertTrue(refused.getMessage().contains("32768 MiB"), refused.getMessage());
    assertTrue(refused.getMessage().contains("16384 MiB"), refused.getMessage());
    assertEquals(List.of(), harness.sim.state().runners(), "nothing registered");
  }

  private static CompletableFuture<Orchestrator.Result> runInBackground(Orchestrator orchestrator) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return orchestrator.run();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** A VM runtime (so that memory counts) that the capacity check stops before any start. */
  private static final class VmRuntimeThatStartsNothing implements MicroVmRuntime {
    @Override
    public String name() {
      return "vm-for-capacity";
    }

    @Override
    public Isolation isolation() {
      return Isolation.MICROVM;
    }

    @Override
    public Availability availability() {
      return Availability.available("test");
    }

    @Override
    public void pull(String image, PullPolicy policy) {
      throw new AssertionError("pulled before the capacity check");
    }

    @Override
    public VmHandle start(VmSpec spec, ConsoleListener console) {
      throw new AssertionError("started a VM past the capacity check");
    }

    @Override
    public List<VmInfo> list() {
      return List.of();
    }

    @Override
    public List<VmInfo> listOrphans() {
      return List.of();
    }

    @Override
    public void delete(String vmName) {
      throw new AssertionError("nothing to delete");
    }

    @Override
    public void close() {}
  }
}
