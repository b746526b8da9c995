package dev.microrunner.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest (absent when run from classes). */
public final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {"microrunner " + version()};
  }

  /** The jar's version, or {@code development build}. */
  static String version() {
    String version = MicrorunnerCommand.class.getPackage().getImplementationVersion();
    return version == null ? "development build" : version;
  }
}
