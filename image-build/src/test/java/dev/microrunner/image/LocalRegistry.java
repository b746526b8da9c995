package dev.microrunner.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A read-only container registry on 127.0.0.1 for images made locally, so that a test can {@code
 * docker pull} them as actions/runner does before it creates any container (the machine reaches no
 * real registry). It serves the pull side of the distribution API from OCI layouts written by
 * {@code podman save --format oci-dir}: {@code /v2/}, manifests by tag or digest, blobs. podman
 * reaches it over plain HTTP through the registries.conf of {@link #registriesConf(Path)}.
 *
 * <p>Plain sockets rather than the JDK's HTTP server: podman tries TLS first, and a TLS hello must
 * be refused at once (it then falls back to HTTP); the JDK's server would wait for a request line
 * until the client's 10-second handshake timeout, on every pull.
 */
final class LocalRegistry {
  private static final Pattern MANIFEST = Pattern.compile("^/v2/(.+)/manifests/([^/]+)$");
  private static final Pattern BLOB = Pattern.compile("^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$");
  private static final int TLS_HANDSHAKE = 0x16;

  private final ServerSocket server;
  private final ExecutorService connections =
      Executors.newCachedThreadPool(
          task -> {
            Thread thread = new Thread(task, "local-registry");
            thread.setDaemon(true);
            return thread;
          });
  private final ObjectMapper json = new ObjectMapper();
  // "repository:tag" -> the OCI layout that holds it
  private final Map<String, Path> layouts = new ConcurrentHashMap<>();

  private LocalRegistry(ServerSocket server) {
    this.server = server;
  }

  static LocalRegistry start() throws IOException {
    LocalRegistry registry =
        new LocalRegistry(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    registry.connections.execute(registry::accept);
    return registry;
  }

  /** {@code 127.0.0.1:PORT}, the registry part of the references it serves. */
  String host() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /**
   * Serves the image {@code local} (already in podman's storage) as {@code host()/repository:tag};
   * returns that reference.
   */
  String publish(LocalPodmanBases podman, String local, String repository, String tag, Path work)
      throws Exception {
    Path layout = work.resolve("oci-" + repository.replace('/', '-') + "-" + tag);
    podman.run("podman", "save", "--format", "oci-dir", "-o", layout.toString(), local);
    layouts.put(repository + ":" + tag, layout);
    String reference = host() + "/" + repository + ":" + tag;
    podman.removeAtEnd(reference);
    return reference;
  }

  /** A registries.conf that lets podman pull from this registry over plain HTTP. */
  Path registriesConf(Path file) throws IOException {
    Files.writeString(
        file,
        "[[registry]]\nlocation = \"" + host() + "\"\ninsecure = true\n",
        StandardCharsets.UTF_8);
    return file;
  }

  void close() throws IOException {
    server.close();
    connections.shutdownNow();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        connections.execute(() -> serve(socket));
      } catch (SocketException closed) {
        return;
      } catch (IOException e) {
        throw new IllegalStateException("the local registry stopped accepting", e);
      }
    }
  }

  /** One request per connection: request line and headers, then a reply that closes it. */
  private void serve(Socket socket) {
    try (socket;
        InputStream in = new BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream()) {
      socket.setSoTimeout(30_000);
      in.mark(1);
      if (in.read() == TLS_HANDSHAKE) {
        return;
      }
      in.reset();
      String requestLine = line(in);
      while (!line(in).isEmpty()) {
        // headers: nothing here depends on them
      }
      String[] request = requestLine.split(" ", 3);
      if (request.length < 2) {
        return;
      }
      reply(out, request[0].equals("HEAD"), request[1].replaceFirst("\\?.*$", ""));
    } catch (IOException e) {
      // the client went away: nothing to serve
    }
  }

  private void reply(OutputStream out, boolean head, String path) throws IOException {
    if (path.equals("/v2/") || path.equals("/v2")) {
      send(out, head, 200, "application/json", "{}".getBytes(StandardCharsets.UTF_8), null);
      return;
    }
    Matcher manifest = MANIFEST.matcher(path);
    if (manifest.matches()) {
      String reference = manifest.group(2);
      Path layout = layouts.get(manifest.group(1) + ":" + reference);
      if (layout == null && reference.startsWith("sha256:")) {
        layout = layoutOf(manifest.group(1));
      }
      if (layout != null) {
        JsonNode entry = json.readTree(layout.resolve("index.json").toFile()).path("manifests");
        String digest =
            reference.startsWith("sha256:") ? reference : entry.path(0).path("digest").asText();
        Path blob = blob(layout, digest);
        if (Files.isRegularFile(blob)) {
          String type = entry.path(0).path("mediaType").asText();
          send(out, head, 200, type, Files.readAllBytes(blob), digest);
          return;
        }
      }
    }
    Matcher blobPath = BLOB.matcher(path);
    if (blobPath.matches()) {
      Path layout = layoutOf(blobPath.group(1));
      if (layout != null && Files.isRegularFile(blob(layout, blobPath.group(2)))) {
        byte[] body = Files.readAllBytes(blob(layout, blobPath.group(2)));
        send(out, head, 200, "application/octet-stream", body, blobPath.group(2));
        return;
      }
    }
    byte[] notFound =
        "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"not here\"}]}"
            .getBytes(StandardCharsets.UTF_8);
    send(out, head, 404, "application/json", notFound, null);
  }

  private Path layoutOf(String repository) {
    return layouts.entrySet().stream()
        .filter(entry -> entry.getKey().startsWith(repository + ":"))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(null);
  }

  private static Path blob(Path layout, String digest) {
    return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != -1 && b != '\n'; b = in.read()) {
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  private static void send(
      OutputStream out, boolean head, int status, String type, byte[] body, String digest)
      throws IOException {
    StringBuilder headers = new StringBuilder();
    headers.append("HTTP/1.1 ").append(status).append(status == 200 ? " OK" : " Not Found");
    headers.append("\r\nContent-Type: ").append(type);
    headers.append("\r\nContent-Length: ").append(body.length);
    headers.append("\r\nDocker-Distribution-API-Version: registry/2.0");
    if (digest != null) {
      headers.append("\r\nDocker-Content-Digest: ").append(digest);
    }
    headers.append("\r\nConnection: close\r\n\r\n");
    out.write(headers.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (!head) {
      out.write(body);
    }
    out.flush();
  }
}
