package dev.microrunner.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest (absent when run from classes). */
public final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = MicrorunnerCommand.class.getPackage().getImplementationVersion();
    return new String[] {"microrunner " + (version == null ? "development build" : version)};
  }
}
