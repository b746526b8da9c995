package dev.microrunner.vm.internal;

import java.util.regex.Pattern;

/** Masks credentials in text that goes into exception messages and logs. */
public final class Redaction {
  static final String MASK = "***";

  /** GitHub token shapes: classic and fine-grained PATs, OAuth, app installation and refresh. */
  private static final Pattern GITHUB_TOKEN =
      Pattern.compile("\\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\\b");

  private Redaction() {}

  public static String githubTokens(String text) {
    return GITHUB_TOKEN.matcher(text).replaceAll(MASK);
  }
}
