package dev.microrunner.vm.bench;

import dev.microrunner.vm.ConsoleListener;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.MicroVmRuntimes;
import dev.microrunner.vm.RuntimeOptions;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmOwner;
import dev.microrunner.vm.VmSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Per-VM overhead of microrunner's start/stop round trip over calling the runtime directly. Not a
 * test (timings do not belong in {@code mvn verify}); run it as documented in docs/benchmarks.md.
 * Two scenarios per runtime, direct and through {@link MicroVmRuntime}, interleaved so that drift
 * hits both alike; medians are reported.
 *
 * <ul>
 *   <li>run: start a VM whose entrypoint exits at once, wait for the exit status
 *   <li>stop: start a VM that prints "ready" and loops with a TERM trap, wait for the line, stop it
 *       gracefully, wait for the end
 * </ul>
 *
 * <p>Arguments: {@code [process|podman+runc|all] [iterations]}.
 */
public final class StartStopBenchmark {
  private static final String LOOP = "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done";
  private static final Duration GRACE = Duration.ofSeconds(10);

  private final Path work;
  private final Path containersConf;
  private final int iterations;
  private int sequence;

  private StartStopBenchmark(Path work, int iterations) throws IOException {
    this.work = work;
    this.iterations = iterations;
    this.containersConf = work.resolve("containers.conf");
    Files.writeString(
        containersConf,
        """
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        [engine]
        runtime = "runc"
        """);
  }

  public static void main(String[] args) throws Exception {
    String which = args.length > 0 ? args[0] : "all";
    int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Path work = Files.createTempDirectory("microrunner-bench");
    StartStopBenchmark bench = new StartStopBenchmark(work, iterations);
    System.out.printf(
        Locale.ROOT,
        "%-12s %-5s %10s %10s %8s   (median ms, %d iterations)%n",
        "runtime",
        "case",
        "direct",
        "microrunner",
        "ratio",
        iterations);
    if (which.equals("all") || which.equals("process")) {
      bench.measure("process", "host-process");
    }
    if (which.equals("all") || which.equals("podman+runc")) {
      bench.measure("podman+runc", bench.podmanImage());
    }
  }

  private String podmanImage() throws Exception {
    String image = "localhost/microrunner-test-busybox:1";
    if (run(List.of("podman", "image", "exists", image)) != 0) {
      Path rootfs = Files.createDirectories(work.resolve("rootfs/bin"));
      Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
      for (String applet : List.of("sh", "sleep", "echo", "true")) {
        Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
      }
      Path tar = work.resolve("rootfs.tar");
      run(List.of("tar", "-C", work.resolve("rootfs").toString(), "-cf", tar.toString(), "."));
      run(List.of("podman", "import", tar.toString(), image));
    }
    return image;
  }

  private void measure(String runtimeName, String image) throws Exception {
    VmOwner owner = VmOwner.forThisProcess("bench");
    RuntimeOptions options =
        RuntimeOptions.builder(owner, work.resolve("state"))
            .environment("CONTAINERS_CONF", containersConf.toString())
            .build();
    boolean podman = runtimeName.startsWith("podman");
    try (MicroVmRuntime runtime = MicroVmRuntimes.create(runtimeName, options)) {
      List<Long> directRun = new ArrayList<>();
      List<Long> oursRun = new ArrayList<>();
      List<Long> directStop = new ArrayList<>();
      List<Long> oursStop = new ArrayList<>();
      for (int i = -2; i < iterations; i++) { // two warm-up rounds
        long a = podman ? podmanRunDirect(image) : processRunDirect();
        long b = runThrough(runtime, image);
        long c = podman ? podmanStopDirect(image) : processStopDirect();
        long d = stopThrough(runtime, image);
        if (i >= 0) {
          directRun.add(a);
          oursRun.add(b);
          directStop.add(c);
          oursStop.add(d);
        }
      }
      report(runtimeName, "run", directRun, oursRun);
      report(runtimeName, "stop", directStop, oursStop);
    }
  }

  private static void report(String runtime, String scenario, List<Long> direct, List<Long> ours) {
    double d = median(direct) / 1e6;
    double o = median(ours) / 1e6;
    System.out.printf(
        Locale.ROOT, "%-12s %-5s %10.2f %10.2f %8.3f%n", runtime, scenario, d, o, o / d);
  }

  private static double median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
  }

  private String nextName() {
    return "bench-" + ProcessHandle.current().pid() + "-" + sequence++;
  }

  private VmSpec.Builder spec(String image, String script) {
    return VmSpec.builder()
        .name(nextName())
        .image(image)
        .cpus(1)
        .memoryMib(256)
        .entrypoint("/bin/sh")
        .args("-c", script);
  }

  private long runThrough(MicroVmRuntime runtime, String image) throws Exception {
    long start = System.nanoTime();
    VmHandle vm = runtime.start(spec(image, "exit 0").build(), ConsoleListener.IGNORE);
    if (vm.awaitExit(Duration.ofMinutes(1)).isEmpty()) {
      throw new IllegalStateException(vm.name() + " did not end within a minute");
    }
    return System.nanoTime() - start;
  }

  private long stopThrough(MicroVmRuntime runtime, String image) throws Exception {
    CountDownLatch ready = new CountDownLatch(1);
    long start = System.nanoTime();
    VmHandle vm =
        runtime.start(
            spec(image, LOOP).build(),
            (name, line) -> {
              if (line.equals("ready")) {
                ready.countDown();
              }
            });
    if (!ready.await(1, TimeUnit.MINUTES)) {
      throw new IllegalStateException("VM " + vm.name() + " never got ready");
    }
    vm.stop(GRACE);
    return System.nanoTime() - start;
  }

  private long processRunDirect() throws Exception {
    long start = System.nanoTime();
    DirectProcess process = DirectProcess.start(List.of("/bin/sh", "-c", "exit 0"), line -> {});
    process.awaitExit();
    return System.nanoTime() - start;
  }

  private long processStopDirect() throws Exception {
    CountDownLatch ready = new CountDownLatch(1);
    long start = System.nanoTime();
    DirectProcess process = DirectProcess.start(List.of("/bin/sh", "-c", LOOP), readyLatch(ready));
    awaitReady(ready);
    // The whole tree, collected before the root dies (its children are re-parented afterwards);
    // the shell first, as microrunner does, so its trap is pending when sleep ends.
    ProcessHandle root = process.process.toHandle();
    List<ProcessHandle> tree =
        Stream.concat(Stream.of(root), root.descendants()).collect(Collectors.toList());
    tree.forEach(ProcessHandle::destroy);
    process.awaitExit();
    return System.nanoTime() - start;
  }

  private long podmanRunDirect(String image) throws Exception {
    long start = System.nanoTime();
    DirectProcess process =
        DirectProcess.start(podman(podmanRunArgv(nextName(), image, "exit 0")), line -> {});
    process.awaitExit();
    return System.nanoTime() - start;
  }

  private long podmanStopDirect(String image) throws Exception {
    String name = nextName();
    CountDownLatch ready = new CountDownLatch(1);
    long start = System.nanoTime();
    DirectProcess process =
        DirectProcess.start(podman(podmanRunArgv(name, image, LOOP)), readyLatch(ready));
    awaitReady(ready);
    DirectProcess.start(podman(List.of("podman", "stop", "--time", "10", name)), line -> {})
        .awaitExit();
    process.awaitExit();
    return System.nanoTime() - start;
  }

  /** The command line microrunner builds, labels included, so only microrunner's cost differs. */
  private List<String> podmanRunArgv(String name, String image, String script) {
    List<String> argv = new ArrayList<>(List.of("podman", "run", "--runtime", "runc", "--rm"));
    argv.addAll(List.of("--pull", "never", "--name", name));
    for (String label : List.of("prefix=bench", "host=h", "instance=i", "pid=1", "pid-start=1")) {
      argv.add("--label");
      argv.add("dev.microrunner." + label);
    }
    argv.addAll(List.of("--cpus", "1", "--memory", "256m", "--dns", "1.1.1.1"));
    argv.addAll(List.of("--entrypoint", "/bin/sh", image, "-c", script));
    return argv;
  }

  private ProcessBuilder podman(List<String> argv) {
    ProcessBuilder builder = new ProcessBuilder(argv);
    Map<String, String> environment = builder.environment();
    environment.put("CONTAINERS_CONF", containersConf.toString());
    return builder;
  }

  private int run(List<String> argv) throws Exception {
    return DirectProcess.start(podman(argv), line -> {}).awaitExit();
  }

  private static Consumer<String> readyLatch(CountDownLatch ready) {
    return line -> {
      if (line.equals("ready")) {
        ready.countDown();
      }
    };
  }

  private static void awaitReady(CountDownLatch ready) throws InterruptedException {
    if (!ready.await(1, TimeUnit.MINUTES)) {
      throw new IllegalStateException("the process never got ready");
    }
  }

  /**
   * What a careful caller of {@link ProcessBuilder} does to run a VM from a runner loop, and no
   * more: the caller's thread must stay free while the VM runs (it watches the handshake files), so
   * the console is read as lines on a reused reader thread; stdout and stderr are merged, the
   * cheapest way to see both; stdin is closed so a workload that reads it gets end-of-file; the
   * exit status counts only once every console line has been delivered.
   */
  private static final class DirectProcess {
    private static final ExecutorService READERS =
        Executors.newCachedThreadPool(
            task -> {
              Thread thread = new Thread(task, "direct-reader");
              thread.setDaemon(true);
              return thread;
            });

    final Process process;
    private final Future<?> reader;

    private DirectProcess(Process process, Future<?> reader) {
      this.process = process;
      this.reader = reader;
    }

    static DirectProcess start(List<String> argv, Consumer<String> console) throws IOException {
      return start(new ProcessBuilder(argv), console);
    }

    static DirectProcess start(ProcessBuilder builder, Consumer<String> console)
        throws IOException {
      Process process = builder.redirectErrorStream(true).start();
      process.getOutputStream().close();
      Future<?> reader = READERS.submit(() -> readLines(process.getInputStream(), console));
      return new DirectProcess(process, reader);
    }

    int awaitExit() throws InterruptedException, ExecutionException {
      int status = process.waitFor();
      reader.get();
      return status;
    }

    private static void readLines(InputStream output, Consumer<String> console) {
      try (BufferedReader lines =
          new BufferedReader(new InputStreamReader(output, StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          console.accept(line);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
