package dev.microrunner.cli.fleet;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Asks a running orchestrator for its status over its socket ({@link StatusServer}). */
public final class StatusClient {

  /** The status JSON is small; a larger answer is not an orchestrator's. */
  private static final int MAXIMUM_ANSWER = 4 * 1024 * 1024;

  private StatusClient() {}

  /** The orchestrator's status JSON. */
  public static String fetch(Path socket) throws IOException {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      try (InputStream in = Channels.newInputStream(channel)) {
        byte[] answer = in.readNBytes(MAXIMUM_ANSWER + 1);
        if (answer.length > MAXIMUM_ANSWER) {
          throw new IOException(socket + " answered more than " + MAXIMUM_ANSWER + " bytes");
        }
        return new String(answer, StandardCharsets.UTF_8);
      }
    }
  }

  /** Whether a process answers on {@code socket}. */
  static boolean answers(Path socket) {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
