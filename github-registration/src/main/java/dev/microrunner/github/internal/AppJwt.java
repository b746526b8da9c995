package dev.microrunner.github.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/** GitHub App JSON web tokens (RS256), signed with the JDK. */
public final class AppJwt {

  /** GitHub recommends 60 s in the past against clock drift. */
  public static final Duration ISSUED_BEFORE = Duration.ofSeconds(60);

  /** GitHub accepts at most 10 minutes; 9 leaves room for drift. */
  public static final Duration LIFETIME = Duration.ofMinutes(9);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private AppJwt() {}

  public static String sign(PrivateKey key, String issuer, Instant now) {
    ObjectNode header = JSON.createObjectNode().put("alg", "RS256").put("typ", "JWT");
    ObjectNode claims =
        JSON.createObjectNode()
            .put("iat", now.minus(ISSUED_BEFORE).getEpochSecond())
            .put("exp", now.plus(LIFETIME).getEpochSecond())
            .put("iss", issuer);
    String signingInput = encode(header) + "." + encode(claims);
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key);
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + BASE64URL.encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign the GitHub App JWT with RS256", e);
    }
  }

  private static String encode(ObjectNode node) {
    try {
      return BASE64URL.encodeToString(JSON.writeValueAsBytes(node));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
