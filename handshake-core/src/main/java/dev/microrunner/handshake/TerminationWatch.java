package dev.microrunner.handshake;

/** A running poll for the terminate file; closing it stops the poll. */
public interface TerminationWatch extends AutoCloseable {
  @Override
  void close();
}
