package dev.microrunner.github;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/** Where runners are registered: a repository, an organisation or an enterprise. */
public record RunnerScope(Kind kind, String principal) {

  /** The three places a self-hosted runner can belong to. */
  public enum Kind {
    REPO,
    ORG,
    ENTERPRISE;

    /** The option value: {@code repo}, {@code org} or {@code enterprise}. */
    public String optionValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})");

  // Repository names may also start with '.', '_' or '-' (".github" is a common one); "." and
  // ".." are path steps, not names, and would move the API path to another resource.
  private static final Pattern REPOSITORY = Pattern.compile("[A-Za-z0-9._-]{1,100}");

  public RunnerScope {
    Objects.requireNonNull(kind, "kind");
    if (principal == null || principal.isBlank()) {
      throw new IllegalArgumentException(
          "runner principal is empty: give "
              + (kind == Kind.REPO ? "owner/repo" : "the " + kind.optionValue() + " name"));
    }
    if (kind == Kind.REPO) {
      String[] parts = principal.split("/", -1);
      if (parts.length != 2 || !valid(parts[0]) || !validRepository(parts[1])) {
        throw new IllegalArgumentException(
            "runner principal '" + principal + "' is not of the form owner/repo (scope repo)");
      }
    } else if (!valid(principal)) {
      throw new IllegalArgumentException(
          "runner principal '"
              + principal
              + "' is not a valid "
              + kind.optionValue()
              + " name (letters, digits, '.', '_', '-')");
    }
  }

  /** Parses the scope option ({@code repo}, {@code org}, {@code enterprise}) and principal. */
  public static RunnerScope of(String scope, String principal) {
    if (scope == null) {
      throw new IllegalArgumentException("runner scope is missing: give repo, org or enterprise");
    }
    Kind kind =
        switch (scope.trim().toLowerCase(Locale.ROOT)) {
          case "repo", "repository" -> Kind.REPO;
          case "org", "organization", "organisation" -> Kind.ORG;
          case "enterprise" -> Kind.ENTERPRISE;
          default ->
              throw new IllegalArgumentException(
                  "runner scope '" + scope + "' is not one of repo, org, enterprise");
        };
    return new RunnerScope(kind, principal == null ? null : principal.trim());
  }

  /** The API path of the principal: {@code /repos/o/r}, {@code /orgs/o}, {@code /enterprises/e}. */
  public String apiPath() {
    return switch (kind) {
      case REPO -> "/repos/" + principal;
      case ORG -> "/orgs/" + principal;
      case ENTERPRISE -> "/enterprises/" + principal;
    };
  }

  /** The URL a runner registers against ({@code config.sh --url}). */
  public URI runnerUrl(GitHubTarget target) {
    String suffix =
        switch (kind) {
          case REPO, ORG -> "/" + principal;
          case ENTERPRISE -> "/enterprises/" + principal;
        };
    return URI.create(target.webBase() + suffix);
  }

  @Override
  public String toString() {
    return kind.optionValue() + " " + principal;
  }

  private static boolean valid(String name) {
    return NAME.matcher(name).matches();
  }

  private static boolean validRepository(String name) {
    return REPOSITORY.matcher(name).matches() && !name.equals(".") && !name.equals("..");
  }
}
