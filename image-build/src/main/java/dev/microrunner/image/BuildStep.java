package dev.microrunner.image;

import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** One image build: the image it produces and the exact command that builds it. */
public record BuildStep(String image, List<String> argv) {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=,@%+-]+");

  public BuildStep {
    argv = List.copyOf(argv);
  }

  /** The command as a POSIX shell would need it typed: what {@code --dry-run} prints. */
  public String commandLine() {
    return argv.stream().map(BuildStep::shellQuote).collect(Collectors.joining(" "));
  }

  private static String shellQuote(String word) {
    if (PLAIN.matcher(word).matches()) {
      return word;
    }
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
