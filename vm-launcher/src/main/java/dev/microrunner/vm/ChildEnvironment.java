package dev.microrunner.vm;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The environment of every child process: an allow-list of this process's variables plus what the
 * caller adds explicitly. Passing the parent's environment wholesale would hand GITHUB_TOKEN,
 * RUNNER_PAT and the like to podman, krunvm, buildah and the workload.
 */
public final class ChildEnvironment {
  private static final Set<String> NAMES =
      Set.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR");
  private static final List<String> PREFIXES =
      List.of("LC_", "XDG_", "CONTAINERS_", "BUILDAH_", "REGISTRY_AUTH_FILE");

  private ChildEnvironment() {}

  /** This process's allow-listed variables plus {@code additions}, which win. */
  public static Map<String, String> of(Map<String, String> additions) {
    return of(System.getenv(), additions);
  }

  /** {@code parent}'s allow-listed variables plus {@code additions}, which win. */
  public static Map<String, String> of(Map<String, String> parent, Map<String, String> additions) {
    Map<String, String> child = new TreeMap<>();
    parent.forEach(
        (name, value) -> {
          if (isAllowed(name)) {
            child.put(name, value);
          }
        });
    child.putAll(additions);
    return child;
  }

  static boolean isAllowed(String name) {
    return NAMES.contains(name) || PREFIXES.stream().anyMatch(name::startsWith);
  }
}
