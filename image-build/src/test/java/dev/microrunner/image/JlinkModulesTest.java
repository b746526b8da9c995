package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.vm.CommandRunner.Result;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.exec.CommandLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;

/**
 * The pinned module list of the agent's jlinked runtime: every name is a JDK module, and it covers
 * what jdeps finds the libraries bundled in the agent jar need.
 */
class JlinkModulesTest {
  @TempDir Path directory;

  @Test
  void everyModuleIsAJdkModule() throws Exception {
    Set<String> modules = pinnedModules();
    ModuleFinder system = ModuleFinder.ofSystem();
    for (String module : modules) {
      assertTrue(system.find(module).isPresent(), module + " is not a module of this JDK");
    }
    assertTrue(modules.contains("java.base"));
  }

  @Test
  void coversWhatTheBundledLibrariesNeed() throws Exception {
    // The libraries the microrunner jar bundles, as jars on this test's class path.
    List<Class<?>> bundled =
        List.of(
            Command.class,
            LoggerContext.class,
            ch.qos.logback.core.Context.class,
            org.slf4j.Logger.class,
            ObjectMapper.class,
            JsonFactory.class,
            JsonProperty.class,
            CommandLine.class);
    Path modulePath = Files.createDirectories(directory.resolve("mp"));
    List<String> jars = new ArrayList<>();
    for (Class<?> type : bundled) {
      Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path copy = modulePath.resolve(jar.getFileName());
      if (!Files.exists(copy)) {
        Files.copy(jar, copy);
        jars.add(copy.toString());
      }
    }
    List<String> argv =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "jdeps").toString(),
                "--print-module-deps",
                "--ignore-missing-deps",
                "--multi-release",
                "17",
                "--module-path",
                modulePath.toString()));
    argv.addAll(jars);
    Result result = Commands.run(argv, Map.of());
    assertEquals(0, result.exitStatus(), result.stderrTail());
    Set<String> needed =
        new TreeSet<>(Arrays.asList(result.stdout().get(result.stdout().size() - 1).split(",")));
    assertTrue(needed.contains("java.base"), "jdeps answered " + needed);

    Set<String> missing = new TreeSet<>(needed);
    missing.removeAll(pinnedModules());
    assertEquals(Set.of(), missing, "jlink-modules lacks modules the bundled libraries need");
  }

  @Test
  void coversTheJdkApisMicrorunnerUses() throws Exception {
    // java.net.http: the GitHub client; jdk.httpserver: the simulator; jdk.unsupported:
    // sun.misc.Signal in the agent. jdeps cannot see these from here (the jar is built later).
    assertTrue(
        pinnedModules().containsAll(Set.of("java.net.http", "jdk.httpserver", "jdk.unsupported")));
  }

  static Set<String> pinnedModules() throws Exception {
    Path list = Path.of(JlinkModulesTest.class.getResource("context/jlink-modules").toURI());
    Set<String> modules = new LinkedHashSet<>();
    for (String line : Files.readAllLines(list)) {
      String module = line.replaceAll("#.*", "").strip();
      if (!module.isEmpty()) {
        modules.add(module);
      }
    }
    return modules;
  }
}
