package dev.microrunner.vm.internal;

import java.util.regex.Pattern;

/**
 * Masks anything shaped like a GitHub token in text that goes into exception messages and logs: the
 * runtimes' default redactor, which knows no particular secret.
 */
public final class GitHubTokenMask {
  static final String MASK = "***";

  /** GitHub token shapes: classic and fine-grained PATs, OAuth, app installation and refresh. */
  private static final Pattern GITHUB_TOKEN =
      Pattern.compile("\\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\\b");

  private GitHubTokenMask() {}

  /** {@code text} with every GitHub token shape replaced by {@value #MASK}. */
  public static String mask(String text) {
    return GITHUB_TOKEN.matcher(text).replaceAll(MASK);
  }
}
