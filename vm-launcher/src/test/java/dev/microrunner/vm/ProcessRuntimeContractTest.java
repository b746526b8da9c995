package dev.microrunner.vm;

import java.nio.file.Path;

class ProcessRuntimeContractTest extends MicroVmRuntimeContract {
  @Override
  MicroVmRuntime create(VmOwner owner, Path stateDirectory) throws VmException {
    return MicroVmRuntimes.create("process", RuntimeOptions.builder(owner, stateDirectory).build());
  }

  @Override
  String image() {
    return "ignored-by-the-process-runtime";
  }

  @Override
  boolean usesImages() {
    return false;
  }
}
