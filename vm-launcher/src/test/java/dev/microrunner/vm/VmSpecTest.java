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

  private void assertRejected(UnaryOperator<VmSpec.Builder> change, String field, String expected) {
    InvalidSpecException e =
        assertThrows(InvalidSpecException.class, () -> change.apply(valid()).build());
    assertEquals(field, e.field());
    assertTrue(e.problem().contains(expected), e.getMessage());
    assertTrue(e.getMessage().contains(field + " " + e.problem()), e.getMessage());
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
  void rejectsEachBadFieldWithASpecificMessageNamingTheField() {
    assertRejected(b -> b.cpus(0), "cpus", "must be positive, not 0");
    assertRejected(b -> b.memoryMib(-1), "memoryMib", "must be positive, not -1");
    assertRejected(b -> b.image(" "), "image", "must not be empty");
    assertRejected(b -> b.entrypoint(""), "entrypoint", "must not be empty");
    assertRejected(b -> b.name("-bad"), "name", "must be 1-128 letters");
    assertRejected(b -> b.name("a/b"), "name", "must be 1-128 letters");
    assertRejected(b -> b.dns("one.one"), "dns", "must be an IP address, not 'one.one'");
    assertRejected(
        b -> b.mount(new Mount(temp.resolve("missing"), "/m", false)),
        "mount",
        "host path does not exist: " + temp.resolve("missing"));
    assertRejected(
        b -> b.mount(EnvironmentMount.of(temp)).mount(new Mount(temp, "/_environment", true)),
        "mount",
        "guest path /_environment is mounted twice");
    assertRejected(b -> b.workdir("relative"), "workdir", "must be an absolute guest path");
    assertRejected(
        b -> b.environment("GITHUB_TOKEN", "x"), "environment", "GITHUB_TOKEN carries a secret");
    assertRejected(
        b -> b.environment("BAD-NAME", "x"), "environment", "invalid variable name 'BAD-NAME'");
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
