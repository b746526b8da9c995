package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

class GitHubTargetTest {

  @Test
  void githubComUsesTheApiHost() {
    GitHubTarget target = GitHubTarget.of("github.com");
    assertEquals(URI.create("https://api.github.com"), target.apiBase());
    assertEquals(URI.create("https://github.com"), target.webBase());
  }

  @Test
  void otherHostsAreEnterpriseServers() {
    GitHubTarget target = GitHubTarget.of("ghe.example.com");
    assertEquals(URI.create("https://ghe.example.com/api/v3"), target.apiBase());
    assertEquals(URI.create("https://ghe.example.com"), target.webBase());
  }

  @Test
  void fullUrlsAreTakenAsIs() {
    GitHubTarget target = GitHubTarget.of("http://127.0.0.1:8123/");
    assertEquals(URI.create("http://127.0.0.1:8123"), target.apiBase());
    assertEquals(URI.create("http://127.0.0.1:8123"), target.webBase());
    assertEquals(URI.create("http://127.0.0.1:8123/repos/o/r"), target.api("/repos/o/r"));
  }

  @Test
  void badHostsAreRefusedWithTheValue() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GitHubTarget.of("ftp://x.example"));
    assertTrue(e.getMessage().contains("ftp://x.example"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GitHubTarget.of("not a host"));
    assertThrows(IllegalArgumentException.class, () -> GitHubTarget.of(" "));
  }

  @Test
  void scopesMapToApiPathsAndRunnerUrls() {
    GitHubTarget github = GitHubTarget.of("github.com");
    GitHubTarget ghes = GitHubTarget.of("ghe.example.com");
    RunnerScope repo = RunnerScope.of("repo", "octo/hello");
    RunnerScope org = RunnerScope.of("org", "octo");
    RunnerScope enterprise = RunnerScope.of("enterprise", "big");
    assertEquals("/repos/octo/hello", repo.apiPath());
    assertEquals("/orgs/octo", org.apiPath());
    assertEquals("/enterprises/big", enterprise.apiPath());
    assertEquals(URI.create("https://github.com/octo/hello"), repo.runnerUrl(github));
    assertEquals(URI.create("https://github.com/octo"), org.runnerUrl(github));
    assertEquals(URI.create("https://ghe.example.com/enterprises/big"), enterprise.runnerUrl(ghes));
  }

  @Test
  void scopeValidationNamesTheProblem() {
    IllegalArgumentException noSlash =
        assertThrows(IllegalArgumentException.class, () -> RunnerScope.of("repo", "octo"));
    assertTrue(noSlash.getMessage().contains("owner/repo"), noSlash.getMessage());
    IllegalArgumentException badKind =
        assertThrows(IllegalArgumentException.class, () -> RunnerScope.of("team", "octo"));
    assertTrue(badKind.getMessage().contains("repo, org, enterprise"), badKind.getMessage());
    assertThrows(IllegalArgumentException.class, () -> RunnerScope.of("org", "a/b"));
    assertThrows(IllegalArgumentException.class, () -> RunnerScope.of("repo", "../x/y"));
    assertThrows(IllegalArgumentException.class, () -> RunnerScope.of("repo", "octo/.."));
    assertThrows(IllegalArgumentException.class, () -> RunnerScope.of("repo", "octo/."));
  }

  @Test
  void repositoryNamesMayStartWithADot() {
    assertEquals("/repos/octo/.github", RunnerScope.of("repo", "octo/.github").apiPath());
    assertEquals("/repos/octo/_tools", RunnerScope.of("repo", "octo/_tools").apiPath());
  }

  @Test
  void jitRequestsNeedOneToAHundredLabels() {
    assertThrows(IllegalArgumentException.class, () -> new JitRequest("r", 1, java.util.List.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> new JitRequest("r", 1, java.util.Collections.nCopies(101, "x")));
    assertEquals(1, new JitRequest("r", 1, java.util.List.of("x")).labels().size());
  }
}
