package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MicroVmRuntimesTest {
  @TempDir Path temp;
  private final VmOwner owner = VmOwner.forThisProcess("GH-runner");

  private RuntimeOptions withTools(String... tools) throws IOException {
    Path bin = Files.createDirectories(temp.resolve("bin-" + String.join("-", tools)));
    for (String tool : tools) {
      Path file = Files.writeString(bin.resolve(tool), "#!/bin/sh\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return RuntimeOptions.builder(owner, temp.resolve("state"))
        .environment("PATH", bin.toString())
        .build();
  }

  @Test
  void refusesASecretInTheRuntimeToolsEnvironment() {
    RuntimeOptions.Builder options =
        RuntimeOptions.builder(owner, temp.resolve("state")).environment("RUNNER_PAT", "ghp_x");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, options::build);

    assertTrue(e.getMessage().contains("RUNNER_PAT carries a secret"), e.getMessage());
    assertFalse(e.getMessage().contains("ghp_x"), e.getMessage());
  }

  @Test
  void prefersPodmanWithKrun() throws Exception {
    try (MicroVmRuntime runtime =
        MicroVmRuntimes.detect(withTools("podman", "krun", "krunvm", "buildah"))) {
      assertEquals("podman+krun", runtime.name());
      assertEquals(Isolation.MICROVM, runtime.isolation());
    }
  }

  @Test
  void fallsBackToKrunvmWithBuildah() throws Exception {
    try (MicroVmRuntime runtime =
        MicroVmRuntimes.detect(withTools("podman", "krunvm", "buildah"))) {
      assertEquals("krunvm", runtime.name());
    }
  }

  @Test
  void neverFallsBackToLessIsolation() throws Exception {
    VmException e =
        assertThrows(
            VmException.class, () -> MicroVmRuntimes.detect(withTools("podman", "runc", "krunvm")));
    assertTrue(e.getMessage().contains("krun not found on PATH"), e.getMessage());
    assertTrue(e.getMessage().contains("buildah not found on PATH"), e.getMessage());
    assertTrue(e.getMessage().contains("install"), e.getMessage());
  }

  @Test
  void createsByNameAndListsValidNamesForAnUnknownOne() throws Exception {
    RuntimeOptions options = withTools("podman", "runc");
    for (String name : MicroVmRuntimes.names()) {
      try (MicroVmRuntime runtime = MicroVmRuntimes.create(name, options)) {
        assertEquals(name, runtime.name());
      }
    }
    try (MicroVmRuntime runc = MicroVmRuntimes.create("podman+runc", options)) {
      assertEquals(Isolation.CONTAINER, runc.isolation());
      assertTrue(runc.availability().available());
    }
    try (MicroVmRuntime crun = MicroVmRuntimes.create("podman+crun", options)) {
      Availability availability = crun.availability();
      assertFalse(availability.available());
      assertTrue(availability.reason().contains("crun"), availability.reason());
    }
    VmException e =
        assertThrows(VmException.class, () -> MicroVmRuntimes.create("docker", options));
    assertTrue(e.getMessage().contains("podman+krun, krunvm"), e.getMessage());
  }
}
