package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CredentialsTest {

  private static final String TOKEN = "ghp_knownSecretValue1234567890abcdef";
  @TempDir Path dir;

  @Test
  void patFromFileIsTrimmedAndNeverShown() throws Exception {
    Path file = Files.writeString(dir.resolve("pat"), TOKEN + "\n");
    Credentials credentials = Credentials.patFromFile(file);
    assertEquals(TOKEN, ((PersonalAccessToken) credentials).token().reveal());
    assertFalse(credentials.toString().contains(TOKEN));
    assertFalse(((PersonalAccessToken) credentials).token().toString().contains(TOKEN));
  }

  @Test
  void missingOrEmptyTokenFilesNameTheFile() throws Exception {
    Path missing = dir.resolve("nope");
    InvalidCredentialsException e1 =
        assertThrows(InvalidCredentialsException.class, () -> Credentials.patFromFile(missing));
    assertTrue(e1.getMessage().contains(missing.toString()), e1.getMessage());
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    InvalidCredentialsException e2 =
        assertThrows(InvalidCredentialsException.class, () -> Credentials.patFromFile(empty));
    assertTrue(e2.getMessage().contains(empty.toString()) && e2.getMessage().contains("empty"));
  }

  @Test
  void secretFromFileIsItsOneLineSpacesIncluded() throws Exception {
    Path file = Files.writeString(dir.resolve("hook"), " two words \n");
    Secret secret = Secret.fromFile(file, "webhook secret file");
    assertEquals(" two words ", secret.reveal());
    assertFalse(secret.toString().contains("words"));
    assertEquals(
        "crlf", Secret.fromFile(Files.writeString(dir.resolve("crlf"), "crlf\r\n"), "x").reveal());
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    InvalidCredentialsException e1 =
        assertThrows(
            InvalidCredentialsException.class, () -> Secret.fromFile(empty, "webhook secret file"));
    assertTrue(e1.getMessage().startsWith("webhook secret file " + empty), e1.getMessage());
    Path twoLines = Files.writeString(dir.resolve("two"), "a\nb\n");
    assertThrows(InvalidCredentialsException.class, () -> Secret.fromFile(twoLines, "x"));
    assertThrows(
        InvalidCredentialsException.class, () -> Secret.fromFile(dir.resolve("nope"), "x"));
  }

  @Test
  void patFromEnvNamesTheVariable() throws Exception {
    assertEquals(
        TOKEN,
        ((PersonalAccessToken) Credentials.patFromEnv("RUNNER_PAT", Map.of("RUNNER_PAT", TOKEN)))
            .token()
            .reveal());
    InvalidCredentialsException e =
        assertThrows(
            InvalidCredentialsException.class,
            () -> Credentials.patFromEnv("RUNNER_PAT", Map.of()));
    assertTrue(e.getMessage().contains("RUNNER_PAT"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"pkcs1", "pkcs8"})
  void appJwtVerifiesWithThePublicKey(String format) throws Exception {
    KeyPair keys = TestSupport.rsaKeyPair();
    Path pem =
        format.equals("pkcs1")
            ? TestSupport.writePkcs1Pem(dir.resolve("app.pem"), keys)
            : TestSupport.writePkcs8Pem(dir.resolve("app.pem"), keys);
    if (format.equals("pkcs1")) {
      assertTrue(Files.readString(pem).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
    }
    GitHubAppCredentials app =
        assertInstanceOf(GitHubAppCredentials.class, Credentials.app("123456", pem));
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    String jwt = app.jwt(now).reveal();
    String[] parts = jwt.split("\\.", -1);
    assertEquals(3, parts.length);
    Signature verifier = Signature.getInstance("SHA256withRSA");
    verifier.initVerify(keys.getPublic());
    verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    assertTrue(verifier.verify(Base64.getUrlDecoder().decode(parts[2])), "signature");
    ObjectMapper json = new ObjectMapper();
    JsonNode header = json.readTree(Base64.getUrlDecoder().decode(parts[0]));
    JsonNode claims = json.readTree(Base64.getUrlDecoder().decode(parts[1]));
    assertEquals("RS256", header.path("alg").asText());
    assertEquals("123456", claims.path("iss").asText());
    assertEquals(now.getEpochSecond() - 60, claims.path("iat").asLong());
    assertEquals(now.getEpochSecond() + 540, claims.path("exp").asLong());
    assertFalse(app.toString().contains(jwt));
  }

  @Test
  void malformedKeyFilesGiveAClearErrorNamingTheFile() throws Exception {
    Path notPem = Files.writeString(dir.resolve("key.pem"), "hello\n");
    InvalidCredentialsException e1 =
        assertThrows(InvalidCredentialsException.class, () -> Credentials.app("1", notPem));
    assertTrue(e1.getMessage().contains(notPem.toString()), e1.getMessage());
    assertTrue(e1.getMessage().contains("BEGIN RSA PRIVATE KEY"), e1.getMessage());

    Path garbage =
        Files.writeString(
            dir.resolve("garbage.pem"),
            "-----BEGIN RSA PRIVATE KEY-----\nAAAABBBBCCCC\n-----END RSA PRIVATE KEY-----\n");
    InvalidCredentialsException e2 =
        assertThrows(InvalidCredentialsException.class, () -> Credentials.app("1", garbage));
    assertTrue(e2.getMessage().contains(garbage.toString()), e2.getMessage());
    assertTrue(e2.getMessage().contains("valid RSA private key"), e2.getMessage());

    Path missing = dir.resolve("missing.pem");
    InvalidCredentialsException e3 =
        assertThrows(InvalidCredentialsException.class, () -> Credentials.app("1", missing));
    assertTrue(e3.getMessage().contains(missing.toString()), e3.getMessage());
  }

  @Test
  void theClientNeverShowsItsToken() {
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                GitHubTarget.of("github.com"),
                RunnerScope.of("repo", "octo/hello"),
                Credentials.pat(Secret.of(TOKEN)))
            .build();
    assertFalse(client.toString().contains(TOKEN), client.toString());
    assertTrue(client.toString().contains("octo/hello"), client.toString());
    assertEquals("Secret[redacted]", Secret.of(TOKEN).toString());
  }

  @Test
  void enterpriseScopeRefusesGitHubApps() throws Exception {
    Path pem = TestSupport.writePkcs8Pem(dir.resolve("app.pem"), TestSupport.rsaKeyPair());
    Credentials app = Credentials.app("Iv1.abc", pem);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                GitHubRunnerClient.builder(
                    GitHubTarget.of("github.com"), RunnerScope.of("enterprise", "big"), app));
    assertTrue(e.getMessage().contains("manage_runners:enterprise"), e.getMessage());
  }
}
