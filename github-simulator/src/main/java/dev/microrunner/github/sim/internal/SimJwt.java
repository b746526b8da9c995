package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/** Verifies GitHub App JWTs as GitHub does: RS256 signature, iss, iat and exp at most 10 min. */
final class SimJwt {

  private static final long MAX_LIFETIME_SECONDS = 600;
  private static final long ALLOWED_DRIFT_SECONDS = 60;

  private SimJwt() {}

  static Optional<SimStore.App> verify(String jwt, Map<String, SimStore.App> apps, Instant now) {
    String[] parts = jwt.split("\\.", -1);
    if (parts.length != 3) {
      return Optional.empty();
    }
    try {
      Base64.Decoder decoder = Base64.getUrlDecoder();
      JsonNode header = JSON.readTree(decoder.decode(parts[0]));
      JsonNode claims = JSON.readTree(decoder.decode(parts[1]));
      if (!header.path("alg").asText().equals("RS256")) {
        return Optional.empty();
      }
      SimStore.App app = apps.get(claims.path("iss").asText());
      if (app == null
          || !claims.path("iat").isIntegralNumber()
          || !claims.path("exp").isIntegralNumber()) {
        return Optional.empty();
      }
      long iat = claims.path("iat").asLong();
      long exp = claims.path("exp").asLong();
      long nowSeconds = now.getEpochSecond();
      if (iat > nowSeconds + ALLOWED_DRIFT_SECONDS
          || exp <= nowSeconds
          || exp > nowSeconds + MAX_LIFETIME_SECONDS
          || exp - iat > MAX_LIFETIME_SECONDS + ALLOWED_DRIFT_SECONDS) {
        return Optional.empty();
      }
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initVerify(app.publicKey());
      signature.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      return signature.verify(decoder.decode(parts[2])) ? Optional.of(app) : Optional.empty();
    } catch (GeneralSecurityException | IllegalArgumentException | java.io.IOException e) {
      return Optional.empty();
    }
  }
}
