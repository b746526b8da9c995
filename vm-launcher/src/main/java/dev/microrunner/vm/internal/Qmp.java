package dev.microrunner.vm.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One QMP command to a QEMU over its unix socket: the greeting, {@code qmp_capabilities}, then the
 * command; events in between are skipped. Bounded by a timeout: a hung QEMU must not hang a stop.
 */
final class Qmp {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Qmp() {}

  /** Runs {@code command}; whether QEMU answered with {@code return} within {@code timeout}. */
  static boolean execute(Path socket, String command, Duration timeout) {
    SocketChannel channel;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    } catch (IOException e) {
      return false;
    }
    CompletableFuture<Boolean> exchange =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                channel.connect(UnixDomainSocketAddress.of(socket));
                readMessage(channel, "QMP");
                send(channel, "{\"execute\":\"qmp_capabilities\"}");
                readMessage(channel, "return");
                send(channel, "{\"execute\":\"" + command + "\"}");
                readMessage(channel, "return");
                return true;
              } catch (IOException e) {
                return false;
              }
            });
    try {
      return exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      try {
        channel.close();
      } catch (IOException e) {
        // closing unblocks the exchange; nothing else to do
      }
    }
  }

  private static void send(SocketChannel channel, String message) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap((message + "\n").getBytes(StandardCharsets.UTF_8));
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** Reads lines until one is an object with the field {@code key}; errors end the exchange. */
  private static void readMessage(SocketChannel channel, String key) throws IOException {
    while (true) {
      JsonNode message = JSON.readTree(readLine(channel));
      if (message.has(key)) {
        return;
      }
      if (message.has("error")) {
        throw new IOException("QMP error: " + message.get("error"));
      }
    }
  }

  private static String readLine(SocketChannel channel) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (line.size() < 1 << 20) {
      one.clear();
      if (channel.read(one) < 0) {
        throw new IOException("QMP connection closed");
      }
      byte b = one.get(0);
      if (b == '\n') {
        return line.toString(StandardCharsets.UTF_8);
      }
      line.write(b);
    }
    throw new IOException("QMP line too long");
  }
}
