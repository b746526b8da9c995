package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.PersonalAccessToken;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.Scaling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration file: what it makes, and where each kind of error points. */
class FleetFileTest {

  private static final String TOKEN = "ghp_" + "Fl33tF1leT0kenForTestsOnly00000000abc";

  @TempDir Path work;
  private Path tokenFile;
  private Map<String, String> environment;
  private final Redactor redactor = new Redactor();

  @BeforeEach
  void setUp() throws Exception {
    tokenFile = work.resolve("pat");
    Files.writeString(tokenFile, TOKEN + "\n");
    Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
    Path credentials = Files.createDirectory(work.resolve("credentials"));
    Files.copy(tokenFile, credentials.resolve("github-pat"));
    environment =
        Map.of(
            "CREDENTIALS_DIRECTORY", credentials.toString(), "MY_TOKEN", TOKEN, "HOME", "/nowhere");
  }

  private FleetFile.Fleet read(String yaml, String... commandLine) throws Exception {
    Path file = work.resolve("fleet.yaml");
    Files.writeString(file, yaml);
    return new FleetFile(file, environment, redactor, List.of(commandLine)).read();
  }

  private ConfigFileException error(String yaml) throws Exception {
    Path file = work.resolve("fleet.yaml");
    Files.writeString(file, yaml);
    return assertThrows(
        ConfigFileException.class,
        () -> new FleetFile(file, environment, redactor, List.of()).read());
  }

  private String pool(String extra) {
    return """
        defaults:
          principal: octo/hello
          token-file: %s
        pools:
          - name: a
            loops: 2
        %s
        """
        .formatted(tokenFile, extra.indent(4).stripTrailing());
  }

  @Test
  void theSampleInDocsLoadsWithItsTwoPools() {
    FleetFile.Fleet fleet =
        new FleetFile(Path.of("../docs/fleet.yaml"), environment, redactor, List.of()).read();

    assertEquals(List.of("small", "big"), fleet.pools().stream().map(Pool::name).toList());
    Pool small = fleet.pools().get(0);
    Pool big = fleet.pools().get(1);
    assertEquals(4, small.loops());
    assertEquals(2, big.loops());
    assertEquals(List.of("self-hosted", "linux", "krun", "big"), big.runner().labels());
    assertEquals("linux-big", big.runner().group());
    assertEquals(8, big.runner().vm().cpus());
    assertEquals(16384, big.runner().vm().memoryMib());
    assertEquals(4096, small.runner().vm().memoryMib());
    assertEquals(RunnerScope.of("org", "my-org"), small.runner().scope());
    assertEquals(Map.of("TZ", "UTC"), small.runner().vm().environment());
    assertEquals(Optional.of(java.time.Duration.ofDays(1)), big.runner().lifetime());
    assertEquals(TOKEN, ((PersonalAccessToken) small.runner().credentials()).token().reveal());
    assertEquals(Optional.of("ci-runners"), fleet.string("prefix"));
    assertEquals(Optional.of(2L), fleet.integer("parallel-start"));
    assertEquals("***", redactor.redact(TOKEN), "the token is masked once read");
  }

  @Test
  void aPoolsOwnKeysWinOverTheCommandLineWhichWinsOverDefaults() throws Exception {
    FleetFile.Fleet fleet =
        read(
            """
            defaults:
              principal: octo/hello
              token-env: MY_TOKEN
              cpus: 3
              memory: 2048
              env: {A: "1"}
            pools:
              - name: a
                memory: 4096
                env: {B: "2"}
              - name: b
                runtime: process
            """,
            "--cpus",
            "5",
            "--memory",
            "3000");

    Pool a = fleet.pools().get(0);
    Pool b = fleet.pools().get(1);
    assertEquals(5, a.runner().vm().cpus());
    assertEquals(4096, a.runner().vm().memoryMib());
    assertEquals(3000, b.runner().vm().memoryMib());
    assertEquals(Map.of("A", "1", "B", "2"), a.runner().vm().environment());
    assertEquals(Optional.empty(), a.runtime());
    assertEquals(Optional.of("process"), b.runtime());
    assertEquals(1, a.loops());
  }

  @Test
  void unknownKeysNameTheirPlaceAndPath() throws Exception {
    ConfigFileException top = error("pools: []\nextra: 1\n");
    assertEquals(2, top.line());
    assertEquals(1, top.column());
    assertEquals("extra", top.path());

    ConfigFileException orchestrator = error("orchestrator:\n  prefix: x\n  loopz: 3\npools: []\n");
    assertEquals("orchestrator.loopz", orchestrator.path());
    assertEquals(3, orchestrator.line());
    assertEquals(3, orchestrator.column());

    ConfigFileException inPool = error(pool("memroy: 4096"));
    assertEquals("pools[0].memroy", inPool.path());
    assertEquals(7, inPool.line());
    assertEquals(5, inPool.column());
    assertTrue(
        inPool.getMessage().startsWith(work.resolve("fleet.yaml") + ":7:5: pools[0].memroy: "),
        inPool.getMessage());
  }

  @Test
  void wrongTypesNameTheValue() throws Exception {
    ConfigFileException memory = error(pool("memory: lots"));
    assertEquals("pools[0].memory", memory.path());
    assertEquals(7, memory.line());
    assertEquals(13, memory.column());
    assertTrue(memory.problem().contains("must be an integer, not 'lots'"), memory.problem());

    ConfigFileException labels = error(pool("labels: {a: b}"));
    assertEquals("pools[0].labels", labels.path());
    assertTrue(labels.problem().contains("must be a list"), labels.problem());

    ConfigFileException pools = error("pools: {a: 1}\n");
    assertEquals("pools", pools.path());
    assertEquals(1, pools.line());
  }

  @Test
  void impossibleValuesNameTheKeyThatGaveThem() throws Exception {
    ConfigFileException memory = error(pool("memory: 10"));
    assertEquals("pools[0].memory", memory.path());
    assertEquals(7, memory.line());
    assertEquals(5, memory.column());
    assertTrue(memory.problem().contains("at least 64 MiB"), memory.problem());

    ConfigFileException inherited =
        error(
            """
            defaults:
              principal: octo/hello
              token-file: %s
              cpus: 0
            pools:
              - name: a
            """
                .formatted(tokenFile));
    assertEquals("defaults.cpus", inherited.path());
    assertEquals(4, inherited.line());

    ConfigFileException name = error(pool("").replace("name: a", "name: Big_Pool"));
    assertEquals("pools[0].name", name.path());

    ConfigFileException loops = error(pool("").replace("loops: 2", "loops: 0"));
    assertEquals("pools[0].loops", loops.path());

    ConfigFileException scope = error(pool("scope: galaxy"));
    assertEquals("pools[0].scope", scope.path());

    ConfigFileException start = error("orchestrator:\n  parallel-start: 0\npools: []\n");
    assertEquals("orchestrator.parallel-start", start.path());
  }

  @Test
  void aPoolWithMinIdleAndMaxFollowsDemandAndItsMistakesArePlaced() throws Exception {
    String scaled = pool("").replace("loops: 2", "min-idle: 1\n    max: 6\n    idle-timeout: 90");
    Pool pool = read(scaled).pools().get(0);
    assertEquals(Optional.of(new Scaling(1, 6, Duration.ofSeconds(90))), pool.scaling(), "" + pool);
    assertEquals(1, pool.loops(), "starts with min-idle loops");
    assertEquals(6, pool.maxVms());

    Pool defaulted = read(pool("").replace("loops: 2", "max: 3")).pools().get(0);
    assertEquals(Optional.of(new Scaling(0, 3, Scaling.DEFAULT_IDLE_TIMEOUT)), defaulted.scaling());

    ConfigFileException both = error(pool("max: 4"));
    assertEquals("pools[0].loops", both.path());
    assertTrue(both.problem().contains("not both"), both.problem());

    ConfigFileException belowMinIdle =
        error(pool("").replace("loops: 2", "min-idle: 5\n    max: 2"));
    assertEquals("pools[0].max", belowMinIdle.path());
    assertEquals(7, belowMinIdle.line());
    assertTrue(belowMinIdle.problem().contains("at least min-idle (5)"), belowMinIdle.problem());

    ConfigFileException noMax = error(pool("").replace("loops: 2", "min-idle: 1"));
    assertEquals("pools[0].max", noMax.path());

    ConfigFileException timeout =
        error(pool("").replace("loops: 2", "max: 2\n    idle-timeout: soon"));
    assertEquals("pools[0].idle-timeout", timeout.path());

    ConfigFileException inDefaults =
        error(
            """
            defaults:
              principal: octo/hello
              token-file: %s
              max: 3
            pools:
              - name: a
            """
                .formatted(tokenFile));
    assertEquals("defaults.max", inDefaults.path());
  }

  @Test
  void missingAndDuplicatedThingsArePlaced() throws Exception {
    ConfigFileException principal =
        error("defaults:\n  token-file: " + tokenFile + "\npools:\n  - name: a\n");
    assertEquals("pools[0].principal", principal.path());
    assertEquals(4, principal.line());

    ConfigFileException noPools = error("defaults:\n  cpus: 2\n");
    assertEquals("pools", noPools.path());

    ConfigFileException twice = error(pool("") + "  - name: a\n");
    assertEquals("pools[1].name", twice.path());
    assertTrue(twice.problem().contains("pools[0]"), twice.problem());

    ConfigFileException key = error("pools: []\npools: []\n");
    assertEquals(2, key.line());
    assertTrue(key.problem().contains("twice"), key.problem());

    ConfigFileException credentials =
        error("defaults:\n  principal: octo/hello\npools:\n  - name: a\n");
    assertEquals("pools[0]", credentials.path());
    assertTrue(credentials.problem().contains("names no credentials"), credentials.problem());
  }

  @Test
  void credentialsAreNeverInlineAndTheirSourcesAreChecked() throws Exception {
    ConfigFileException pat = error(pool("pat: " + TOKEN));
    assertEquals("pools[0].pat", pat.path());
    assertFalse(pat.getMessage().contains(TOKEN), pat.getMessage());

    ConfigFileException secret = error(pool("secret: abcdefghijklmnopqrstuvwxyz"));
    assertEquals("pools[0].secret", secret.path());

    ConfigFileException unset = error(pool("token-env: NOT_SET_ANYWHERE"));
    assertEquals("pools[0].token-env", unset.path());

    ConfigFileException missingFile = error(pool("token-file: /nonexistent/pat"));
    assertEquals("pools[0].token-file", missingFile.path());

    ConfigFileException both =
        error(
            pool("token-env: MY_TOKEN\ntoken-credential: github-pat")
                .replace("  token-file: " + tokenFile + "\n", ""));
    assertTrue(both.problem().contains("twice"), both.problem());

    FleetFile.Fleet fromCredential =
        read(pool("token-credential: github-pat").replace("  token-file: " + tokenFile + "\n", ""));
    assertEquals(
        TOKEN,
        ((PersonalAccessToken) fromCredential.pools().get(0).runner().credentials())
            .token()
            .reveal());
  }

  @Test
  void yamlSyntaxErrorsNameTheirPlace() throws Exception {
    ConfigFileException syntax = error("pools:\n  - name: a\n   loops: [1,\n");
    assertTrue(syntax.line() >= 2, "" + syntax.line());
    assertTrue(syntax.problem().startsWith("is not valid YAML"), syntax.problem());

    ConfigFileException empty = error("");
    assertTrue(empty.problem().contains("empty"), empty.problem());

    ConfigFileException missing =
        assertThrows(
            ConfigFileException.class,
            () ->
                new FleetFile(work.resolve("nope.yaml"), environment, redactor, List.of()).read());
    assertTrue(missing.getMessage().endsWith("nope.yaml: does not exist"), missing.getMessage());
  }
}
