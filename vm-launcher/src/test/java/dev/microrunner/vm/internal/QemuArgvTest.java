package dev.microrunner.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.EnvironmentMount;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.QemuSettings.Accel;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exact QEMU command line and guest configuration of the qemu runtime. */
class QemuArgvTest {
  private static final String LOOP_SECRET = "Zk3v9QpL0xN7aR2sT5uW8yB1cD4eF6gH";

  @TempDir Path temp;
  private Path loop;
  private Path jre;

  @BeforeEach
  void setUp() throws IOException {
    loop = Files.createDirectory(temp.resolve("GH-runner-001"));
    Files.writeString(loop.resolve("3-k2J9xQa.env"), "RUNNER_SECRET='" + LOOP_SECRET + "'\n");
    jre = Files.createDirectory(temp.resolve("jre,17"));
  }

  private VmSpec.Builder spec() {
    return VmSpec.builder()
        .name("GH-runner-001-3")
        .image("ghcr.io/example/runner:ubuntu")
        .cpus(4)
        .memoryMib(2048)
        .dns("9.9.9.9")
        .mount(EnvironmentMount.of(loop))
        .mount(new Mount(jre, "/opt/jre", true))
        .entrypoint("/usr/bin/microrunner-agent")
        .args("--env-file", EnvironmentMount.guestPath("3-k2J9xQa.env"), "it's")
        .workdir("/home/runner")
        .environment("RUNNER_USER", "runner");
  }

  private List<String> argv(VmSpec spec, Accel accel) throws VmException {
    return QemuRuntime.commandLine(
        Path.of("/usr/bin/qemu-system-x86_64"),
        accel,
        spec,
        QemuNetwork.parse(spec.name(), spec.network()),
        new QemuBoot.BootFiles(
            Path.of("/cache/boot/vmlinux-6.1"), Path.of("/cache/boot/initramfs-ab.cpio"), "6.1"),
        Path.of("/cache/rootfs/0123abcd.ext4"),
        Path.of("/state/qemu/GH-runner-001-3/guest"),
        Path.of("/state/qemu/GH-runner-001-3/qmp"),
        Path.of("/bin/busybox"));
  }

  @Test
  void kvmWithTheRestrictedNetworkAndAForwardedPort() throws Exception {
    List<String> expected = new ArrayList<>();
    expected.addAll(
        List.of(
            "/usr/bin/qemu-system-x86_64",
            "-name",
            "microrunner:GH-runner-001-3",
            "-M",
            "microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on",
            "-accel",
            "kvm",
            "-cpu",
            "host",
            "-smp",
            "4",
            "-m",
            "2048M",
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
            "virtio-mmio.force-legacy=false",
            "-kernel",
            "/cache/boot/vmlinux-6.1",
            "-initrd",
            "/cache/boot/initramfs-ab.cpio",
            "-append",
            "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init random.trust_cpu=on"
                + " mitigations=off pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd",
            "-drive",
            "id=root,if=none,format=raw,snapshot=on,cache=unsafe,file=/cache/rootfs/0123abcd.ext4",
            "-device",
            "virtio-blk-device,drive=root",
            "-fsdev",
            "local,id=mrconfig,path=/state/qemu/GH-runner-001-3/guest,"
                + "security_model=none,readonly=on",
            "-device",
            "virtio-9p-device,fsdev=mrconfig,mount_tag=mrconfig",
            "-fsdev",
            "local,id=mr0,path=" + loop + ",security_model=mapped-xattr",
            "-device",
            "virtio-9p-device,fsdev=mr0,mount_tag=mr0",
            "-fsdev",
            "local,id=mr1,path=" + temp + "/jre,,17,security_model=none,readonly=on",
            "-device",
            "virtio-9p-device,fsdev=mr1,mount_tag=mr1",
            "-netdev",
            "user,id=net,ipv6=off,restrict=on,"
                + "guestfwd=tcp:10.0.2.100:8080-cmd:/bin/busybox nc 127.0.0.1 8080",
            "-device",
            "virtio-net-device,netdev=net",
            "-qmp",
            "unix:/state/qemu/GH-runner-001-3/qmp,server=on,wait=off",
            "-sandbox",
            "on,resourcecontrol=deny"));

    assertEquals(expected, argv(spec().network("restricted:8080").build(), Accel.KVM));
  }

  @Test
  void tcgGivesTheTscRateAndAnEmulatedCpuAndNoNetworkMeansNoDevice() throws Exception {
    List<String> argv = argv(spec().network("none").build(), Accel.TCG);

    assertEquals("tcg", argv.get(argv.indexOf("-accel") + 1));
    assertEquals("qemu64", argv.get(argv.indexOf("-cpu") + 1));
    String append = argv.get(argv.indexOf("-append") + 1);
    assertTrue(append.matches(".* tsc_early_khz=[0-9]+ tsc=reliable no_timer_check"), append);
    assertFalse(argv.contains("-netdev"));
    assertEquals(
        "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        argv.get(argv.indexOf("-sandbox") + 1));
  }

  @Test
  void theDefaultNetworkIsRestrictedAndUserIsNot() throws Exception {
    List<String> restricted = argv(spec().build(), Accel.KVM);
    assertEquals(
        "user,id=net,ipv6=off,restrict=on", restricted.get(restricted.indexOf("-netdev") + 1));
    List<String> user = argv(spec().network("user").build(), Accel.KVM);
    assertEquals("user,id=net,ipv6=off", user.get(user.indexOf("-netdev") + 1));
    for (String network : List.of("host", "restricted:0", "restricted:x", "bridge")) {
      VmException refused =
          assertThrows(
              VmException.class, () -> QemuNetwork.parse("vm", Optional.of(network)), network);
      assertTrue(refused.getMessage().contains("restricted"), refused.getMessage());
    }
  }

  @Test
  void noSecretOnTheCommandLine() throws Exception {
    for (String arg : argv(spec().build(), Accel.TCG)) {
      assertFalse(arg.contains(LOOP_SECRET), arg);
    }
  }

  @Test
  void theGuestConfigurationIsQuotedForTheInitsShell() throws Exception {
    VmSpec spec = spec().network("restricted:8080,9090").build();

    assertEquals(
        """
        hostname='GH-runner-001-3'
        workdir='/home/runner'
        share mr0 '/_environment' rw
        share mr1 '/opt/jre' ro
        network user '9.9.9.9'
        forward 8080
        forward 9090
        """,
        QemuRuntime.setupScript(spec, QemuNetwork.parse(spec.name(), spec.network())));
    assertEquals(
        """
        setenv PATH '/usr/bin:/bin'
        setenv RUNNER_USER 'runner'
        setenv HOME '/root'
        set -- '/usr/bin/microrunner-agent' '--env-file' '/_environment/3-k2J9xQa.env' 'it'\\''s'
        """,
        QemuRuntime.environmentScript(
            spec,
            new QemuRuntime.RootFilesystem(Path.of("/x.ext4"), Map.of("PATH", "/usr/bin:/bin"))));
  }

  @Test
  void modulesComeAfterTheirDependenciesAndBuiltInOnesAreLeftOut() throws Exception {
    Path modules = Files.createDirectory(temp.resolve("modules"));
    Files.writeString(
        modules.resolve("modules.dep"),
        """
        kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko \
        kernel/drivers/virtio/virtio_ring.ko
        kernel/drivers/virtio/virtio.ko:
        kernel/drivers/virtio/virtio_ring.ko:
        kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko \
        kernel/drivers/virtio/virtio_ring.ko
        kernel/crypto/crc32c_generic.ko:
        kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/jbd2/jbd2.ko
        kernel/lib/crc16.ko:
        kernel/fs/jbd2/jbd2.ko:
        kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko
        kernel/net/9p/9pnet.ko:
        kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko
        kernel/drivers/net/virtio_net.ko: kernel/net/core/failover.ko
        kernel/net/core/failover.ko:
        kernel/drivers/acpi/button.ko:
        """);
    Files.writeString(modules.resolve("modules.builtin"), "kernel/drivers/input/evdev.ko\n");

    assertEquals(
        List.of(
            "kernel/drivers/virtio/virtio.ko",
            "kernel/drivers/virtio/virtio_ring.ko",
            "kernel/drivers/virtio/virtio_mmio.ko",
            "kernel/drivers/block/virtio_blk.ko",
            "kernel/crypto/crc32c_generic.ko",
            "kernel/lib/crc16.ko",
            "kernel/fs/jbd2/jbd2.ko",
            "kernel/fs/ext4/ext4.ko",
            "kernel/net/9p/9pnet.ko",
            "kernel/net/9p/9pnet_virtio.ko",
            "kernel/fs/9p/9p.ko",
            "kernel/net/core/failover.ko",
            "kernel/drivers/net/virtio_net.ko",
            "kernel/drivers/acpi/button.ko"),
        QemuBoot.moduleOrder(modules));

    Files.writeString(modules.resolve("modules.builtin"), "");
    VmException missing = assertThrows(VmException.class, () -> QemuBoot.moduleOrder(modules));
    assertTrue(missing.getMessage().contains("evdev"), missing.getMessage());
  }

  @Test
  void cpioEntriesAreNewcWithFourBytePadding() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (Cpio cpio = new Cpio(bytes)) {
      cpio.file("init", 0755, "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8));
    }
    String archive = bytes.toString(StandardCharsets.ISO_8859_1);
    assertTrue(archive.startsWith("070701"), archive);
    assertEquals(0, bytes.size() % 4);
    assertTrue(archive.contains("init\0"));
    assertTrue(archive.contains("TRAILER!!!\0"));
    assertEquals("000081ed", archive.substring(14, 22), "regular file, mode 0755");
  }

  @Test
  void kernelVersionsCompareNumerically() {
    assertTrue(QemuBoot.compareVersions("6.10.0-1-amd64", "6.9.0-9-amd64") > 0);
    assertTrue(QemuBoot.compareVersions("6.1.0-57-amd64", "6.1.0-9-amd64") > 0);
  }
}
