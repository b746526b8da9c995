package dev.microrunner.vm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The contract on real podman with runc (CI installs podman; see .ci/run). */
class PodmanRuncContractTest extends MicroVmRuntimeContract {
  @TempDir static Path podmanWork;
  private static Path containersConf;

  @BeforeAll
  static void buildImage() throws Exception {
    assumeTrue(
        PodmanTestImage.podman().isPresent(),
        "podman is not installed: skipping the real-podman contract tests (CI installs it)");
    containersConf = PodmanTestImage.containersConf(podmanWork);
    PodmanTestImage.build(podmanWork, containersConf);
  }

  @Override
  MicroVmRuntime create(VmOwner owner, Path stateDirectory) throws VmException {
    return MicroVmRuntimes.create(
        "podman+runc",
        RuntimeOptions.builder(owner, stateDirectory)
            .environment("CONTAINERS_CONF", containersConf.toString())
            .build());
  }

  @Override
  String image() {
    return PodmanTestImage.IMAGE;
  }
}
