package dev.microrunner.handshake.internal;

/** Quotes untrusted text for messages so that control characters cannot forge log lines. */
public final class Printable {
  private static final int MAX_SHOWN = 80;

  private Printable() {}

  public static String quote(String text) {
    var out = new StringBuilder("\"");
    int shown = Math.min(text.length(), MAX_SHOWN);
    for (int i = 0; i < shown; i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && Character.isISOControl(c))) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('"');
    if (text.length() > MAX_SHOWN) {
      out.append(" (").append(text.length()).append(" characters, truncated)");
    }
    return out.toString();
  }
}
