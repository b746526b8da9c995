package dev.microrunner.image;

import dev.microrunner.image.internal.BuildCommands;
import dev.microrunner.image.internal.BuildContext;
import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.RuntimeCommandException;
import dev.microrunner.vm.VmException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds microrunner's runner images with buildah or podman: writes a build context (container
 * files, scripts, the agent jar), then builds the base image and the main image on top of it.
 * Removes the images it built, found by their label, and nothing else.
 *
 * <p>This module does not depend on the CLI: the caller hands over the agent jar to package (the
 * CLI passes its own jar, see {@link #jarOf(Class)}).
 */
public final class ImageBuild {
  private static final Logger LOG = LoggerFactory.getLogger(ImageBuild.class);

  /** The label on every image this project builds ({@code base} or {@code main}). */
  public static final String IMAGE_LABEL = BuildCommands.IMAGE_LABEL;

  private final CommandRunner commandRunner;
  private final Map<String, String> environment;

  private ImageBuild(CommandRunner commandRunner, Map<String, String> environment) {
    this.commandRunner = Objects.requireNonNull(commandRunner, "commandRunner");
    this.environment = Map.copyOf(environment);
  }

  /**
   * Runs buildah/podman through vm-launcher's {@link CommandRunner}, with the allow-listed part of
   * this process's environment plus its proxy settings (see {@link #PROXY_VARIABLES}).
   */
  public static ImageBuild create() {
    return new ImageBuild(CommandRunner.commonsExec(), proxySettings(System.getenv()));
  }

  /**
   * Runs commands through {@code commandRunner}, in the allow-listed part of this process's
   * environment (see {@link ChildEnvironment}) plus {@code environment} (e.g. {@code
   * CONTAINERS_CONF}).
   */
  public static ImageBuild using(CommandRunner commandRunner, Map<String, String> environment) {
    return new ImageBuild(commandRunner, environment);
  }

  /**
   * Builds download their base images and the actions/runner release, through a proxy where the
   * host has one; podman and buildah also hand these to the build's RUN steps. The allow-list of
   * {@link ChildEnvironment} leaves them out (a proxy URL can carry a password), so the build adds
   * them itself: it is the one child that needs them.
   */
  static final List<String> PROXY_VARIABLES =
      List.of("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy");

  static Map<String, String> proxySettings(Map<String, String> environment) {
    Map<String, String> proxy = new TreeMap<>();
    for (String variable : PROXY_VARIABLES) {
      if (environment.containsKey(variable)) {
        proxy.put(variable, environment.get(variable));
      }
    }
    return proxy;
  }

  /**
   * The jar file {@code mainClass} was loaded from: the agent jar a running microrunner packages.
   *
   * @throws ImageBuildException when the class was not loaded from a jar (an IDE's class
   *     directory), saying so
   */
  public static Path jarOf(Class<?> mainClass) throws ImageBuildException {
    CodeSource source = mainClass.getProtectionDomain().getCodeSource();
    if (source == null || source.getLocation() == null) {
      throw new ImageBuildException(
          "cannot tell which jar " + mainClass.getName() + " was loaded from; name the agent jar");
    }
    try {
      Path location = Path.of(source.getLocation().toURI());
      if (!Files.isRegularFile(location) || !location.toString().endsWith(".jar")) {
        throw new ImageBuildException(
            mainClass.getName()
                + " was loaded from "
                + location
                + ", not from a jar; build the microrunner jar and name it as the agent jar");
      }
      return location;
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new ImageBuildException(
          "cannot turn " + source.getLocation() + " into a file path; name the agent jar", e);
    }
  }

  /**
   * Writes the build context into {@code contextDirectory} (created if absent, must be empty) and
   * returns the builds to run. Refuses when the runner checksum for a target architecture is not
   * known.
   */
  public BuildPlan prepare(ImageBuildRequest request, Path contextDirectory) throws IOException {
    for (Architecture architecture : request.architectures()) {
      request.runner().sha256(architecture);
    }
    Path context = contextDirectory.toAbsolutePath().normalize();
    BuildContext.write(context, request.agentJar());
    List<BuildStep> steps =
        BuildCommands.steps(
            request,
            context,
            request.runner().buildArgument(Architecture.X64),
            request.runner().buildArgument(Architecture.ARM64));
    return new BuildPlan(context, steps);
  }

  /**
   * Runs the plan's builds in order and returns the images built.
   *
   * @throws ImageBuildException on the first build that fails, with its stderr tail
   */
  public List<String> build(BuildPlan plan) throws ImageBuildException, InterruptedException {
    List<String> built = new ArrayList<>();
    for (BuildStep step : plan.steps()) {
      LOG.info("building {}", step.image());
      run(step.argv());
      built.add(step.image());
    }
    return built;
  }

  /**
   * Removes every image labelled {@value BuildCommands#IMAGE_LABEL}, by name where it has names (so
   * an image with several tags goes without forcing), by id otherwise. Images a container still
   * uses are not forced out: the command then fails and says which.
   *
   * @return the references removed; empty when there was nothing to remove
   */
  public List<String> clean(BuildTool tool) throws ImageBuildException, InterruptedException {
    Result listing = run(BuildCommands.listImages(tool));
    Set<String> references = new LinkedHashSet<>();
    for (String line : listing.stdout()) {
      String[] fields = line.strip().split("\\s+", -1);
      if (fields.length == 0 || fields[0].isEmpty()) {
        continue;
      }
      boolean named = fields.length > 1 && !fields[1].startsWith("<none>");
      references.add(named ? fields[1] : fields[0]);
    }
    if (references.isEmpty()) {
      LOG.info("no image labelled {} to remove", IMAGE_LABEL);
      return List.of();
    }
    List<String> removed = List.copyOf(references);
    run(BuildCommands.removeImages(tool, removed));
    return removed;
  }

  /** Runs a command to its end, its output logged line by line as it comes. */
  private Result run(List<String> argv) throws ImageBuildException, InterruptedException {
    String program = argv.get(0);
    Command command =
        Command.of(argv, ChildEnvironment.of(environment))
            .withOutput(
                line -> LOG.info("{}: {}", program, line),
                line -> LOG.info("{}: {}", program, line));
    LOG.debug("running {}", argv);
    Result result;
    try {
      result = commandRunner.run(command);
    } catch (RuntimeCommandException e) {
      throw new ImageBuildException(e.getMessage() + " (is " + program + " installed?)", e);
    } catch (VmException e) {
      if (Thread.interrupted()) {
        InterruptedException interrupted = new InterruptedException(e.getMessage());
        interrupted.initCause(e);
        throw interrupted;
      }
      throw new ImageBuildException(e.getMessage(), e);
    }
    if (result.exitStatus() != 0) {
      throw new ImageBuildException(argv, result.exitStatus(), result.stderrTail());
    }
    return result;
  }
}
