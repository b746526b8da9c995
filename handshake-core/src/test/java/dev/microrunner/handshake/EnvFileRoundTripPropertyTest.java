package dev.microrunner.handshake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class EnvFileRoundTripPropertyTest {

  @Property(tries = 2000)
  void everyAcceptedValueRoundTrips(@ForAll String value) {
    Map<String, String> values = Map.of(EnvFile.RUNNER_JITCONFIG, value);
    String rendered;
    try {
      rendered = EnvFile.render(values);
    } catch (IllegalArgumentException rejected) {
      // The only values the writer may refuse are those no file can carry.
      assertEquals(true, !isValidUnicode(value) || value.indexOf('\0') >= 0, value);
      return;
    }
    assertEquals(values, EnvFile.parse(rendered));
  }

  @Property(tries = 500)
  void manyEntriesRoundTripInOrder(@ForAll("entries") Map<String, String> entries) {
    var values = new LinkedHashMap<>(entries);

    assertEquals(
        values.entrySet().stream().toList(),
        EnvFile.parse(EnvFile.render(values)).entrySet().stream().toList());
  }

  @Property(tries = 500)
  void valuesWithNulAreRejected(@ForAll("values") String prefix, @ForAll("values") String suffix) {
    assertThrows(
        IllegalArgumentException.class, () -> EnvFile.render(Map.of("K", prefix + '\0' + suffix)));
  }

  @Provide
  Arbitrary<Map<String, String>> entries() {
    return Arbitraries.maps(keys(), values()).ofMaxSize(12);
  }

  private Arbitrary<String> keys() {
    return Arbitraries.strings()
        .withCharRange('A', 'Z')
        .withChars('_')
        .ofMinLength(1)
        .ofMaxLength(20);
  }

  @Provide
  Arbitrary<String> values() {
    return Arbitraries.oneOf(
        Arbitraries.strings().withChars("'\\\"$`\n\r\t ;#=()*?").ofMaxLength(30),
        Arbitraries.strings()
            .all()
            .excludeChars('\0')
            .ofMaxLength(30)
            .filter(EnvFileRoundTripPropertyTest::isValidUnicode),
        Arbitraries.strings().withCharRange('\u0080', '\ud7ff').ofMaxLength(30));
  }

  private static boolean isValidUnicode(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
