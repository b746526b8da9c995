package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ChildEnvironmentTest {
  @Test
  void passesOnlyAllowListedVariablesPlusAdditions() {
    Map<String, String> parent =
        Map.of(
            "PATH", "/usr/bin",
            "HOME", "/root",
            "XDG_RUNTIME_DIR", "/run/user/0",
            "CONTAINERS_STORAGE_CONF", "/etc/s.conf",
            "GITHUB_TOKEN", "ghp_secret",
            "RUNNER_PAT", "pat",
            "AWS_SECRET_ACCESS_KEY", "aws",
            "JAVA_TOOL_OPTIONS", "-Dx");

    Map<String, String> child =
        ChildEnvironment.of(
            parent, Map.of("CONTAINERS_CONF", "/tmp/c.conf", "PATH", "/fake:/usr/bin"));

    assertEquals(
        Map.of(
            "PATH", "/fake:/usr/bin",
            "HOME", "/root",
            "XDG_RUNTIME_DIR", "/run/user/0",
            "CONTAINERS_STORAGE_CONF", "/etc/s.conf",
            "CONTAINERS_CONF", "/tmp/c.conf"),
        child);
  }

  @Test
  void takesThisProcesssAllowListedVariables() {
    Map<String, String> child = ChildEnvironment.of(Map.of("ADDED", "yes"));

    assertEquals("yes", child.get("ADDED"));
    assertEquals(System.getenv("PATH"), child.get("PATH"));
    for (String name : child.keySet()) {
      assertTrue(name.equals("ADDED") || ChildEnvironment.isAllowed(name), name);
    }
  }
}
