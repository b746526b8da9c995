package dev.microrunner.vm;

/**
 * Receives a VM's console output, one line at a time, without the line terminator. Called from the
 * runtime's stream-pumping threads: implementations must be thread-safe and must not block.
 */
@FunctionalInterface
public interface ConsoleListener {
  ConsoleListener IGNORE = (vmName, line) -> {};

  void line(String vmName, String line);
}
