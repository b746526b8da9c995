package dev.microrunner.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A read-only container registry on 127.0.0.1 for images made locally, so that a test can {@code
 * docker pull} them as actions/runner does before it creates any container (the machine reaches no
 * real registry). It serves the pull side of the distribution API from OCI layouts written by
 * {@code podman save --format oci-dir}: {@code /v2/}, manifests by tag or digest, blobs. podman
 * reaches it over plain HTTP through the registries.conf of {@link #registriesConf(Path)}.
 */
final class LocalRegistry implements AutoCloseable {
  private static final Pattern MANIFEST = Pattern.compile("^/v2/(.+)/manifests/([^/]+)$");
  private static final Pattern BLOB = Pattern.compile("^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$");

  private final HttpServer server;
  private final ObjectMapper json = new ObjectMapper();
  // "repository:tag" -> the OCI layout that holds it
  private final Map<String, Path> layouts = new ConcurrentHashMap<>();

  private LocalRegistry(HttpServer server) {
    this.server = server;
  }

  static LocalRegistry start() throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    LocalRegistry registry = new LocalRegistry(server);
    server.createContext("/", registry::handle);
    server.start();
    return registry;
  }

  /** {@code 127.0.0.1:PORT}, the registry part of the references it serves. */
  String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
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

  @Override
  public void close() {
    server.stop(0);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      boolean head = exchange.getRequestMethod().equals("HEAD");
      if (path.equals("/v2/") || path.equals("/v2")) {
        reply(exchange, head, 200, "application/json", "{}".getBytes(StandardCharsets.UTF_8), null);
        return;
      }
      Matcher manifest = MANIFEST.matcher(path);
      if (manifest.matches()) {
        Path layout = layouts.get(manifest.group(1) + ":" + manifest.group(2));
        String reference = manifest.group(2);
        if (layout == null && reference.startsWith("sha256:")) {
          layout = layoutOf(manifest.group(1));
        }
        if (layout != null) {
          JsonNode entry = json.readTree(layout.resolve("index.json").toFile()).path("manifests");
          String digest =
              reference.startsWith("sha256:") ? reference : entry.path(0).path("digest").asText();
          String type = entry.path(0).path("mediaType").asText();
          Path blob = blob(layout, digest);
          if (Files.isRegularFile(blob)) {
            reply(exchange, head, 200, type, Files.readAllBytes(blob), digest);
            return;
          }
        }
      }
      Matcher blobPath = BLOB.matcher(path);
      if (blobPath.matches()) {
        Path layout = layoutOf(blobPath.group(1));
        if (layout != null && Files.isRegularFile(blob(layout, blobPath.group(2)))) {
          byte[] body = Files.readAllBytes(blob(layout, blobPath.group(2)));
          reply(exchange, head, 200, "application/octet-stream", body, blobPath.group(2));
          return;
        }
      }
      byte[] notFound =
          "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"not here\"}]}"
              .getBytes(StandardCharsets.UTF_8);
      reply(exchange, head, 404, "application/json", notFound, null);
    }
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

  private static void reply(
      HttpExchange exchange, boolean head, int status, String type, byte[] body, String digest)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.getResponseHeaders().set("Docker-Distribution-API-Version", "registry/2.0");
    if (digest != null) {
      exchange.getResponseHeaders().set("Docker-Content-Digest", digest);
    }
    if (head) {
      exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
