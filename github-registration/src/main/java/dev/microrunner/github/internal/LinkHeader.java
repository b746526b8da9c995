package dev.microrunner.github.internal;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code rel="next"} target of GitHub's {@code Link} pagination header. */
public final class LinkHeader {

  private static final Pattern LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"([^\"]+)\"");

  private LinkHeader() {}

  public static Optional<URI> next(HttpHeaders headers) {
    for (String value : headers.allValues("link")) {
      Matcher matcher = LINK.matcher(value);
      while (matcher.find()) {
        if (matcher.group(2).equals("next")) {
          return Optional.of(URI.create(matcher.group(1)));
        }
      }
    }
    return Optional.empty();
  }
}
