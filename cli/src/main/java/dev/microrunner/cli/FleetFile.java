package dev.microrunner.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.PersonalAccessToken;
import dev.microrunner.loop.InvalidSettingException;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.RunnerConfig;
import dev.microrunner.loop.Scaling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The fleet's configuration file ({@code orchestrator --config FILE}): YAML with three keys at the
 * top, {@code orchestrator} (the orchestrator's options), {@code defaults} (runner options every
 * pool inherits) and {@code pools} (a list: {@code name}, {@code loops} and runner options). Keys
 * are the long option names of the command line. Each pool's options go through the same parsing
 * and checks as {@code microrunner runner}'s, so a pool can say whatever the command line can, and
 * every error names the file, line, column and key path ({@code pools[1].memory}).
 *
 * <p>Credentials are never inline: a pool names a token file ({@code token-file}), an environment
 * variable ({@code token-env}), a systemd credential ({@code token-credential}) or a GitHub App
 * ({@code app-id} and {@code app-key-file}).
 */
final class FleetFile {

  /** The orchestrator's keys and what they hold. */
  static final Map<String, Type> ORCHESTRATOR_KEYS =
      Map.of(
          "prefix", Type.STRING,
          "runtime", Type.STRING,
          "parallel-start", Type.INTEGER,
          "start-timeout", Type.INTEGER,
          "base-dir", Type.STRING,
          "state-dir", Type.STRING,
          "metrics", Type.STRING,
          "webhook", Type.STRING,
          "webhook-secret-file", Type.STRING,
          "poll", Type.INTEGER);

  /** A pool's own keys besides the runner options: its name and its size. */
  private static final Set<String> POOL_KEYS =
      Set.of("name", "loops", "min-idle", "max", "idle-timeout");

  /** Runner options that never come from the file, and why. */
  private static final Map<String, String> REFUSED_RUNNER_KEYS =
      Map.of(
          "pat", "a token is never inline: give token-file, token-env or token-credential",
          "secret", "a loop secret is never inline: set RUNNER_SECRET, or leave it random",
          "prefix", "is the orchestrator's: put it under orchestrator",
          "state-dir", "is the orchestrator's: put it under orchestrator",
          "log", "is the command line's",
          "verbose", "is the command line's",
          "stacktrace", "is the command line's",
          "help", "is the command line's",
          "version", "is the command line's",
          "accel", "is the qemu runtime's: give it on the command line");

  private static final Set<String> CREDENTIAL_KEYS =
      Set.of("token-file", "token-env", "token-credential", "app-id", "app-key-file");

  /** What a key's value must be. */
  enum Type {
    STRING("a string"),
    INTEGER("an integer"),
    BOOLEAN("true or false"),
    LIST("a list"),
    MAP("a map of NAME: VALUE");

    final String description;

    Type(String description) {
      this.description = description;
    }
  }

  /**
   * A value of the file with where it is: a map, a list, or a scalar (String, Long, Double, Boolean
   * or null).
   *
   * @param line where the value is (1-based)
   * @param keyLine where its key is, for values of a map (else the value's place)
   */
  record Node(
      Object scalar,
      Map<String, Node> map,
      List<Node> list,
      int line,
      int column,
      int keyLine,
      int keyColumn) {

    /** The map, list or scalar. */
    Object value() {
      return map != null ? map : list != null ? list : scalar;
    }
  }

  /**
   * What the file says, checked.
   *
   * @param orchestrator the orchestrator's keys that the file gives
   * @param pools the pools, each made into runner configurations
   */
  record Fleet(Path file, Map<String, Node> orchestrator, List<Pool> pools) {

    Optional<String> string(String key) {
      return Optional.ofNullable(orchestrator.get(key)).map(n -> scalarText(n.value()));
    }

    Optional<Long> integer(String key) {
      return Optional.ofNullable(orchestrator.get(key)).map(n -> (Long) n.value());
    }
  }

  private final Path file;
  private final Map<String, String> environment;
  private final Redactor redactor;
  private final List<String> commandLineRunnerOptions;

  /**
   * @param commandLineRunnerOptions runner options given after {@code --}: they win over the file's
   *     {@code defaults}, a pool's own keys win over them
   */
  FleetFile(
      Path file,
      Map<String, String> environment,
      Redactor redactor,
      List<String> commandLineRunnerOptions) {
    this.file = file;
    this.environment = environment;
    this.redactor = redactor;
    this.commandLineRunnerOptions = List.copyOf(commandLineRunnerOptions);
  }

  Path path() {
    return file;
  }

  /**
   * Reads and checks the file.
   *
   * @throws ConfigFileException naming the file, line, column and key path of the first problem
   */
  Fleet read() {
    Node root = parse();
    if (root.value() == null) {
      throw error(root, "", "is empty: it needs at least pools");
    }
    Map<String, Node> top = requireMap(root, "");
    checkKeys(top, "", Set.of("orchestrator", "defaults", "pools"));
    Map<String, Node> orchestrator = Map.of();
    if (top.containsKey("orchestrator")) {
      orchestrator = requireMap(top.get("orchestrator"), "orchestrator");
      for (Map.Entry<String, Node> entry : orchestrator.entrySet()) {
        String path = "orchestrator." + entry.getKey();
        Type type = ORCHESTRATOR_KEYS.get(entry.getKey());
        if (type == null) {
          throw keyError(
              entry.getValue(),
              path,
              "is not an orchestrator key; they are " + new TreeSet<>(ORCHESTRATOR_KEYS.keySet()));
        }
        checkType(entry.getValue(), path, type);
      }
      checkPositive(orchestrator, "parallel-start");
      checkPositive(orchestrator, "start-timeout");
    }
    Map<String, OptionSpec> runnerOptions = runnerOptions();
    Map<String, Node> defaults = Map.of();
    if (top.containsKey("defaults")) {
      defaults = requireMap(top.get("defaults"), "defaults");
      checkRunnerKeys(defaults, "defaults", runnerOptions, Set.of());
    }
    Node poolsNode = top.get("pools");
    if (poolsNode == null) {
      throw error(root, "pools", "is missing: the file needs at least one pool");
    }
    if (poolsNode.list() == null) {
      throw error(poolsNode, "pools", "must be a list of pools");
    }
    List<Node> poolNodes = poolsNode.list();
    if (poolNodes.isEmpty()) {
      throw error(poolsNode, "pools", "is empty: the file needs at least one pool");
    }
    List<Pool> pools = new ArrayList<>();
    Map<String, String> names = new LinkedHashMap<>();
    for (int i = 0; i < poolNodes.size(); i++) {
      String path = "pools[" + i + "]";
      Map<String, Node> pool = requireMap(poolNodes.get(i), path);
      checkRunnerKeys(pool, path, runnerOptions, POOL_KEYS);
      Pool made = pool(poolNodes.get(i), pool, defaults, path);
      String earlier = names.putIfAbsent(made.name(), path);
      if (earlier != null) {
        throw error(
            pool.get("name"), path + ".name", "'" + made.name() + "' is already " + earlier + "'s");
      }
      pools.add(made);
    }
    return new Fleet(file, orchestrator, pools);
  }

  private Pool pool(Node node, Map<String, Node> own, Map<String, Node> defaults, String path) {
    Node nameNode = own.get("name");
    if (nameNode == null) {
      throw error(node, path + ".name", "is missing: every pool has a name");
    }
    checkType(nameNode, path + ".name", Type.STRING);
    String name = scalarText(nameNode.value());
    int loops = 1;
    Node loopsNode = own.get("loops");
    if (loopsNode != null) {
      checkType(loopsNode, path + ".loops", Type.INTEGER);
      loops = ((Long) loopsNode.value()).intValue();
    }
    Optional<Scaling> scaling = scaling(node, own, path);
    // A pool's own credentials replace the defaults' as a whole; other keys one by one.
    boolean ownCredentials = own.keySet().stream().anyMatch(CREDENTIAL_KEYS::contains);
    Map<String, Node> merged = new LinkedHashMap<>();
    Map<String, String> origin = new LinkedHashMap<>();
    List<String> arguments = new ArrayList<>();
    for (Map.Entry<String, Node> entry : defaults.entrySet()) {
      String key = entry.getKey();
      if (CREDENTIAL_KEYS.contains(key)) {
        if (ownCredentials) {
          continue;
        }
      } else {
        arguments.addAll(arguments(key, entry.getValue()));
      }
      merged.put(key, entry.getValue());
      origin.put(key, "defaults");
    }
    arguments.addAll(commandLineRunnerOptions);
    for (Map.Entry<String, Node> entry : own.entrySet()) {
      String key = entry.getKey();
      if (POOL_KEYS.contains(key)) {
        continue;
      }
      merged.put(key, entry.getValue());
      origin.put(key, path);
      if (!CREDENTIAL_KEYS.contains(key)) {
        arguments.addAll(arguments(key, entry.getValue()));
      }
    }
    RunnerCommand runner = new RunnerCommand();
    CommandLine commandLine = new CommandLine(runner).setOverwrittenOptionsAllowed(true);
    try {
      commandLine.parseArgs(arguments.toArray(new String[0]));
    } catch (CommandLine.ParameterException e) {
      String key =
          e.getArgSpec() instanceof OptionSpec option ? option.longestName().substring(2) : "";
      throw located(merged, origin, path, key, e.getMessage(), node);
    }
    Credentials credentials = credentials(merged, path, node, origin);
    try {
      RunnerConfig config = runner.toConfig(environment, redactor, credentials);
      // A runtime from the file or after --; else the orchestrator's.
      Optional<String> runtime =
          commandLine.getParseResult().hasMatchedOption("--runtime")
              ? Optional.of(runner.runtime)
              : Optional.empty();
      return scaling.isPresent()
          ? Pool.scaled(name, scaling.get(), runtime, config)
          : new Pool(name, loops, runtime, config);
    } catch (InvalidSettingException e) {
      throw located(merged, origin, path, e.setting(), e.problem(), node);
    }
  }

  /**
   * A demand-driven pool's {@code min-idle}, {@code max} and {@code idle-timeout} (seconds); empty
   * for a fixed pool, which has {@code loops} instead.
   */
  private Optional<Scaling> scaling(Node node, Map<String, Node> own, String path) {
    Node minIdle = own.get("min-idle");
    Node max = own.get("max");
    Node idleTimeout = own.get("idle-timeout");
    if (minIdle == null && max == null && idleTimeout == null) {
      return Optional.empty();
    }
    if (own.containsKey("loops")) {
      throw error(
          own.get("loops"),
          path + ".loops",
          "cannot be given with min-idle, max or idle-timeout: a pool is fixed (loops) or follows"
              + " demand (min-idle and max), not both");
    }
    if (max == null) {
      throw error(node, path + ".max", "is missing: a pool that follows demand needs max");
    }
    Map<String, Node> given = new LinkedHashMap<>();
    for (String key : List.of("min-idle", "max", "idle-timeout")) {
      Node value = own.get(key);
      if (value != null) {
        checkType(value, path + "." + key, Type.INTEGER);
        given.put(key, value);
      }
    }
    try {
      return Optional.of(
          new Scaling(
              minIdle == null ? 0 : ((Long) minIdle.value()).intValue(),
              ((Long) max.value()).intValue(),
              idleTimeout == null
                  ? Scaling.DEFAULT_IDLE_TIMEOUT
                  : Duration.ofSeconds((Long) idleTimeout.value())));
    } catch (InvalidSettingException e) {
      Node at = given.getOrDefault(e.setting(), node);
      throw error(at, path + "." + e.setting(), e.problem());
    }
  }

  /** The credentials a pool names, its own or else the defaults'. */
  private Credentials credentials(
      Map<String, Node> merged, String path, Node pool, Map<String, String> origin) {
    Set<String> given = new LinkedHashSet<>(merged.keySet());
    given.retainAll(CREDENTIAL_KEYS);
    Set<String> kinds = new TreeSet<>(given);
    kinds.remove("app-key-file");
    if (kinds.isEmpty()) {
      throw error(
          pool,
          path,
          "names no credentials: give token-file, token-env, token-credential, or app-id with"
              + " app-key-file (here or under defaults)");
    }
    if (kinds.size() > 1) {
      String second = kinds.stream().skip(1).findFirst().orElseThrow();
      throw error(
          merged.get(second),
          path + "." + second,
          "names credentials twice (" + String.join(", ", kinds) + "): give one of them");
    }
    String kind = kinds.iterator().next();
    Node node = merged.get(kind);
    path = origin.getOrDefault(kind, path);
    checkType(node, path + "." + kind, Type.STRING);
    String value = scalarText(node.value());
    try {
      Credentials credentials =
          switch (kind) {
            case "token-file" -> Credentials.patFromFile(Path.of(value));
            case "token-env" -> {
              if (!value.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw error(node, path + "." + kind, "must name an environment variable");
              }
              yield Credentials.patFromEnv(value, environment);
            }
            case "token-credential" -> {
              String directory = environment.get("CREDENTIALS_DIRECTORY");
              if (directory == null || directory.isBlank()) {
                throw error(
                    node,
                    path + "." + kind,
                    "needs systemd's CREDENTIALS_DIRECTORY (LoadCredential= in the unit), which is"
                        + " not set");
              }
              if (!value.matches("[A-Za-z0-9_.@-]+")) {
                throw error(node, path + "." + kind, "must be a credential name, not a path");
              }
              yield Credentials.patFromFile(Path.of(directory, value));
            }
            default -> {
              Node keyFile = merged.get("app-key-file");
              if (keyFile == null) {
                throw error(node, path + ".app-key-file", "is missing: app-id needs the App's key");
              }
              checkType(keyFile, path + ".app-key-file", Type.STRING);
              yield Credentials.app(value, Path.of(scalarText(keyFile.value())));
            }
          };
      if (credentials instanceof PersonalAccessToken token) {
        redactor.add(token.token().reveal());
      }
      return credentials;
    } catch (GitHubException e) {
      throw error(node, path + "." + kind, redactor.redact(e.getMessage()));
    }
  }

  /** The command-line arguments a key and its value stand for. */
  private static List<String> arguments(String key, Node node) {
    String option = "--" + key;
    Object value = node.value();
    if (value instanceof Boolean flag) {
      return flag ? List.of(option) : List.of();
    }
    if (node.list() != null) {
      List<String> items = node.list().stream().map(n -> scalarText(n.value())).toList();
      if (key.equals("labels")) {
        return List.of(option, String.join(",", items));
      }
      List<String> arguments = new ArrayList<>();
      items.forEach(item -> arguments.addAll(List.of(option, item)));
      return arguments;
    }
    if (node.map() != null) {
      List<String> arguments = new ArrayList<>();
      node.map()
          .forEach(
              (name, v) -> arguments.addAll(List.of(option, name + "=" + scalarText(v.value()))));
      return arguments;
    }
    return List.of(option, scalarText(value));
  }

  /** The error for {@code setting}, placed where the key that set it is. */
  private ConfigFileException located(
      Map<String, Node> merged,
      Map<String, String> origin,
      String path,
      String setting,
      String problem,
      Node pool) {
    Node node = merged.get(setting);
    if (node == null) {
      return error(pool, path + (setting.isEmpty() ? "" : "." + setting), problem);
    }
    String where = origin.getOrDefault(setting, path);
    return new ConfigFileException(
        file, node.keyLine(), node.keyColumn(), where + "." + setting, redactor.redact(problem));
  }

  /** The runner options that may be keys, by long name without dashes. */
  private static Map<String, OptionSpec> runnerOptions() {
    CommandSpec spec = new CommandLine(new RunnerCommand()).getCommandSpec();
    Map<String, OptionSpec> options = new LinkedHashMap<>();
    for (OptionSpec option : spec.options()) {
      String name = option.longestName();
      if (name.startsWith("--")) {
        options.put(name.substring(2), option);
      }
    }
    return options;
  }

  private void checkRunnerKeys(
      Map<String, Node> keys, String path, Map<String, OptionSpec> options, Set<String> extra) {
    for (Map.Entry<String, Node> entry : keys.entrySet()) {
      String key = entry.getKey();
      String keyPath = path + "." + key;
      Node node = entry.getValue();
      if (extra.contains(key)) {
        continue;
      }
      String refused = REFUSED_RUNNER_KEYS.get(key);
      if (refused != null) {
        throw keyError(node, keyPath, refused);
      }
      if (key.equals("token-env") || key.equals("token-credential")) {
        checkType(node, keyPath, Type.STRING);
        continue;
      }
      OptionSpec option = options.get(key);
      if (option == null) {
        if (path.equals("defaults") && POOL_KEYS.contains(key)) {
          throw keyError(node, keyPath, "belongs to each pool, not to defaults");
        }
        throw keyError(
            node,
            keyPath,
            "is not a runner option (the keys are the long options of `microrunner runner`)");
      }
      checkType(node, keyPath, typeOf(option));
    }
  }

  private static Type typeOf(OptionSpec option) {
    Class<?> type = option.type();
    if (option.longestName().equals("--labels")) {
      return Type.LIST;
    }
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      return Type.INTEGER;
    }
    if (type == boolean.class || type == Boolean.class) {
      return Type.BOOLEAN;
    }
    if (Collection.class.isAssignableFrom(type)) {
      return Type.LIST;
    }
    if (Map.class.isAssignableFrom(type)) {
      return Type.MAP;
    }
    return Type.STRING;
  }

  private void checkType(Node node, String path, Type type) {
    Object value = node.value();
    boolean fits =
        switch (type) {
          case STRING ->
              value instanceof String || value instanceof Long || value instanceof Double;
          case INTEGER -> value instanceof Long;
          case BOOLEAN -> value instanceof Boolean;
          case LIST ->
              (node.list() != null && node.list().stream().allMatch(FleetFile::isScalar))
                  || value instanceof String;
          case MAP ->
              node.map() != null && node.map().values().stream().allMatch(FleetFile::isScalar);
        };
    if (!fits) {
      throw error(node, path, "must be " + type.description + ", not " + describe(value));
    }
  }

  private void checkPositive(Map<String, Node> keys, String key) {
    Node node = keys.get(key);
    if (node != null && (Long) node.value() < 1) {
      throw error(node, "orchestrator." + key, "must be at least 1, not " + node.value());
    }
  }

  private static boolean isScalar(Node node) {
    Object value = node.value();
    return value instanceof String
        || value instanceof Long
        || value instanceof Double
        || value instanceof Boolean;
  }

  private static String describe(Object value) {
    if (value == null) {
      return "empty";
    }
    if (value instanceof Map) {
      return "a map";
    }
    if (value instanceof List) {
      return "a list";
    }
    if (value instanceof String text) {
      return "'" + (text.length() > 40 ? text.substring(0, 40) + "…" : text) + "'";
    }
    return String.valueOf(value);
  }

  static String scalarText(Object value) {
    return String.valueOf(value);
  }

  private Map<String, Node> requireMap(Node node, String path) {
    if (node.map() == null) {
      throw error(node, path, "must be a map of keys, not " + describe(node.value()));
    }
    return node.map();
  }

  private void checkKeys(Map<String, Node> keys, String path, Set<String> allowed) {
    for (Map.Entry<String, Node> entry : keys.entrySet()) {
      if (!allowed.contains(entry.getKey())) {
        throw keyError(
            entry.getValue(),
            (path.isEmpty() ? "" : path + ".") + entry.getKey(),
            "is not a key here; the keys are " + new TreeSet<>(allowed));
      }
    }
  }

  private ConfigFileException error(Node node, String path, String problem) {
    return new ConfigFileException(file, node.line(), node.column(), path, problem);
  }

  private ConfigFileException keyError(Node node, String path, String problem) {
    return new ConfigFileException(file, node.keyLine(), node.keyColumn(), path, problem);
  }

  /** The file as a tree of nodes with their places. */
  private Node parse() {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigFileException(file, 0, 0, "", "does not exist");
    } catch (IOException e) {
      throw new ConfigFileException(file, 0, 0, "", "cannot be read: " + e.getMessage());
    }
    try (JsonParser parser = new YAMLFactory().createParser(text)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        return new Node(null, null, null, 1, 1, 1, 1);
      }
      Node root = node(parser, null);
      if (parser.nextToken() != null) {
        JsonLocation location = parser.currentTokenLocation();
        throw new ConfigFileException(
            file,
            location.getLineNr(),
            location.getColumnNr(),
            "",
            "holds more than one YAML document");
      }
      return root;
    } catch (JsonProcessingException e) {
      JsonLocation location = e.getLocation();
      return throwSyntax(e.getOriginalMessage(), location);
    } catch (IOException e) {
      throw new ConfigFileException(file, 0, 0, "", "cannot be read: " + e.getMessage());
    }
  }

  private Node throwSyntax(String message, JsonLocation location) {
    String first = message == null ? "not valid YAML" : message.lines().findFirst().orElse(message);
    throw new ConfigFileException(
        file,
        location == null ? 0 : location.getLineNr(),
        location == null ? 0 : location.getColumnNr(),
        "",
        "is not valid YAML: " + first);
  }

  private Node node(JsonParser parser, JsonLocation key) throws IOException {
    JsonLocation at = parser.currentTokenLocation();
    JsonLocation keyAt = key == null ? at : key;
    JsonToken token = parser.currentToken();
    Map<String, Node> map = null;
    List<Node> list = null;
    Object scalar = null;
    switch (token) {
      case START_OBJECT -> {
        map = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String name = parser.currentName();
          JsonLocation nameAt = parser.currentTokenLocation();
          parser.nextToken();
          Node child = node(parser, nameAt);
          if (map.containsKey(name)) {
            throw new ConfigFileException(
                file, nameAt.getLineNr(), nameAt.getColumnNr(), name, "is given twice");
          }
          map.put(name, child);
        }
      }
      case START_ARRAY -> {
        list = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          list.add(node(parser, null));
        }
      }
      case VALUE_STRING -> scalar = parser.getText();
      case VALUE_NUMBER_INT -> scalar = parser.getLongValue();
      case VALUE_NUMBER_FLOAT -> scalar = parser.getDoubleValue();
      case VALUE_TRUE -> scalar = true;
      case VALUE_FALSE -> scalar = false;
      case VALUE_NULL -> scalar = null;
      default ->
          throw new ConfigFileException(
              file, at.getLineNr(), at.getColumnNr(), "", "holds an unexpected " + token);
    }
    return new Node(
        scalar,
        map,
        list,
        at.getLineNr(),
        at.getColumnNr(),
        keyAt.getLineNr(),
        keyAt.getColumnNr());
  }
}
