package dev.microrunner.loop.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.microrunner.vm.VmOwner;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-instance state file: which registrations this orchestrator holds at GitHub and which base
 * directory it uses, with its owner (prefix, host, instance id, pid), so that a later instance of
 * the same prefix on the same host can clean up after a crash. Written by temp file and atomic
 * rename on every change; deleted on a clean exit.
 */
public final class InstanceJournal {

  private static final Logger LOG = LoggerFactory.getLogger(InstanceJournal.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String SUFFIX = ".state.json";

  /** The id of a registration that is known by its name only (asked for, or token mode). */
  public static final long UNKNOWN_ID = -1;

  /**
   * The file's content.
   *
   * @param github the API base of the GitHub the registrations are at; null in files of earlier
   *     versions, which had one GitHub only
   * @param scope the registrations' scope ({@code repo}, {@code org}, {@code enterprise}); null as
   *     {@code github}
   * @param principal the scope's repository, organisation or enterprise; null as {@code github}
   */
  public record State(
      String prefix,
      String host,
      String instanceId,
      long pid,
      long processStartMillis,
      String baseDirectory,
      Map<String, Long> registrations,
      String github,
      String scope,
      String principal) {

    public VmOwner owner() {
      return new VmOwner(prefix, host, instanceId, pid, processStartMillis);
    }
  }

  /** What a dead instance left: its state and the file that holds it. */
  public record Abandoned(Path file, State state) {}

  private final Path file;
  private final VmOwner owner;
  private final Path baseDirectory;
  private final Optional<Where> where;
  private final Map<String, Long> registrations = new LinkedHashMap<>();

  /** Where a journal's registrations are: the GitHub API base, the scope and its principal. */
  public record Where(String github, String scope, String principal) {}

  private InstanceJournal(Path file, VmOwner owner, Path baseDirectory, Optional<Where> where) {
    this.file = file;
    this.owner = owner;
    this.baseDirectory = baseDirectory;
    this.where = where;
  }

  /** Creates the state directory (0700) if needed and writes an empty journal for {@code owner}. */
  public static InstanceJournal create(Path stateDirectory, VmOwner owner, Path baseDirectory)
      throws IOException {
    return create(stateDirectory, owner, baseDirectory, "", Optional.empty());
  }

  /**
   * As {@link #create(Path, VmOwner, Path)}, for one of several journals of an instance: {@code
   * part} tells them apart in the file name, {@code where} says which GitHub scope they are of.
   */
  public static InstanceJournal create(
      Path stateDirectory, VmOwner owner, Path baseDirectory, String part, Optional<Where> where)
      throws IOException {
    createPrivateDirectories(stateDirectory);
    String name = owner.prefix() + "-" + owner.instanceId() + (part.isEmpty() ? "" : "-" + part);
    InstanceJournal journal =
        new InstanceJournal(stateDirectory.resolve(name + SUFFIX), owner, baseDirectory, where);
    journal.write();
    return journal;
  }

  /** The journals of dead instances with this prefix on this host; others are left alone. */
  public static List<Abandoned> findAbandoned(Path stateDirectory, String prefix, String host)
      throws IOException {
    List<Abandoned> result = new ArrayList<>();
    if (!Files.isDirectory(stateDirectory, LinkOption.NOFOLLOW_LINKS)) {
      return result;
    }
    try (DirectoryStream<Path> files =
        Files.newDirectoryStream(stateDirectory, prefix + "-*" + SUFFIX)) {
      for (Path candidate : files) {
        read(candidate)
            .filter(s -> s.prefix().equals(prefix) && s.host().equals(host))
            .filter(s -> !s.owner().isAlive())
            .ifPresent(s -> result.add(new Abandoned(candidate, s)));
      }
    }
    return result;
  }

  private static Optional<State> read(Path candidate) {
    try {
      if (!Files.isRegularFile(candidate, LinkOption.NOFOLLOW_LINKS)) {
        return Optional.empty();
      }
      return Optional.of(JSON.readValue(candidate.toFile(), State.class));
    } catch (IOException e) {
      LOG.warn("Ignoring unreadable state file {}: {}", candidate, e.getMessage());
      return Optional.empty();
    }
  }

  public Path file() {
    return file;
  }

  public synchronized void add(String runnerName, long runnerId) throws IOException {
    registrations.put(runnerName, runnerId);
    write();
  }

  public synchronized void remove(String runnerName) throws IOException {
    if (registrations.remove(runnerName) != null) {
      write();
    }
  }

  public synchronized boolean isEmpty() {
    return registrations.isEmpty();
  }

  /** Deletes the file: nothing is left to clean. */
  public synchronized void delete() throws IOException {
    Files.deleteIfExists(file);
  }

  private void write() throws IOException {
    State state =
        new State(
            owner.prefix(),
            owner.host(),
            owner.instanceId(),
            owner.pid(),
            owner.processStartMillis(),
            baseDirectory.toString(),
            new LinkedHashMap<>(registrations),
            where.map(Where::github).orElse(null),
            where.map(Where::scope).orElse(null),
            where.map(Where::principal).orElse(null));
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(temp, JSON.writeValueAsBytes(state));
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Creates {@code directory} and missing parents, the new ones with mode 0700. */
  public static void createPrivateDirectories(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      Files.createDirectories(
          directory,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
  }
}
