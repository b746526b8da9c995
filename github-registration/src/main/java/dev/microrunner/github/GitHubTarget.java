package dev.microrunner.github;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;

/**
 * Where GitHub is: the REST API base and the base of the URLs that runners register against.
 *
 * <p>{@code github.com} maps to {@code https://api.github.com} and {@code https://github.com}; any
 * other host name is a GitHub Enterprise Server ({@code https://HOST/api/v3} and {@code
 * https://HOST}); a full URL (simulators, proxies) is taken as both bases as is.
 */
public record GitHubTarget(URI apiBase, URI webBase) {

  public GitHubTarget {
    Objects.requireNonNull(apiBase, "apiBase");
    Objects.requireNonNull(webBase, "webBase");
    apiBase = withoutTrailingSlash(apiBase);
    webBase = withoutTrailingSlash(webBase);
  }

  /** Parses the value of the GitHub host option ({@code -g}). */
  public static GitHubTarget of(String hostOrUrl) {
    if (hostOrUrl == null || hostOrUrl.isBlank()) {
      throw new IllegalArgumentException(
          "GitHub host is empty: give github.com, a GitHub Enterprise Server host name or a URL");
    }
    String value = hostOrUrl.trim();
    if (value.contains("://")) {
      URI uri;
      try {
        uri = new URI(value);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("GitHub URL '" + value + "' is not a valid URL", e);
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if ((!scheme.equals("http") && !scheme.equals("https")) || uri.getHost() == null) {
        throw new IllegalArgumentException(
            "GitHub URL '" + value + "' must be an http:// or https:// URL with a host");
      }
      if (uri.getQuery() != null || uri.getFragment() != null || uri.getUserInfo() != null) {
        throw new IllegalArgumentException(
            "GitHub URL '" + value + "' must not carry user info, a query or a fragment");
      }
      return new GitHubTarget(uri, uri);
    }
    if (!value.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?")) {
      throw new IllegalArgumentException(
          "GitHub host '" + value + "' is not a host name (e.g. github.com or ghe.example.com)");
    }
    String host = value.toLowerCase(Locale.ROOT);
    if (host.equals("github.com") || host.equals("www.github.com")) {
      return new GitHubTarget(
          URI.create("https://api.github.com"), URI.create("https://github.com"));
    }
    return new GitHubTarget(
        URI.create("https://" + host + "/api/v3"), URI.create("https://" + host));
  }

  /** The API URI of {@code path} (which starts with a slash), e.g. {@code /repos/o/r}. */
  public URI api(String path) {
    return URI.create(apiBase + path);
  }

  private static URI withoutTrailingSlash(URI uri) {
    String text = uri.toString();
    while (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    return URI.create(text);
  }
}
