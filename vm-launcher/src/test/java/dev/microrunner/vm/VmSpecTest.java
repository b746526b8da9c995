package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmSpecTest {
  @TempDir Path temp;

  private VmSpec.Builder valid() {
    return VmSpec.builder().name("GH-runner-001-1").image("img:1").entrypoint("/bin/agent");
  }

  private void assertRejected(UnaryOperator<VmSpec.Builder> change, String expected) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> change.apply(valid()).build());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void hasTheShellImplementationsDefaults() {
    VmSpec spec = valid().build();
    assertEquals(2, spec.cpus());
    assertEquals(1024, spec.memoryMib());
    assertEquals("1.1.1.1", spec.dns());
    assertEquals(spec, spec.toBuilder().build());
  }

  @Test
  void rejectsEachBadFieldWithASpecificMessage() {
    assertRejected(b -> b.cpus(0), "vCPUs must be positive, got 0");
    assertRejected(b -> b.memoryMib(-1), "memory (MiB) must be positive, got -1");
    assertRejected(b -> b.image(" "), "image must not be empty");
    assertRejected(b -> b.entrypoint(""), "entrypoint must not be empty");
    assertRejected(b -> b.name("-bad"), "invalid VM name '-bad'");
    assertRejected(b -> b.name("a/b"), "invalid VM name 'a/b'");
    assertRejected(b -> b.dns("one.one"), "DNS server must be an IP address");
    assertRejected(
        b -> b.mount(new Mount(temp.resolve("missing"), "/m", false)),
        "mount host path does not exist: " + temp.resolve("missing"));
    assertRejected(
        b -> b.mount(EnvironmentMount.of(temp)).mount(new Mount(temp, "/_environment", true)),
        "two mounts at guest path /_environment");
    assertRejected(b -> b.workdir("relative"), "workdir must be an absolute guest path");
    assertRejected(b -> b.environment("GITHUB_TOKEN", "x"), "GITHUB_TOKEN carries a secret");
    assertRejected(b -> b.environment("BAD-NAME", "x"), "invalid environment variable name");
  }

  @Test
  void mountsRejectRelativeAndColonPaths() {
    assertThrows(IllegalArgumentException.class, () -> new Mount(Path.of("rel"), "/g", false));
    assertThrows(IllegalArgumentException.class, () -> new Mount(temp, "guest", false));
    assertThrows(IllegalArgumentException.class, () -> new Mount(temp, "/a:b", false));
  }

  @Test
  void environmentMountWiresTheLoopDirectory() {
    Mount mount = EnvironmentMount.of(temp);
    assertEquals(new Mount(temp, "/_environment", false), mount);
    assertEquals("/_environment/3-k2J9xQa.env", EnvironmentMount.guestPath("3-k2J9xQa.env"));
    assertThrows(IllegalArgumentException.class, () -> EnvironmentMount.guestPath("../x"));
  }
}
