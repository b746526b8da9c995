package dev.microrunner.cli.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code microrunner status}: a Unix domain socket in the state directory ({@code
 * <prefix>.status.sock}, mode 0600 in a 0700 directory: only the service's user reaches it) that
 * writes the loops as one JSON object to whoever connects, then closes. Nothing is read from the
 * client.
 */
public final class StatusServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StatusServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path socket;
  private final ServerSocketChannel server;
  private final FleetState state;
  private final String prefix;
  private final Clock clock;
  private final Instant started;
  private final Thread thread;

  private StatusServer(
      Path socket, ServerSocketChannel server, FleetState state, String prefix, Clock clock) {
    this.socket = socket;
    this.server = server;
    this.state = state;
    this.prefix = prefix;
    this.clock = clock;
    this.started = clock.instant();
    this.thread = new Thread(this::serve, "status-socket");
    thread.setDaemon(true);
  }

  /** The socket of the orchestrator with {@code prefix} in {@code stateDirectory}. */
  public static Path socketPath(Path stateDirectory, String prefix) {
    return stateDirectory.resolve(prefix + ".status.sock");
  }

  /**
   * Serves the status at {@link #socketPath}, replacing a socket that no process answers on (left
   * by a crash). Empty, with a warning, when a live orchestrator of the same prefix holds it.
   */
  public static Optional<StatusServer> start(
      Path stateDirectory, String prefix, FleetState state, Clock clock) throws IOException {
    if (!Files.isDirectory(stateDirectory)) {
      // As the orchestrator makes it for its state: only its user may enter.
      Files.createDirectories(
          stateDirectory,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    Path socket = socketPath(stateDirectory, prefix);
    if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      if (StatusClient.answers(socket)) {
        LOG.warn(
            "Another orchestrator with prefix {} answers on {}; `microrunner status` shows that one",
            prefix,
            socket);
        return Optional.empty();
      }
      Files.delete(socket);
    }
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    StatusServer status = new StatusServer(socket, server, state, prefix, clock);
    status.thread.start();
    return Optional.of(status);
  }

  public Path socket() {
    return socket;
  }

  private void serve() {
    while (server.isOpen()) {
      try (SocketChannel client = server.accept()) {
        ByteBuffer answer = ByteBuffer.wrap(json().getBytes(StandardCharsets.UTF_8));
        while (answer.hasRemaining()) {
          client.write(answer);
        }
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException | RuntimeException e) {
        LOG.debug("Status request failed: {}", e.toString());
      }
    }
  }

  /** The status: {@code {"prefix", "pid", "started", "pools": [...], "loops": [...]}}. */
  String json() {
    Instant now = clock.instant();
    ObjectNode root = JSON.createObjectNode();
    root.put("prefix", prefix);
    root.put("pid", ProcessHandle.current().pid());
    root.put("started", started.toString());
    ArrayNode pools = root.putArray("pools");
    state
        .pools()
        .forEach(pool -> pools.addObject().put("name", pool.name()).put("loops", pool.loops()));
    ArrayNode loops = root.putArray("loops");
    for (FleetState.Loop loop : state.loops()) {
      ObjectNode node = loops.addObject();
      node.put("pool", loop.pool());
      node.put("loop", loop.loop());
      if (loop.runner().isPresent()) {
        node.put("runner", loop.runner().get());
      } else {
        node.putNull("runner");
      }
      node.put("state", loop.state().label());
      Optional<Double> age = loop.vmAge(now).map(d -> d.toMillis() / 1000.0);
      if (age.isPresent()) {
        node.put("vm_age_seconds", age.get());
      } else {
        node.putNull("vm_age_seconds");
      }
      if (loop.job().isPresent()) {
        node.put("job", loop.job().get());
      } else {
        node.putNull("job");
      }
      node.put("failures_in_a_row", loop.failuresInARow());
    }
    return root.toString();
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      LOG.debug("Closing the status socket: {}", e.toString());
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", socket, e.getMessage());
    }
  }
}
