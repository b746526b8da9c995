package dev.microrunner.vm.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmOwner;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ownership records for krunvm, which has no labels: one JSON file per VM in {@code
 * <stateDirectory>/<runtime>/}, shared by every instance on the host.
 */
final class OwnershipStore {
  private static final Logger LOG = LoggerFactory.getLogger(OwnershipStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectWriter WRITER = JSON.writerFor(Entry.class);
  private static final String SUFFIX = ".json";

  /**
   * @param workloadPid the pid of the attached {@code krunvm start} process, 0 while the VM is only
   *     being defined (the record is written before {@code create}, so a crash leaves no stray VM)
   * @param workloadStartMillis its start time, so a reused pid is never killed
   */
  record Entry(String name, Map<String, String> owner, long workloadPid, long workloadStartMillis) {
    Optional<VmOwner> vmOwner() {
      return OwnerLabels.parse(owner);
    }

    /** The workload process, if it still runs and is the same process (not a reused pid). */
    Optional<ProcessHandle> workload() {
      if (workloadPid <= 0) {
        return Optional.empty();
      }
      return ProcessHandle.of(workloadPid)
          .filter(ProcessHandle::isAlive)
          .filter(process -> ProcessStart.millis(process) == workloadStartMillis);
    }
  }

  private final Path directory;

  OwnershipStore(Path stateDirectory, String runtime) {
    this.directory = stateDirectory.resolve(runtime);
  }

  void write(Entry entry) throws VmException {
    Path target = file(entry.name());
    // VM names are unique per host, so a fixed temporary name is enough (and cheaper than
    // createTempFile, which draws from SecureRandom on every VM start).
    Path temporary = directory.resolve("." + entry.name() + ".tmp");
    try {
      byte[] json = WRITER.writeValueAsBytes(entry);
      try {
        Files.write(temporary, json);
      } catch (NoSuchFileException e) {
        // The first record, or the state directory was cleaned up: not worth a check per start.
        Files.createDirectories(directory);
        Files.write(temporary, json);
      }
      try {
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(temporary);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new VmException("cannot write ownership record for VM " + entry.name(), e);
    }
  }

  Optional<Entry> read(String name) {
    Path file = file(name);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(file.toFile(), Entry.class));
    } catch (IOException e) {
      LOG.warn("ignoring unreadable ownership record {}: {}", file, e.getMessage());
      return Optional.empty();
    }
  }

  List<Entry> readAll() throws VmException {
    List<Entry> entries = new ArrayList<>();
    if (!Files.isDirectory(directory)) {
      return entries;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
      for (Path file : files) {
        String fileName = file.getFileName().toString();
        read(fileName.substring(0, fileName.length() - SUFFIX.length())).ifPresent(entries::add);
      }
    } catch (IOException e) {
      throw new VmException("cannot list ownership records in " + directory, e);
    }
    return entries;
  }

  void remove(String name) throws VmException {
    try {
      Files.deleteIfExists(file(name));
    } catch (IOException e) {
      throw new VmException("cannot remove ownership record of VM " + name, e);
    }
  }

  private Path file(String name) {
    return directory.resolve(name + SUFFIX);
  }
}
