package dev.microrunner.vm;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/** The contract on real QEMU microVMs under TCG, booting the busybox test image. */
@Tag(QemuTestSupport.TAG)
class QemuContractTest extends MicroVmRuntimeContract {
  @TempDir static Path podmanWork;
  private static Path containersConf;

  @BeforeAll
  static void buildImage() throws Exception {
    QemuTestSupport.requireQemu();
    containersConf = PodmanTestImage.containersConf(podmanWork);
    PodmanTestImage.build(podmanWork, containersConf);
  }

  @Override
  MicroVmRuntime create(VmOwner owner, Path stateDirectory) throws VmException {
    return MicroVmRuntimes.create(
        "qemu", QemuTestSupport.options(owner, stateDirectory, containersConf));
  }

  @Override
  String image() {
    return PodmanTestImage.IMAGE;
  }
}
