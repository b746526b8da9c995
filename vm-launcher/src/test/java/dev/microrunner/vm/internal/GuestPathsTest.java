package dev.microrunner.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.microrunner.vm.Mount;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestPathsTest {
  private final GuestPaths paths =
      new GuestPaths(
          List.of(
              new Mount(Path.of("/srv/loop-001"), "/_environment", false),
              new Mount(Path.of("/srv/cache"), "/_environment/cache", true)));

  @Test
  void mapsWholePathComponentsLongestMountFirst() {
    assertEquals("/srv/loop-001/3-ab.env", paths.toHost("/_environment/3-ab.env"));
    assertEquals("/srv/loop-001", paths.toHost("/_environment"));
    assertEquals("/srv/cache/x", paths.toHost("/_environment/cache/x"));
    assertEquals("/_environmentX/y", paths.toHost("/_environmentX/y"));
    assertEquals("--flag", paths.toHost("--flag"));
  }

  @Test
  void dotDotLeavesTheMountAsItWouldInAVm() {
    assertEquals("/_environment/../etc/passwd", paths.toHost("/_environment/../etc/passwd"));
    assertEquals("/srv/cache/x", paths.toHost("/_environment/cache/../cache/x"));
    assertEquals("/srv/loop-001/3-ab.env", paths.toHost("/_environment/cache/../3-ab.env"));
  }
}
