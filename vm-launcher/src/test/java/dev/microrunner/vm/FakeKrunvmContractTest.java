package dev.microrunner.vm;

import java.nio.file.Path;

/** The contract on the krunvm backend, with fake krunvm and buildah executables. */
class FakeKrunvmContractTest extends MicroVmRuntimeContract {
  private Path bin;

  @Override
  MicroVmRuntime create(VmOwner owner, Path stateDirectory) throws Exception {
    if (bin == null) {
      bin = FakeTools.install(temp);
    }
    return MicroVmRuntimes.create(
        "krunvm",
        RuntimeOptions.builder(owner, stateDirectory)
            .environment("PATH", FakeTools.path(bin))
            .environment("FAKE_KRUNVM_HOME", temp.resolve("krunvm-home").toString())
            .build());
  }

  @Override
  String image() {
    return "quay.io/microrunner/test-runner:1";
  }
}
