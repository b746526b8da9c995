package dev.microrunner.vm.internal;

import dev.microrunner.vm.VmException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.SingleXZInputStream;

/**
 * The guest kernel and the initramfs microrunner boots every qemu VM with, both cached.
 *
 * <p>The kernel is a distribution's {@code vmlinuz} (a bzImage). When its configuration says {@code
 * CONFIG_PVH=y}, the uncompressed ELF inside is extracted once and booted instead: QEMU enters it
 * directly (PVH), which saves the decompression, 2.5 s per boot under TCG.
 *
 * <p>The initramfs holds a static busybox, microrunner's init script and the kernel modules a VM
 * needs (virtio-mmio, block, ext4, 9p, network, the ACPI power button), in dependency order from
 * the kernel's {@code modules.dep}; modules the kernel has built in are left out.
 */
final class QemuBoot {
  private static final Logger LOG = LoggerFactory.getLogger(QemuBoot.class);

  /** What the guest needs, beyond their dependencies. crc32c_generic is ext4's soft dependency. */
  static final List<String> MODULES =
      List.of(
          "virtio_mmio",
          "virtio_blk",
          "crc32c_generic",
          "ext4",
          "9pnet_virtio",
          "9p",
          "virtio_net",
          "evdev",
          "button");

  static final String INIT_RESOURCE = "qemu-init";

  /** The files one boot needs. */
  record BootFiles(Path kernel, Path initramfs, String kernelVersion) {}

  private QemuBoot() {}

  /** The kernel to boot: the given one, or the newest /boot/vmlinuz-* with installed modules. */
  static Path findKernel(Optional<Path> given) throws VmException {
    if (given.isPresent()) {
      if (!Files.isRegularFile(given.get()) || !Files.isReadable(given.get())) {
        throw new VmException("guest kernel " + given.get() + " is not a readable file");
      }
      return given.get();
    }
    Path boot = Path.of("/boot");
    Path best = null;
    try (DirectoryStream<Path> kernels = Files.newDirectoryStream(boot, "vmlinuz-*")) {
      for (Path kernel : kernels) {
        if (Files.isReadable(kernel)
            && Files.isRegularFile(modulesDirectory(versionOf(kernel)).resolve("modules.dep"))
            && (best == null || compareVersions(versionOf(kernel), versionOf(best)) > 0)) {
          best = kernel;
        }
      }
    } catch (IOException e) {
      // no /boot: handled below
    }
    if (best == null) {
      throw new VmException(
          "no guest kernel found: no readable /boot/vmlinuz-* with modules in /lib/modules;"
              + " install a kernel package (Debian: linux-image-amd64, Fedora: kernel-core) or"
              + " name one with --kernel");
    }
    return best;
  }

  static String versionOf(Path kernel) {
    String name = kernel.getFileName().toString();
    return name.startsWith("vmlinuz-") ? name.substring("vmlinuz-".length()) : name;
  }

  static Path modulesDirectory(String version) {
    return Path.of("/lib/modules", version);
  }

  /** Compares version strings number by number ("6.10" after "6.9"). */
  static int compareVersions(String a, String b) {
    String[] left = a.split("[^0-9]+", -1);
    String[] right = b.split("[^0-9]+", -1);
    for (int i = 0; i < Math.min(left.length, right.length); i++) {
      if (left[i].isEmpty() || right[i].isEmpty()) {
        continue;
      }
      int order = Long.compare(Long.parseLong(left[i]), Long.parseLong(right[i]));
      if (order != 0) {
        return order;
      }
    }
    return a.compareTo(b);
  }

  /** Kernel and initramfs, built into {@code cache} unless they are there already. */
  static BootFiles prepare(Path kernel, Path busybox, Path cache) throws VmException {
    String version = versionOf(kernel);
    try {
      Files.createDirectories(cache);
      Path bootable = bootableKernel(kernel, version, cache);
      Path initramfs = initramfs(version, busybox, cache);
      return new BootFiles(bootable, initramfs, version);
    } catch (IOException e) {
      throw new VmException("cannot prepare the guest kernel and initramfs in " + cache, e);
    }
  }

  /** The PVH ELF inside the bzImage when the kernel supports PVH, else the bzImage itself. */
  static Path bootableKernel(Path kernel, String version, Path cache) throws IOException {
    Path config = kernel.resolveSibling("config-" + version);
    boolean pvh =
        Files.isRegularFile(config)
            && Files.readAllLines(config, StandardCharsets.ISO_8859_1).contains("CONFIG_PVH=y");
    if (!pvh) {
      return kernel;
    }
    String key =
        digest(
            kernel.toAbsolutePath()
                + "\n"
                + Files.size(kernel)
                + "\n"
                + Files.getLastModifiedTime(kernel).toMillis());
    Path vmlinux = cache.resolve("vmlinux-" + version + "-" + key.substring(0, 16));
    if (Files.isRegularFile(vmlinux)) {
      return vmlinux;
    }
    byte[] image = Files.readAllBytes(kernel);
    Optional<byte[]> elf = extractElf(image);
    if (elf.isEmpty()) {
      LOG.info("cannot extract the uncompressed kernel from {}; booting the bzImage", kernel);
      return kernel;
    }
    writeAtomically(vmlinux, elf.get());
    return vmlinux;
  }

  /** The ELF kernel inside a bzImage compressed with xz or gzip. */
  static Optional<byte[]> extractElf(byte[] image) {
    byte[][] magics = {{(byte) 0xfd, '7', 'z', 'X', 'Z', 0}, {0x1f, (byte) 0x8b, 0x08}};
    for (int kind = 0; kind < magics.length; kind++) {
      int at = 0;
      while ((at = indexOf(image, magics[kind], at)) >= 0) {
        try (InputStream in =
            kind == 0
                ? new SingleXZInputStream(
                    new java.io.ByteArrayInputStream(image, at, image.length - at))
                : new GZIPInputStream(
                    new java.io.ByteArrayInputStream(image, at, image.length - at))) {
          ByteArrayOutputStream out = new ByteArrayOutputStream(image.length * 8);
          in.transferTo(out);
          byte[] elf = out.toByteArray();
          if (elf.length > 4 && elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F') {
            return Optional.of(elf);
          }
        } catch (IOException | RuntimeException e) {
          LOG.debug("no kernel at offset {}: {}", at, e.toString());
        }
        at++;
      }
    }
    return Optional.empty();
  }

  private static int indexOf(byte[] data, byte[] pattern, int from) {
    outer:
    for (int i = from; i <= data.length - pattern.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** The modules to load, dependencies first, as paths relative to the modules directory. */
  static List<String> moduleOrder(Path modulesDirectory) throws IOException, VmException {
    Path depFile = modulesDirectory.resolve("modules.dep");
    Map<String, String> pathByName = new HashMap<>();
    Map<String, List<String>> dependencies = new HashMap<>();
    if (Files.isRegularFile(depFile)) {
      for (String line : Files.readAllLines(depFile, StandardCharsets.UTF_8)) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String path = line.substring(0, colon);
        pathByName.put(moduleName(path), path);
        List<String> deps = new ArrayList<>();
        for (String dep : line.substring(colon + 1).trim().split("\\s+", -1)) {
          if (!dep.isEmpty()) {
            deps.add(moduleName(dep));
          }
        }
        dependencies.put(moduleName(path), deps);
      }
    }
    Set<String> builtIn = new LinkedHashSet<>();
    Path builtinFile = modulesDirectory.resolve("modules.builtin");
    if (Files.isRegularFile(builtinFile)) {
      for (String line : Files.readAllLines(builtinFile, StandardCharsets.UTF_8)) {
        builtIn.add(moduleName(line.trim()));
      }
    }
    Set<String> ordered = new LinkedHashSet<>();
    List<String> missing = new ArrayList<>();
    for (String module : MODULES) {
      add(module, pathByName, dependencies, builtIn, ordered, missing);
    }
    if (!missing.isEmpty()) {
      throw new VmException(
          "the guest kernel has neither built in nor as modules in "
              + modulesDirectory
              + ": "
              + String.join(", ", missing));
    }
    List<String> paths = new ArrayList<>();
    ordered.forEach(name -> paths.add(pathByName.get(name)));
    return paths;
  }

  private static void add(
      String module,
      Map<String, String> pathByName,
      Map<String, List<String>> dependencies,
      Set<String> builtIn,
      Set<String> ordered,
      List<String> missing) {
    String name = module.replace('-', '_');
    if (ordered.contains(name) || builtIn.contains(name)) {
      return;
    }
    if (!pathByName.containsKey(name)) {
      missing.add(name);
      return;
    }
    for (String dependency : dependencies.getOrDefault(name, List.of())) {
      add(dependency, pathByName, dependencies, builtIn, ordered, missing);
    }
    ordered.add(name);
  }

  /** {@code kernel/fs/ext4/ext4.ko[.xz]} → {@code ext4}, with '-' read as '_' as modprobe does. */
  static String moduleName(String path) {
    String file = path.substring(path.lastIndexOf('/') + 1);
    int dot = file.indexOf(".ko");
    return (dot < 0 ? file : file.substring(0, dot)).replace('-', '_');
  }

  /** The cached initramfs for this kernel version, busybox and init script. */
  static Path initramfs(String version, Path busybox, Path cache) throws IOException, VmException {
    Path modules = modulesDirectory(version);
    List<String> order = moduleOrder(modules);
    for (String module : order) {
      if (!module.endsWith(".ko")) {
        throw new VmException(
            "kernel module "
                + module
                + " is compressed; busybox's insmod in the initramfs needs uncompressed modules");
      }
    }
    byte[] init = initScript();
    byte[] busyboxBytes = Files.readAllBytes(busybox);
    if (!isStatic(busyboxBytes)) {
      throw new VmException(
          busybox + " is dynamically linked; the guest needs a static busybox (busybox-static)");
    }
    StringBuilder key = new StringBuilder(version).append('\n');
    key.append(digest(busyboxBytes)).append('\n').append(digest(init)).append('\n');
    for (String module : order) {
      Path file = modules.resolve(module);
      key.append(module)
          .append(' ')
          .append(Files.size(file))
          .append(' ')
          .append(Files.getLastModifiedTime(file).toMillis())
          .append('\n');
    }
    Path target = cache.resolve("initramfs-" + digest(key.toString()).substring(0, 16) + ".cpio");
    if (Files.isRegularFile(target)) {
      return target;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (Cpio cpio = new Cpio(bytes)) {
      for (String directory : List.of("bin", "dev", "proc", "sys", "etc", "lib", "lib/modules")) {
        cpio.directory(directory);
      }
      cpio.directory("newroot");
      cpio.directory("microrunner");
      cpio.file("bin/busybox", 0755, busyboxBytes);
      cpio.file("init", 0755, init);
      StringBuilder orderFile = new StringBuilder();
      for (String module : order) {
        String fileName = module.substring(module.lastIndexOf('/') + 1);
        cpio.file("lib/modules/" + fileName, 0644, Files.readAllBytes(modules.resolve(module)));
        orderFile.append(fileName).append('\n');
      }
      cpio.file("lib/modules/order", 0644, orderFile.toString().getBytes(StandardCharsets.UTF_8));
    }
    writeAtomically(target, bytes.toByteArray());
    return target;
  }

  static byte[] initScript() throws IOException {
    try (InputStream in = QemuBoot.class.getResourceAsStream(INIT_RESOURCE)) {
      if (in == null) {
        throw new IOException("resource " + INIT_RESOURCE + " is missing");
      }
      return in.readAllBytes();
    }
  }

  /** A 64-bit ELF without a PT_INTERP program header (no dynamic loader). */
  static boolean isStatic(byte[] elf) {
    if (elf.length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[4] != 2) {
      return false;
    }
    ByteBuffer buffer = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    long phoff = buffer.getLong(32);
    int phentsize = Short.toUnsignedInt(buffer.getShort(54));
    int phnum = Short.toUnsignedInt(buffer.getShort(56));
    for (int i = 0; i < phnum; i++) {
      long at = phoff + (long) i * phentsize;
      if (at + 4 > elf.length) {
        return false;
      }
      if (buffer.getInt((int) at) == 3) {
        return false;
      }
    }
    return true;
  }

  static String digest(String text) {
    return digest(text.getBytes(StandardCharsets.UTF_8));
  }

  static String digest(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes a cache file whole or not at all; concurrent writers of the same content are fine. */
  static void writeAtomically(Path target, byte[] content) throws IOException {
    Path temporary = Files.createTempFile(target.getParent(), ".tmp-", "");
    try {
      try (OutputStream out = Files.newOutputStream(temporary)) {
        out.write(content);
      }
      Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
      moveAtomically(temporary, target);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  static void moveAtomically(Path source, Path target) throws IOException {
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
