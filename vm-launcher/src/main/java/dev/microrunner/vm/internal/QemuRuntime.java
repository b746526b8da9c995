package dev.microrunner.vm.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.vm.Availability;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.ConsoleListener;
import dev.microrunner.vm.Executables;
import dev.microrunner.vm.ExitStatus;
import dev.microrunner.vm.Isolation;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.QemuSettings;
import dev.microrunner.vm.QemuSettings.Accel;
import dev.microrunner.vm.RuntimeOptions;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmInfo;
import dev.microrunner.vm.VmOwner;
import dev.microrunner.vm.VmSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QEMU {@code microvm} per VM: a distribution kernel, an initramfs microrunner builds (busybox,
 * modules, its init), the image's root file system as a cached ext4 disk that every VM opens
 * copy-on-write ({@code snapshot=on}: the overlay is an unlinked temporary file, gone with QEMU),
 * the spec's mounts over virtio-9p with {@code security_model=mapped-xattr} (what the guest makes
 * there, symlinks, devices, FIFOs, ownership and setuid bits, stays metadata in extended attributes
 * of plain files), and user-mode networking restricted by default.
 *
 * <p>The QEMU process is the VM's lifetime; its environment carries the VM's ownership markers (as
 * the process runtime's workloads do), which is how a restarted instance finds a crashed one's VMs.
 * A graceful stop presses the VM's power button over QMP (the guest init forwards it to the
 * workload as SIGTERM); after the grace period QEMU is killed.
 */
public final class QemuRuntime extends BaseRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(QemuRuntime.class);
  public static final String NAME = "qemu";
  private static final String QEMU = "qemu-system-x86_64";
  private static final String RUNNING = "running";
  private static final String EXIT_MARKER = "microrunner-exit-status=";
  private static final Pattern EXIT_LINE = Pattern.compile("microrunner-exit-status=(\\d{1,3})");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Free space a VM's root file system gets beyond the image's content (sparse on the host). */
  static final int ROOT_FREE_MIB = 4096;

  /** How long the KVM probe may take: a KVM boot of the probe takes well under a second. */
  private static final Duration KVM_PROBE_TIMEOUT = Duration.ofSeconds(20);

  private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration QMP_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration ROOTFS_TIMEOUT = Duration.ofMinutes(30);

  /** KVM probe results per QEMU binary, for this JVM: the probe boots a VM. */
  private static final Map<Path, Availability> KVM_PROBES = new ConcurrentHashMap<>();

  private final Accel accel;
  private final Optional<Path> kernelSetting;
  private final Path cache;
  private final Path vmDirectories;
  private final Object bootLock = new Object();
  private QemuBoot.BootFiles bootFiles;
  private final Map<String, RootFilesystem> rootFilesystems = new ConcurrentHashMap<>();

  /** A cached root file system and the image's environment. */
  record RootFilesystem(Path disk, Map<String, String> environment) {}

  public QemuRuntime(RuntimeOptions options) throws VmException {
    super(options);
    Map<String, String> settings = options.environment();
    try {
      this.accel =
          QemuSettings.lookUp(settings, QemuSettings.ACCEL).map(Accel::parse).orElse(Accel.AUTO);
    } catch (IllegalArgumentException e) {
      throw new VmException(e.getMessage(), e);
    }
    this.kernelSetting = QemuSettings.lookUp(settings, QemuSettings.KERNEL).map(Path::of);
    this.cache =
        QemuSettings.lookUp(settings, QemuSettings.CACHE)
            .map(Path::of)
            .orElseGet(QemuRuntime::defaultCache);
    this.vmDirectories = options.stateDirectory().resolve(NAME);
    if (accel == Accel.TCG) {
      LOG.warn(
          "runtime qemu uses TCG, QEMU's emulator, as asked: VMs run 10-25 times slower than with"
              + " KVM");
    }
  }

  private static Path defaultCache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("microrunner").resolve(NAME);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Isolation isolation() {
    return Isolation.MICROVM;
  }

  @Override
  protected String installHint() {
    return "qemu-system-x86 (with qemu-system-common), a kernel package (linux-image-amd64),"
        + " busybox-static, e2fsprogs and podman (Debian: apt install --no-install-recommends"
        + " qemu-system-x86 linux-image-amd64 busybox-static e2fsprogs podman), see"
        + " docs/runtimes.md";
  }

  @Override
  public Availability availability() {
    Availability tools = toolAvailability();
    if (!tools.available()) {
      return tools;
    }
    if (accel == Accel.TCG) {
      return Availability.available(
          tools.reason() + "; TCG (emulation, asked for explicitly: slow)");
    }
    Availability kvm = kvmAvailability();
    if (!kvm.available()) {
      return Availability.unavailable(
          kvm.reason()
              + "; runtime qemu needs working KVM unless TCG is asked for explicitly (--accel"
              + " tcg, "
              + QemuSettings.ACCEL
              + "=tcg: 10-25 times slower, for tests and demos)");
    }
    return Availability.available(tools.reason() + "; " + kvm.reason());
  }

  private Availability toolAvailability() {
    String arch = System.getProperty("os.arch", "");
    if (!arch.equals("amd64") && !arch.equals("x86_64")) {
      return Availability.unavailable(
          "runtime qemu supports x86_64 hosts only so far, not " + arch);
    }
    Availability tools = requireTools(QEMU, "podman", "busybox");
    if (!tools.available()) {
      return tools;
    }
    if (mke2fs().isEmpty()) {
      return Availability.unavailable("mke2fs not found; install: e2fsprogs");
    }
    try {
      Path kernel = QemuBoot.findKernel(kernelSetting);
      return Availability.available(tools.reason() + ", kernel " + kernel);
    } catch (VmException e) {
      return Availability.unavailable(e.getMessage());
    }
  }

  private Optional<Path> mke2fs() {
    Optional<Path> found = Executables.find("mke2fs", toolEnvironment);
    return found.isPresent()
        ? found
        : Stream.of("/usr/sbin/mke2fs", "/sbin/mke2fs")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst();
  }

  /**
   * Whether KVM really works: {@code /dev/kvm} is usable and a VM boots with it. On nested hosts
   * the device exists and VMs fail ("KVM internal error") or hang, so its presence proves nothing.
   */
  private Availability kvmAvailability() {
    Path kvm = Path.of("/dev/kvm");
    if (!Files.exists(kvm)) {
      return Availability.unavailable("KVM is not available: no /dev/kvm");
    }
    if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
      return Availability.unavailable(
          "KVM is not usable: /dev/kvm is not readable and writable for this user (add it to"
              + " the kvm group)");
    }
    Path qemu;
    try {
      qemu = tool(QEMU);
    } catch (VmException e) {
      return Availability.unavailable(e.getMessage());
    }
    return KVM_PROBES.computeIfAbsent(qemu, this::probeKvm);
  }

  private Availability probeKvm(Path qemu) {
    QemuBoot.BootFiles boot;
    try {
      boot = boot();
    } catch (VmException e) {
      return Availability.unavailable("cannot probe KVM: " + e.getMessage());
    }
    List<String> argv = new ArrayList<>();
    argv.add(qemu.toString());
    argv.addAll(machine(Accel.KVM, 1, 128));
    argv.addAll(
        List.of("-kernel", boot.kernel().toString(), "-initrd", boot.initramfs().toString()));
    argv.addAll(List.of("-append", kernelCommandLine(Accel.KVM) + " microrunner.probe"));
    List<String> lines = new ArrayList<>();
    CountDownLatch decided = new CountDownLatch(1);
    AtomicBoolean works = new AtomicBoolean();
    Running probe;
    try {
      probe =
          launch(
              Command.of(argv, toolEnvironment)
                  .withOutput(
                      line -> {
                        synchronized (lines) {
                          lines.add(line.strip());
                        }
                        if (line.contains("microrunner-probe-ok")) {
                          works.set(true);
                          decided.countDown();
                        } else if (line.contains("KVM internal error")
                            || line.contains("failed to initialize kvm")
                            || line.contains("Could not access KVM")) {
                          decided.countDown();
                        }
                      },
                      line -> {}));
    } catch (VmException e) {
      return Availability.unavailable("KVM probe could not start QEMU: " + e.getMessage());
    }
    try {
      long deadline = System.nanoTime() + KVM_PROBE_TIMEOUT.toNanos();
      while (!decided.await(100, TimeUnit.MILLISECONDS)
          && probe.exitStatus().isEmpty()
          && System.nanoTime() < deadline) {
        // waiting for a verdict, QEMU's end or the deadline
      }
      probe.terminate(Duration.ZERO);
      probe.awaitExit(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Availability.unavailable("interrupted while probing KVM");
    }
    if (works.get()) {
      return Availability.available("KVM works (a probe VM booted)");
    }
    String output;
    synchronized (lines) {
      output =
          lines.stream()
              .filter(l -> !l.isBlank())
              .skip(Math.max(0, lines.size() - 3))
              .collect(Collectors.joining(" | "));
    }
    return Availability.unavailable(
        "KVM does not work here: a probe VM did not boot with -accel kvm within "
            + KVM_PROBE_TIMEOUT.toSeconds()
            + " s (nested virtualization?)"
            + (output.isEmpty() ? "" : ": " + output));
  }

  /** Kernel and initramfs, prepared once per runtime object (the files are cached on disk). */
  private QemuBoot.BootFiles boot() throws VmException {
    synchronized (bootLock) {
      if (bootFiles == null) {
        Path kernel = QemuBoot.findKernel(kernelSetting);
        Path busybox;
        try {
          busybox = tool("busybox").toRealPath();
        } catch (IOException e) {
          throw new VmException("cannot resolve busybox: " + e.getMessage(), e);
        }
        bootFiles = QemuBoot.prepare(kernel, busybox, cache.resolve("boot"));
      }
      return bootFiles;
    }
  }

  @Override
  public Optional<String> imageLabel(String image, String key) throws VmException {
    return inspectLabel(
        List.of(tool("podman").toString(), "image", "inspect", image), ".Labels", key);
  }

  @Override
  public void pull(String image, PullPolicy policy) throws VmException {
    String podman = tool("podman").toString();
    if (policy != PullPolicy.ALWAYS) {
      List<String> exists = List.of(podman, "image", "exists", image);
      Result result = execute(Command.of(exists, toolEnvironment).withTimeout(TOOL_TIMEOUT));
      if (result.exitStatus() != 0) {
        if (policy == PullPolicy.NEVER) {
          throw new VmException(
              "image " + image + " is not in podman's local storage and the pull policy is never");
        }
        pullImage(podman, image);
      }
    } else {
      pullImage(podman, image);
    }
    // The root file system is made here, once per image, rather than on a loop's first start.
    rootFilesystem(image);
  }

  private void pullImage(String podman, String image) throws VmException {
    List<String> pull = List.of(podman, "pull", "--quiet", image);
    Result result = execute(Command.of(pull, toolEnvironment).withTimeout(PULL_TIMEOUT));
    if (result.exitStatus() != 0) {
      throw failure("cannot pull image " + image, pull, result, false);
    }
  }

  /**
   * The image's root file system as an ext4 disk, made once per image id: {@code podman image
   * mount} (inside {@code podman unshare} when not root, so that file owners stay right) and {@code
   * mke2fs -d}.
   */
  RootFilesystem rootFilesystem(String image) throws VmException {
    String podman = tool("podman").toString();
    List<String> inspect =
        List.of(podman, "image", "inspect", "--format", "{{.Id}} {{json .Config.Env}}", image);
    Result inspected = runTool("cannot inspect image " + image, inspect, false);
    String line = inspected.stdout().isEmpty() ? "" : inspected.stdout().get(0).trim();
    int space = line.indexOf(' ');
    String id = space < 0 ? line : line.substring(0, space);
    if (!id.matches("[0-9a-f]{12,128}")) {
      throw new VmException("podman printed no image id for " + image + ": " + line);
    }
    RootFilesystem known = rootFilesystems.get(id);
    if (known != null) {
      return known;
    }
    Map<String, String> environment = new LinkedHashMap<>();
    if (space > 0) {
      try {
        List<String> entries =
            JSON.readValue(line.substring(space + 1), new TypeReference<List<String>>() {});
        if (entries != null) {
          for (String entry : entries) {
            int equals = entry.indexOf('=');
            if (equals > 0) {
              environment.put(entry.substring(0, equals), entry.substring(equals + 1));
            }
          }
        }
      } catch (IOException e) {
        throw new VmException("cannot read the environment of image " + image, e);
      }
    }
    Path directory = cache.resolve("rootfs");
    Path disk = directory.resolve(id + ".ext4");
    if (!Files.isRegularFile(disk)) {
      buildRootFilesystem(podman, image, directory, disk);
    }
    RootFilesystem made = new RootFilesystem(disk, environment);
    rootFilesystems.put(id, made);
    return made;
  }

  private void buildRootFilesystem(String podman, String image, Path directory, Path disk)
      throws VmException {
    Path temporary;
    try {
      Files.createDirectories(directory);
      temporary = Files.createTempFile(directory, ".build-", ".ext4");
    } catch (IOException e) {
      throw new VmException("cannot create the root file system cache in " + directory, e);
    }
    String script =
        "set -e\n"
            + "podman=$1 image=$2 target=$3 free=$4 mke2fs=$5\n"
            + "dir=$(\"$podman\" image mount \"$image\")\n"
            + "trap '\"$podman\" image unmount \"$image\" >/dev/null' EXIT\n"
            + "used=$(du -sxm \"$dir\" | cut -f1)\n"
            + "\"$mke2fs\" -q -t ext4 -F -m 0 -L microrunner -d \"$dir\" \"$target\""
            + " \"$((used + used / 4 + free))M\"\n";
    List<String> argv = new ArrayList<>();
    boolean root = "root".equals(System.getProperty("user.name"));
    if (!root) {
      argv.addAll(List.of(podman, "unshare"));
    }
    argv.addAll(
        List.of(
            tool("sh").toString(),
            "-c",
            script,
            "sh",
            podman,
            image,
            temporary.toString(),
            Integer.toString(ROOT_FREE_MIB),
            mke2fs()
                .orElseThrow(() -> new VmException("mke2fs not found; install e2fsprogs"))
                .toString()));
    LOG.info("making the root file system of image {} for qemu VMs (once per image)", image);
    try {
      Result result = execute(Command.of(argv, toolEnvironment).withTimeout(ROOTFS_TIMEOUT));
      if (result.exitStatus() != 0) {
        throw failure("cannot make the root file system of image " + image, argv, result, false);
      }
      Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
      QemuBoot.moveAtomically(temporary, disk);
    } catch (IOException e) {
      throw new VmException("cannot store the root file system of image " + image, e);
    } finally {
      try {
        Files.deleteIfExists(temporary);
      } catch (IOException e) {
        LOG.debug("cannot remove {}: {}", temporary, e.toString());
      }
    }
  }

  /** The accelerator to use now, or an exception that says why there is none. */
  private Accel effectiveAccel() throws VmException {
    if (accel == Accel.TCG) {
      return Accel.TCG;
    }
    Availability kvm = kvmAvailability();
    if (!kvm.available()) {
      throw new VmException(availability().reason());
    }
    return Accel.KVM;
  }

  @Override
  public VmHandle start(VmSpec spec, ConsoleListener console) throws VmException {
    if (started(spec.name()).filter(RunningVm::isRunning).isPresent()) {
      throw new VmException("a VM named " + spec.name() + " is already running");
    }
    QemuNetwork network = QemuNetwork.parse(spec.name(), spec.network());
    for (Mount mount : spec.mounts()) {
      if (!Files.isDirectory(mount.hostPath())) {
        throw new VmException(
            "VM "
                + spec.name()
                + ": runtime qemu shares directories only, and "
                + mount.hostPath()
                + " is not one");
      }
    }
    Accel useAccel = effectiveAccel();
    QemuBoot.BootFiles boot = boot();
    RootFilesystem root = rootFilesystem(spec.image());
    Path vmDirectory = vmDirectories.resolve(spec.name());
    Path socket = vmDirectory.resolve("qmp");
    if (socket.toString().getBytes(StandardCharsets.UTF_8).length > 100) {
      throw new VmException(
          "VM "
              + spec.name()
              + ": the QMP socket path "
              + socket
              + " is too long for a unix socket; use a shorter state directory");
    }
    Path guestConfig = vmDirectory.resolve("guest");
    try {
      deleteRecursively(vmDirectory);
      Files.createDirectories(vmDirectories);
      Files.createDirectory(
          vmDirectory,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.createDirectory(guestConfig);
      Files.writeString(guestConfig.resolve("setup"), setupScript(spec, network));
      Files.writeString(guestConfig.resolve("environment"), environmentScript(spec, root));
    } catch (IOException e) {
      throw new VmException("cannot prepare the directory of VM " + spec.name(), e);
    }
    List<String> argv =
        commandLine(
            tool(QEMU),
            useAccel,
            spec,
            network,
            boot,
            root.disk(),
            guestConfig,
            socket,
            tool("busybox"));
    Map<String, String> environment = new TreeMap<>(toolEnvironment);
    environment.putAll(WorkloadMarkers.of(spec.name(), owner()));
    AtomicInteger reported = new AtomicInteger(-1);
    Running qemu;
    try {
      qemu =
          launch(
              Command.of(argv, environment)
                  .withOutput(
                      line -> relay(spec.name(), line, reported, console),
                      line -> relay(spec.name(), line, reported, console)));
    } catch (VmException e) {
      deleteQuietly(vmDirectory);
      throw e;
    }
    RunningVm vm =
        new RunningVm(
            spec.name(),
            new QemuProcess(qemu, reported),
            (process, grace) -> stopThroughGuest(process, socket, grace),
            ended -> {
              untrack(ended);
              deleteQuietly(vmDirectory);
            });
    LOG.debug(
        "started qemu VM {} (pid {}, {})",
        spec.name(),
        qemu.process().map(ProcessHandle::pid).orElse(0L),
        useAccel.word());
    return track(vm);
  }

  /** Console lines go on without their carriage returns; the init's exit line is taken out. */
  private static void relay(
      String vmName, String raw, AtomicInteger reported, ConsoleListener console) {
    String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
    Matcher exit = EXIT_LINE.matcher(line);
    if (exit.find() && line.startsWith(EXIT_MARKER, exit.start())) {
      reported.set(Integer.parseInt(exit.group(1)) & 0xff);
      String before = line.substring(0, exit.start());
      if (before.isBlank()) {
        return;
      }
      line = before;
    }
    try {
      console.line(vmName, line);
    } catch (RuntimeException e) {
      LOG.debug("console listener of VM {} failed: {}", vmName, e.toString());
    }
  }

  /**
   * Presses the power button (the guest init forwards it to the workload as SIGTERM), waits up to
   * {@code grace}, then kills QEMU and what it started (guestfwd relays).
   */
  private static void stopThroughGuest(Running process, Path socket, Duration grace)
      throws InterruptedException {
    boolean asked =
        !grace.isZero()
            && !grace.isNegative()
            && Qmp.execute(
                socket, "system_powerdown", grace.compareTo(QMP_TIMEOUT) < 0 ? grace : QMP_TIMEOUT);
    if (asked && process.awaitEnd(grace)) {
      return;
    }
    List<ProcessHandle> tree = process.process().map(ProcessTree::of).orElse(new ArrayList<>());
    process.kill();
    ProcessTree.kill(tree);
  }

  // ---------------------------------------------------------------------------------------------
  // The command line and the guest's configuration: pure functions of their inputs (ArgvTest).

  /** The machine: microvm without legacy devices, serial console, no display, no reboot. */
  static List<String> machine(Accel accel, int cpus, int memoryMib) {
    List<String> argv = new ArrayList<>();
    argv.addAll(
        List.of(
            "-M",
            "microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on",
            "-accel",
            accel == Accel.TCG ? "tcg" : "kvm",
            "-cpu",
            accel == Accel.TCG ? "qemu64" : "host",
            "-smp",
            Integer.toString(cpus),
            "-m",
            memoryMib + "M",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
            "-chardev",
            "stdio,id=console,signal=off",
            "-serial",
            "chardev:console",
            "-global",
            "virtio-mmio.force-legacy=false"));
    return argv;
  }

  /**
   * The kernel command line. Under TCG, microvm offers no timer to calibrate the TSC against, so
   * the host's rate is given ({@code tsc_early_khz}).
   */
  static String kernelCommandLine(Accel accel) {
    StringBuilder line =
        new StringBuilder(
            "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init random.trust_cpu=on"
                + " mitigations=off pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd");
    if (accel == Accel.TCG) {
      line.append(" tsc_early_khz=").append(hostTscKhz()).append(" tsc=reliable no_timer_check");
    }
    return line.toString();
  }

  /** The host CPU's rate in kHz, from /proc/cpuinfo (TCG's TSC ticks at the host's rate). */
  static long hostTscKhz() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
        if (line.startsWith("cpu MHz")) {
          return Math.round(
              Double.parseDouble(line.substring(line.indexOf(':') + 1).trim()) * 1000);
        }
      }
    } catch (IOException | NumberFormatException e) {
      LOG.debug("cannot read the CPU rate: {}", e.toString());
    }
    return 2_000_000;
  }

  /** QEMU option values double their commas. */
  static String optionValue(Object value) {
    return value.toString().replace(",", ",,");
  }

  /** The whole QEMU command line of a VM. */
  static List<String> commandLine(
      Path qemu,
      Accel accel,
      VmSpec spec,
      QemuNetwork network,
      QemuBoot.BootFiles boot,
      Path rootDisk,
      Path guestConfig,
      Path qmpSocket,
      Path busybox) {
    List<String> argv = new ArrayList<>();
    argv.add(qemu.toString());
    argv.addAll(List.of("-name", "microrunner:" + spec.name()));
    argv.addAll(machine(accel, spec.cpus(), spec.memoryMib()));
    argv.addAll(
        List.of("-kernel", boot.kernel().toString(), "-initrd", boot.initramfs().toString()));
    argv.addAll(List.of("-append", kernelCommandLine(accel)));
    argv.addAll(
        List.of(
            "-drive",
            "id=root,if=none,format=raw,snapshot=on,cache=unsafe,file=" + optionValue(rootDisk),
            "-device",
            "virtio-blk-device,drive=root"));
    argv.addAll(share("mrconfig", guestConfig, true));
    for (int i = 0; i < spec.mounts().size(); i++) {
      Mount mount = spec.mounts().get(i);
      argv.addAll(share("mr" + i, mount.hostPath(), mount.readOnly()));
    }
    switch (network.mode()) {
      case NONE -> {}
      case USER -> {
        argv.addAll(List.of("-netdev", "user,id=net,ipv6=off"));
        argv.addAll(List.of("-device", "virtio-net-device,netdev=net"));
      }
      case RESTRICTED -> {
        StringBuilder netdev = new StringBuilder("user,id=net,ipv6=off,restrict=on");
        for (int port : network.forwardedPorts()) {
          netdev
              .append(",guestfwd=tcp:")
              .append(QemuNetwork.FORWARD_ADDRESS)
              .append(':')
              .append(port)
              .append("-cmd:")
              .append(optionValue(busybox + " nc 127.0.0.1 " + port));
        }
        argv.addAll(List.of("-netdev", netdev.toString()));
        argv.addAll(List.of("-device", "virtio-net-device,netdev=net"));
      }
    }
    argv.addAll(List.of("-qmp", "unix:" + optionValue(qmpSocket) + ",server=on,wait=off"));
    // Seccomp. Without forwarded ports: no obsolete system calls, no set*id, no processes, no
    // scheduler or resource changes. A forwarded port spawns one relay per connection, which the
    // obsolete, elevateprivileges and spawn filters break.
    argv.addAll(
        List.of(
            "-sandbox",
            network.forwardedPorts().isEmpty()
                ? "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
                : "on,resourcecontrol=deny"));
    return argv;
  }

  /**
   * A 9p share. Writable ones use mapped-xattr: what the guest makes stays plain host files.
   * Read-only ones (QEMU refuses every write) use none, so that the host's own symlinks in them (a
   * JRE's links into /etc) work in the guest, which resolves them in its own namespace:
   * mapped-xattr takes a host symlink for a file holding its target and cannot serve it.
   */
  private static List<String> share(String tag, Path hostPath, boolean readOnly) {
    return List.of(
        "-fsdev",
        "local,id="
            + tag
            + ",path="
            + optionValue(hostPath)
            + (readOnly ? ",security_model=none,readonly=on" : ",security_model=mapped-xattr"),
        "-device",
        "virtio-9p-device,fsdev=" + tag + ",mount_tag=" + tag);
  }

  /** What the guest init runs before the workload: host name, shares, network, forwards. */
  static String setupScript(VmSpec spec, QemuNetwork network) {
    StringBuilder script = new StringBuilder();
    String hostname = spec.name().length() > 64 ? spec.name().substring(0, 64) : spec.name();
    script.append("hostname=").append(quote(hostname)).append('\n');
    spec.workdir().ifPresent(dir -> script.append("workdir=").append(quote(dir)).append('\n'));
    for (int i = 0; i < spec.mounts().size(); i++) {
      Mount mount = spec.mounts().get(i);
      script
          .append("share mr")
          .append(i)
          .append(' ')
          .append(quote(mount.guestPath()))
          .append(mount.readOnly() ? " ro" : " rw")
          .append('\n');
    }
    script
        .append("network ")
        .append(network.mode() == QemuNetwork.Mode.NONE ? "none" : "user")
        .append(' ')
        .append(quote(spec.dns()))
        .append('\n');
    for (int port : network.forwardedPorts()) {
      script.append("forward ").append(port).append('\n');
    }
    return script.toString();
  }

  /** The workload's environment (the image's, then the spec's) and its command line. */
  static String environmentScript(VmSpec spec, RootFilesystem root) {
    Map<String, String> environment = new LinkedHashMap<>(root.environment());
    environment.putAll(new TreeMap<>(spec.environment()));
    environment.putIfAbsent("HOME", "/root");
    StringBuilder script = new StringBuilder();
    environment.forEach(
        (name, value) -> {
          if (name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            script.append("setenv ").append(name).append(' ').append(quote(value)).append('\n');
          }
        });
    script.append("set --");
    script.append(' ').append(quote(spec.entrypoint()));
    for (String arg : spec.args()) {
      script.append(' ').append(quote(arg));
    }
    script.append('\n');
    return script.toString();
  }

  /** A POSIX shell single-quoted word. */
  static String quote(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }

  // ---------------------------------------------------------------------------------------------
  // Listing and deleting: QEMU processes carry the VM's markers in their environment.

  @Override
  public List<VmInfo> list() {
    Set<String> names = new TreeSet<>();
    for (RunningVm vm : started()) {
      if (vm.isRunning()) {
        names.add(vm.name());
      }
    }
    for (WorkloadMarkers.Marked marked : WorkloadMarkers.scan()) {
      if (marked.owner().equals(owner())) {
        names.add(marked.vmName());
      }
    }
    List<VmInfo> vms = new ArrayList<>();
    names.forEach(name -> vms.add(new VmInfo(name, owner(), RUNNING)));
    return vms;
  }

  @Override
  public List<VmInfo> listOrphans() {
    Set<VmInfo> vms = new LinkedHashSet<>();
    OrphanOwners orphans = new OrphanOwners();
    for (WorkloadMarkers.Marked marked : WorkloadMarkers.scan()) {
      if (orphans.test(marked.owner())) {
        vms.add(new VmInfo(marked.vmName(), marked.owner(), RUNNING));
      }
    }
    return sorted(new ArrayList<>(vms));
  }

  /**
   * Kills the VM's QEMU (and its relays) when it runs, and removes its directory (QMP socket, guest
   * configuration). The copy-on-write overlay was never linked into the file system.
   */
  @Override
  public void delete(String vmName) throws VmException {
    OrphanOwners orphans = new OrphanOwners();
    List<ProcessHandle> processes = new ArrayList<>();
    for (WorkloadMarkers.Marked marked : markedProcesses(vmName)) {
      if (!marked.owner().equals(owner()) && !orphans.test(marked.owner())) {
        throw new VmException(Ownership.notOurs(vmName, marked.owner()));
      }
      processes.add(marked.process());
    }
    Optional<RunningVm> own = started(vmName);
    if (own.isPresent()) {
      own.get().stop(Duration.ZERO);
    }
    long deadline = System.nanoTime() + DELETE_TIMEOUT.toNanos();
    while (!processes.isEmpty()) {
      processes.forEach(ProcessTree::kill);
      for (ProcessHandle process : processes) {
        try {
          process
              .onExit()
              .get(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new VmException("interrupted while deleting VM " + vmName, e);
        } catch (java.util.concurrent.ExecutionException
            | java.util.concurrent.TimeoutException e) {
          // checked below
        }
      }
      if (System.nanoTime() - deadline > 0) {
        throw new VmException(
            "QEMU of VM "
                + vmName
                + " is still alive "
                + DELETE_TIMEOUT.toSeconds()
                + " s after SIGKILL");
      }
      processes =
          markedProcesses(vmName).stream()
              .filter(m -> m.owner().equals(owner()) || orphans.test(m.owner()))
              .map(WorkloadMarkers.Marked::process)
              .collect(Collectors.toList());
    }
    deleteQuietly(vmDirectories.resolve(vmName));
  }

  private static List<WorkloadMarkers.Marked> markedProcesses(String vmName) {
    return WorkloadMarkers.scan().stream()
        .filter(marked -> marked.vmName().equals(vmName))
        .collect(Collectors.toList());
  }

  private static void deleteQuietly(Path directory) {
    try {
      deleteRecursively(directory);
    } catch (IOException e) {
      LOG.warn("cannot remove {}: {}", directory, e.getMessage());
    }
  }

  /** Our own per-VM directory only (no guest-writable content): socket and two scripts. */
  private static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(path);
      }
    }
  }

  /** Dead owners of this deployment; liveness is looked up once per owner and scan. */
  private final class OrphanOwners implements Predicate<VmOwner> {
    private final Map<VmOwner, Boolean> seen = new HashMap<>();

    @Override
    public boolean test(VmOwner other) {
      return seen.computeIfAbsent(other, o -> Ownership.isOrphan(owner(), o));
    }
  }

  /**
   * QEMU's process, reporting the workload's exit status: the one the guest init printed, QEMU's
   * own when it was killed (128 + signal), or 125 when the guest ended without one (QEMU could not
   * start, the kernel panicked, the init failed).
   */
  static final class QemuProcess implements Running {
    private final Running qemu;
    private final AtomicInteger reported;

    QemuProcess(Running qemu, AtomicInteger reported) {
      this.qemu = qemu;
      this.reported = reported;
    }

    private Optional<Integer> translate(Optional<Integer> status) {
      return status.map(
          qemuStatus -> {
            int guest = reported.get();
            if (guest >= 0) {
              return guest;
            }
            return qemuStatus > 128 ? qemuStatus : ExitStatus.RUNTIME_FAILED;
          });
    }

    @Override
    public Optional<ProcessHandle> process() {
      return qemu.process();
    }

    @Override
    public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
      return translate(qemu.awaitExit(timeout));
    }

    @Override
    public Optional<Integer> exitStatus() {
      return translate(qemu.exitStatus());
    }

    @Override
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
      return qemu.awaitEnd(timeout);
    }

    @Override
    public void kill() {
      qemu.kill();
    }

    @Override
    public String toString() {
      return "QEMU " + qemu.process().map(p -> Long.toString(p.pid())).orElse("?");
    }
  }
}
