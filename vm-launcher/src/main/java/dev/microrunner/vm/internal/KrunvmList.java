package dev.microrunner.vm.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses {@code krunvm list}: "No microVMs found", or per VM a blank line, the name on its own
 * line, then indented {@code Key: value} lines. Defensive: unknown keys, missing blank lines, stray
 * lines before the first name and trailing whitespace are tolerated.
 */
final class KrunvmList {
  record Vm(String name, Map<String, String> fields) {}

  private KrunvmList() {}

  static List<Vm> parse(List<String> lines) {
    List<Vm> vms = new ArrayList<>();
    String name = null;
    Map<String, String> fields = new LinkedHashMap<>();
    for (String raw : lines) {
      String line = raw.stripTrailing();
      if (line.isBlank() || line.strip().equals("No microVMs found")) {
        continue;
      }
      boolean indented = Character.isWhitespace(line.charAt(0));
      int colon = line.indexOf(": ");
      if (indented && colon > 0) {
        if (name != null) {
          fields.put(line.substring(0, colon).strip(), line.substring(colon + 2).strip());
        }
        continue;
      }
      if (!indented && !line.contains(" ")) {
        if (name != null) {
          vms.add(new Vm(name, Map.copyOf(fields)));
        }
        name = line;
        fields = new LinkedHashMap<>();
      }
    }
    if (name != null) {
      vms.add(new Vm(name, Map.copyOf(fields)));
    }
    return vms;
  }
}
