package dev.microrunner.github.sim.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A route table: an HTTP method and a path pattern per endpoint. A request goes to the first route
 * whose method is the request's and whose pattern matches the whole path.
 *
 * @param <C> what the endpoints get besides the path: the request, with what was settled before
 *     routing (the runner a credential belongs to, for example)
 */
final class Router<C> {

  /** One endpoint; {@code path} has matched, its groups are the path's parameters. */
  @FunctionalInterface
  interface Endpoint<C> {
    Reply handle(C call, Matcher path) throws IOException, HttpError, InterruptedException;
  }

  private record Route<C>(Optional<String> method, Pattern path, Endpoint<C> endpoint) {}

  private final List<Route<C>> routes = new ArrayList<>();

  Router<C> get(String path, Endpoint<C> endpoint) {
    return add(Optional.of("GET"), path, endpoint);
  }

  Router<C> post(String path, Endpoint<C> endpoint) {
    return add(Optional.of("POST"), path, endpoint);
  }

  Router<C> delete(String path, Endpoint<C> endpoint) {
    return add(Optional.of("DELETE"), path, endpoint);
  }

  /** A route for every method, for what must happen whatever the method; put it last. */
  Router<C> anyMethod(String path, Endpoint<C> endpoint) {
    return add(Optional.empty(), path, endpoint);
  }

  private Router<C> add(Optional<String> method, String path, Endpoint<C> endpoint) {
    routes.add(new Route<>(method, Pattern.compile(path), endpoint));
    return this;
  }

  /** The matching endpoint's reply; empty when no route matches. */
  Optional<Reply> route(String method, String path, C call)
      throws IOException, HttpError, InterruptedException {
    for (Route<C> route : routes) {
      if (route.method().isPresent() && !route.method().get().equals(method)) {
        continue;
      }
      Matcher matcher = route.path().matcher(path);
      if (matcher.matches()) {
        return Optional.of(route.endpoint().handle(call, matcher));
      }
    }
    return Optional.empty();
  }
}
