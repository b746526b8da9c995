package dev.microrunner.github.sim.internal;

import dev.microrunner.github.sim.SimRunnerRelease;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * What GitHub's REST API knows besides the runners, tokens and jobs of {@link SimStore}: which
 * repositories, organizations and enterprises exist, and the actions/runner releases. Thread-safe.
 */
public final class RestApiState {

  /** A user, organization or enterprise name: letters, digits and hyphens. */
  private static final Pattern ACCOUNT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]*");

  /** A repository name: letters, digits, '.', '-' and '_', but not "." or "..". */
  private static final Pattern REPOSITORY = Pattern.compile("(?!\\.\\.?$)[A-Za-z0-9._-]+");

  /** Scope paths ({@code /repos/o/r}, {@code /orgs/o}, {@code /enterprises/e}), lower case. */
  private final Set<String> scopes = ConcurrentHashMap.newKeySet();

  /** The declared repositories by lower-case full name, in the order declared. */
  private final Map<String, Repository> repositories = new LinkedHashMap<>();

  /** Newest first. */
  private volatile List<SimRunnerRelease> runnerReleases;

  /** A declared repository: its name as declared and the id GitHub would give it. */
  record Repository(String fullName, long id) {
    String owner() {
      return fullName.substring(0, fullName.indexOf('/'));
    }

    String name() {
      return fullName.substring(fullName.indexOf('/') + 1);
    }
  }

  public RestApiState(List<SimRunnerRelease> runnerReleases) {
    setRunnerReleases(runnerReleases);
  }

  /** Replaces the actions/runner releases; two with one version are refused. */
  public void setRunnerReleases(List<SimRunnerRelease> releases) {
    Set<String> versions = new HashSet<>();
    for (SimRunnerRelease release : releases) {
      if (!versions.add(release.version())) {
        throw new IllegalArgumentException(
            "runner release " + release.version() + " is listed twice");
      }
    }
    List<SimRunnerRelease> newestFirst = new ArrayList<>(releases);
    newestFirst.sort(Comparator.comparing(SimRunnerRelease::publishedAt).reversed());
    runnerReleases = List.copyOf(newestFirst);
  }

  /** The actions/runner releases, newest first. */
  List<SimRunnerRelease> runnerReleases() {
    return runnerReleases;
  }

  /** The release the downloads endpoints offer: the newest that is not a prerelease. */
  Optional<SimRunnerRelease> offeredRunnerRelease() {
    return runnerReleases.stream().filter(release -> !release.prerelease()).findFirst();
  }

  /** How long GitHub accepts a runner once a newer release is out. */
  static final Duration UPDATE_WINDOW = Duration.ofDays(30);

  /**
   * Whether GitHub still accepts a runner of {@code version} at {@code now}: no newer release
   * (prereleases aside) came out more than {@link #UPDATE_WINDOW} ago.
   */
  boolean acceptsRunner(String version, Instant now) {
    return runnerReleases.stream()
        .filter(release -> !release.prerelease())
        .filter(release -> RunnerVersions.compare(release.version(), version) > 0)
        .noneMatch(release -> release.publishedAt().plus(UPDATE_WINDOW).isBefore(now));
  }

  /** The version a runner of {@code version} is told to update to, if the offered one is newer. */
  Optional<String> updateFor(String version) {
    return offeredRunnerRelease()
        .map(SimRunnerRelease::version)
        .filter(offered -> RunnerVersions.compare(offered, version) > 0);
  }

  /** Declares the repository {@code owner/name}. */
  public void addRepository(String fullName) {
    String[] parts = fullName == null ? new String[0] : fullName.split("/", -1);
    if (parts.length != 2
        || !ACCOUNT.matcher(parts[0]).matches()
        || !REPOSITORY.matcher(parts[1]).matches()) {
      throw new IllegalArgumentException(
          "repository '" + fullName + "' is not OWNER/NAME (letters, digits, '-', and '.', '_')");
    }
    scopes.add(key("/repos/" + fullName));
    synchronized (repositories) {
      repositories.putIfAbsent(
          key(fullName), new Repository(fullName, 500_000L + repositories.size() + 1));
    }
  }

  /** The declared repository {@code fullName} (case-insensitive). */
  Optional<Repository> repository(String fullName) {
    synchronized (repositories) {
      return Optional.ofNullable(repositories.get(key(fullName)));
    }
  }

  /** The repository declared first, if any. */
  Optional<Repository> firstRepository() {
    synchronized (repositories) {
      return repositories.values().stream().findFirst();
    }
  }

  /** Declares the organization {@code login}. */
  public void addOrganization(String login) {
    scopes.add(key("/orgs/" + account(login, "organization")));
  }

  /** Declares the enterprise {@code slug}. */
  public void addEnterprise(String slug) {
    scopes.add(key("/enterprises/" + account(slug, "enterprise")));
  }

  /** Whether the scope path exists; names are case-insensitive, as on GitHub. */
  boolean exists(String scope) {
    return scopes.contains(key(scope));
  }

  private static String account(String name, String kind) {
    if (name == null || !ACCOUNT.matcher(name).matches()) {
      throw new IllegalArgumentException(
          kind + " '" + name + "' is not a GitHub name (letters, digits and '-')");
    }
    return name;
  }

  private static String key(String scope) {
    return scope.toLowerCase(Locale.ROOT);
  }
}
