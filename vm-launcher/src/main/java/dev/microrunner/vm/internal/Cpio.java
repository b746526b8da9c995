package dev.microrunner.vm.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs.
 * Entries are owned by root; names are relative ({@code bin/busybox}).
 */
final class Cpio implements AutoCloseable {
  private static final int DIRECTORY = 0040000;
  private static final int REGULAR = 0100000;
  private static final int SYMLINK = 0120000;

  private final OutputStream out;
  private long written;
  private int inode = 1;

  Cpio(OutputStream out) {
    this.out = out;
  }

  void directory(String name) throws IOException {
    entry(name, DIRECTORY | 0755, 2, new byte[0]);
  }

  void file(String name, int permissions, byte[] content) throws IOException {
    entry(name, REGULAR | permissions, 1, content);
  }

  void symlink(String name, String target) throws IOException {
    entry(name, SYMLINK | 0777, 1, target.getBytes(StandardCharsets.UTF_8));
  }

  private void entry(String name, int mode, int links, byte[] content) throws IOException {
    byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
    StringBuilder header = new StringBuilder("070701");
    long[] fields = {
      inode++, mode, 0, 0, links, 0, content.length, 0, 0, 0, 0, nameBytes.length, 0
    };
    for (long field : fields) {
      header.append(String.format("%08x", field));
    }
    write(header.toString().getBytes(StandardCharsets.US_ASCII));
    write(nameBytes);
    pad();
    write(content);
    pad();
  }

  private void write(byte[] bytes) throws IOException {
    out.write(bytes);
    written += bytes.length;
  }

  private void pad() throws IOException {
    while (written % 4 != 0) {
      out.write(0);
      written++;
    }
  }

  /** Writes the trailer; does not close the stream. */
  @Override
  public void close() throws IOException {
    entry("TRAILER!!!", 0, 1, new byte[0]);
    out.flush();
  }
}
