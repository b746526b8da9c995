package dev.microrunner.image;

import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.VmException;
import java.util.List;
import java.util.Map;

/**
 * Runs a test's command as {@link ImageBuild} runs its builds: through vm-launcher's runner, with
 * the allow-listed environment plus {@code additions}. Test support, also for the cli module.
 */
public final class Commands {
  private Commands() {}

  public static Result run(List<String> argv, Map<String, String> additions) throws VmException {
    return CommandRunner.commonsExec().run(Command.of(argv, ChildEnvironment.of(additions)));
  }
}
