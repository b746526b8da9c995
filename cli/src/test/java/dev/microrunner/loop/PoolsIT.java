package dev.microrunner.loop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import dev.microrunner.loop.LoopEvent.EndReason;
import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.LoopEvent.Registered;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several pools in one orchestrator, and pools changed while their loops run. */
class PoolsIT {

  @TempDir Path work;
  private LoopHarness harness;
  private final Queue<PoolRegistration> poolEvents = new ConcurrentLinkedQueue<>();

  private record PoolRegistration(String pool, String runner) {}

  @BeforeEach
  void start() throws Exception {
    harness = LoopHarness.start(work);
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private Pool pool(String name, int loops, List<String> labels, int repeat) {
    return Pool.of(
        name, loops, harness.runner().labels(labels).namePrefix(name).repeat(repeat).build());
  }

  private Orchestrator orchestrator(List<Pool> pools) {
    return Orchestrator.builder(harness.orchestrator(harness.runner().build()).pools(pools).build())
        .listener(harness.events::add)
        .poolListener(
            (pool, event) -> {
              if (event instanceof Registered registered) {
                poolEvents.add(new PoolRegistration(pool, registered.name()));
              }
            })
        .build();
  }

  /** The runners registered at the simulator now, by the pool their names start with. */
  private Map<String, List<List<String>>> registeredByPool() {
    return harness.sim.state().runners().stream()
        .filter(r -> r.status().equals("online"))
        .collect(
            Collectors.groupingBy(
                r -> r.name().substring(0, r.name().indexOf('-')),
                Collectors.mapping(SimState.RunnerState::labels, Collectors.toList())));
  }

  @Test
  void twoPoolsRunTheirOwnLabelsAndSizesAndTakeOnlyTheirJobs() throws Exception {
    harness.sim.enqueueJob(new SimJob("small-job", List.of("self-hosted", "small"), ms(200)));
    harness.sim.enqueueJob(new SimJob("big-job-1", List.of("self-hosted", "big"), ms(200)));
    harness.sim.enqueueJob(new SimJob("big-job-2", List.of("self-hosted", "big"), ms(200)));
    Orchestrator orchestrator =
        orchestrator(
            List.of(
                pool("small", 1, List.of("self-hosted", "small"), 1),
                pool("big", 2, List.of("self-hosted", "big"), 1)));

    Orchestrator.Result result = orchestrator.run();

    assertEquals(3, result.loops().size());
    assertTrue(
        result.loops().stream().allMatch(e -> e.reason() == EndReason.COMPLETED), "" + result);
    SimState state = harness.sim.state();
    assertEquals(3, state.finishedJobs(), () -> "jobs: " + state.jobs());
    for (SimState.JobState job : state.jobs()) {
      String pool = job.name().startsWith("small") ? "small-" : "big-";
      assertTrue(job.runnerName().orElseThrow().startsWith(pool), "" + job);
    }
    assertEquals(
        List.of("big", "big", "small"),
        poolEvents.stream().map(PoolRegistration::pool).sorted().toList(),
        "" + poolEvents);
    assertTrue(
        poolEvents.stream().allMatch(e -> e.runner().startsWith(e.pool() + "-")), "" + poolEvents);
    assertEquals(List.of(), state.runners(), "registrations left at the simulator");
  }

  @Test
  void reconfigurationAddsRemovesResizesAndReplacesPools() throws Exception {
    Orchestrator orchestrator =
        orchestrator(
            List.of(
                pool("keep", 1, List.of("self-hosted", "keep"), -1),
                pool("grow", 1, List.of("self-hosted", "grow"), -1),
                pool("gone", 1, List.of("self-hosted", "gone"), -1)));
    CompletableFuture<Orchestrator.Result> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return orchestrator.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> registeredByPool().keySet().size() == 3);
      int keepLoop = loopsOf("keep").get(0);

      // grow: 1 -> 2 loops; gone: removed; fresh: new; keep: as it was.
      orchestrator
          .reconfigure(
              List.of(
                  pool("keep", 1, List.of("self-hosted", "keep"), -1),
                  pool("grow", 2, List.of("self-hosted", "grow"), -1),
                  pool("fresh", 1, List.of("self-hosted", "fresh"), -1)))
          .get(60, TimeUnit.SECONDS);

      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  registeredByPool()
                      .equals(
                          Map.of(
                              "keep", List.of(List.of("self-hosted", "keep")),
                              "grow",
                                  List.of(
                                      List.of("self-hosted", "grow"),
                                      List.of("self-hosted", "grow")),
                              "fresh", List.of(List.of("self-hosted", "fresh")))));
      assertEquals(
          List.of("keep", "grow", "fresh"), orchestrator.pools().stream().map(Pool::name).toList());
      assertEquals(List.of(keepLoop), loopsOf("keep"), "an unchanged pool was touched");

      // grow's labels change: its two loops are replaced one after the other.
      orchestrator
          .reconfigure(
              List.of(
                  pool("keep", 1, List.of("self-hosted", "keep"), -1),
                  pool("grow", 2, List.of("self-hosted", "grown"), -1),
                  pool("fresh", 1, List.of("self-hosted", "fresh"), -1)))
          .get(90, TimeUnit.SECONDS);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  registeredByPool()
                      .get("grow")
                      .equals(
                          List.of(
                              List.of("self-hosted", "grown"), List.of("self-hosted", "grown"))));

      // An impossible set of pools is refused before anything changes.
      assertThrows(
          InvalidSettingException.class,
          () ->
              orchestrator.reconfigure(
                  List.of(
                      pool("keep", 1, List.of("self-hosted"), -1),
                      pool("keep", 1, List.of("self-hosted"), -1))));
    } finally {
      orchestrator.stop(false);
    }
    Orchestrator.Result result = run.get(60, TimeUnit.SECONDS);
    assertTrue(
        result.loops().stream().allMatch(e -> e.reason() == EndReason.STOPPED),
        "" + result.loops());
    assertEquals(List.of(), harness.sim.state().runners(), "registrations left at the simulator");
    // 3 first loops, 2 added (grow, fresh), 2 replacements (grow).
    assertEquals(7, harness.events(Ended.class).size());
  }

  @Test
  void aReconfigurationWhoseRuntimeIsMissingChangesNothing() throws Exception {
    Orchestrator orchestrator =
        orchestrator(List.of(pool("only", 1, List.of("self-hosted", "only"), -1)));
    CompletableFuture<Orchestrator.Result> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return orchestrator.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> registeredByPool().containsKey("only"));
      Pool broken =
          new Pool(
              "other",
              1,
              java.util.Optional.of("no-such-runtime"),
              harness.runner().namePrefix("other").build());
      ExecutionException failure =
          assertThrows(
              ExecutionException.class,
              () ->
                  orchestrator
                      .reconfigure(
                          List.of(pool("only", 1, List.of("self-hosted", "only"), -1), broken))
                      .get(30, TimeUnit.SECONDS));
      assertTrue(failure.getCause().getMessage().contains("no-such-runtime"), "" + failure);
      assertEquals(List.of("only"), orchestrator.pools().stream().map(Pool::name).toList());
      assertEquals(Map.of("only", List.of(List.of("self-hosted", "only"))), registeredByPool());
    } finally {
      orchestrator.stop(false);
    }
    run.get(60, TimeUnit.SECONDS);
  }

  private List<Integer> loopsOf(String pool) {
    return harness.events(Registered.class).stream()
        .filter(r -> r.name().startsWith(pool + "-"))
        .map(Registered::loop)
        .distinct()
        .sorted()
        .toList();
  }

  private static Duration ms(long millis) {
    return Duration.ofMillis(millis);
  }
}
