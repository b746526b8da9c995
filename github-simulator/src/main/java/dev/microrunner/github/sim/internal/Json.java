package dev.microrunner.github.sim.internal;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The simulator's JSON mapper, shared: it is never reconfigured, so it is thread-safe. */
final class Json {

  static final ObjectMapper JSON = new ObjectMapper();

  private Json() {}
}
