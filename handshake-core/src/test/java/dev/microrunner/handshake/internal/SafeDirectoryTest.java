package dev.microrunner.handshake.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.handshake.HandshakeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeDirectoryTest {
  @TempDir Path base;
  private Path dir;
  private Path claims;
  private Path canary;

  @BeforeEach
  void setUp() throws IOException {
    dir = Files.createDirectory(base.resolve("loop"));
    claims = Files.createDirectory(base.resolve("claims"));
    canary = Files.writeString(base.resolve("canary"), "canary");
  }

  @Test
  void preCreatedTemporaryNamesAreSkippedNotFollowed() throws IOException {
    Iterator<String> nonces = List.of("taken1", "taken2", "free").iterator();
    Files.createSymbolicLink(dir.resolve(".3-a.trm.taken1.tmp"), canary);
    Files.writeString(dir.resolve(".3-a.trm.taken2.tmp"), "planted");
    SafeDirectory files = SafeDirectory.withPrivateClaims(dir, claims, nonces::next);

    files.writeAtomically("3-a.trm", "secret".getBytes(StandardCharsets.UTF_8));

    assertEquals("secret", Files.readString(dir.resolve("3-a.trm")));
    assertEquals("canary", Files.readString(canary));
    assertEquals("planted", Files.readString(dir.resolve(".3-a.trm.taken2.tmp")));
    assertTrue(Files.notExists(dir.resolve(".3-a.trm.free.tmp")));
  }

  @Test
  void givesUpWhenEveryTemporaryNameIsTaken() throws IOException {
    Files.writeString(dir.resolve(".3-a.trm.same.tmp"), "planted");
    SafeDirectory files = SafeDirectory.withPrivateClaims(dir, claims, () -> "same");

    var e =
        assertThrows(
            HandshakeException.class, () -> files.writeAtomically("3-a.trm", new byte[] {1}));

    assertTrue(e.getMessage().contains("3-a.trm"), e.getMessage());
    assertTrue(Files.notExists(dir.resolve("3-a.trm")));
  }

  /** The attacker knows the temporary name and keeps moving a FIFO onto it. */
  @Test
  void temporaryNameSwappedForAFifoNeverBlocksTheWriter() throws Exception {
    Path staging = Files.createDirectory(base.resolve("staging"));
    Path fifo = staging.resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    SafeDirectory files = SafeDirectory.withPrivateClaims(dir, claims, () -> "known");
    Path temporary = dir.resolve(".3-a.trm.known.tmp");
    var stop = new AtomicBoolean();
    Thread attacker =
        new Thread(
            () -> {
              for (int i = 0; !stop.get(); i++) {
                try {
                  Path name = Files.createLink(staging.resolve("fifo-" + i), fifo);
                  Files.move(name, temporary, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                  // keep attacking
                }
              }
            });
    attacker.setDaemon(true);
    attacker.start();

    try {
      assertTimeoutPreemptively(
          Duration.ofSeconds(30),
          () -> {
            for (int i = 0; i < 1000; i++) {
              Files.deleteIfExists(temporary);
              try {
                files.writeAtomically("3-a.trm", "secret".getBytes(StandardCharsets.UTF_8));
              } catch (HandshakeException e) {
                // every try met the planted name: refused, not blocked
              }
            }
          });
    } finally {
      stop.set(true);
      attacker.join(10_000);
    }
  }

  @Test
  void readsUpToTheBoundAndRejectsOneByteMore() throws IOException {
    SafeDirectory files = SafeDirectory.withPrivateClaims(dir, claims);
    Files.write(dir.resolve("ok"), new byte[16]);
    Files.write(dir.resolve("big"), new byte[17]);

    var ok = assertInstanceOf(ReadResult.Content.class, files.claimAndRead("ok", 16));
    assertArrayEquals(new byte[16], ok.bytes());
    assertInstanceOf(ReadResult.Unsafe.class, files.claimAndRead("big", 16));
    assertInstanceOf(ReadResult.Missing.class, files.claimAndRead("ok", 16));
    assertEquals(List.of(), list(claims));
    assertEquals(List.of(), list(dir));
  }

  @Test
  void sharedClaimsReadRegularFilesToo() throws IOException {
    SafeDirectory files = SafeDirectory.withSharedClaims(dir);
    Files.writeString(dir.resolve("x"), "hello");

    var content = assertInstanceOf(ReadResult.Content.class, files.claimAndRead("x", 100));

    assertEquals("hello", new String(content.bytes(), StandardCharsets.UTF_8));
    assertEquals(List.of(), list(dir));
  }

  /**
   * In the guest the claimed name stays in the shared directory. Here the attacker even knows it (a
   * fixed nonce) and keeps swapping it between a regular file, a symlink and a FIFO: reads still
   * never block and never follow.
   */
  @Test
  void sharedClaimSwappedUnderTheReaderNeverBlocks() throws Exception {
    int fifoCount = 3000;
    Path staging = Files.createDirectory(dir.resolve("staging"));
    var command = new ArrayList<>(List.of("mkfifo"));
    for (int i = 0; i < fifoCount; i++) {
      command.add(staging.resolve("fifo-" + i).toString());
    }
    assertEquals(0, new ProcessBuilder(command).start().waitFor());
    Files.writeString(canary, "secret");
    SafeDirectory files = SafeDirectory.withSharedClaims(dir, () -> "known");
    Path claimed = dir.resolve(".x.known.claimed");
    var stop = new AtomicBoolean();
    var swapped = new AtomicInteger();
    Thread attacker =
        new Thread(
            () -> {
              for (int i = 0; !stop.get() && i < fifoCount; i++) {
                try {
                  Path next =
                      i % 4 == 0
                          ? Files.createSymbolicLink(staging.resolve("link-" + i), canary)
                          : staging.resolve("fifo-" + i);
                  Files.move(next, claimed, StandardCopyOption.ATOMIC_MOVE);
                  swapped.incrementAndGet();
                } catch (IOException e) {
                  // keep attacking
                }
              }
            });
    attacker.setDaemon(true);
    attacker.start();

    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          while (attacker.isAlive()) {
            Files.writeString(dir.resolve("x"), "secret");
            ReadResult result = files.claimAndRead("x", 100);
            if (result instanceof ReadResult.Content content) {
              assertEquals("secret", new String(content.bytes(), StandardCharsets.UTF_8));
            }
          }
        });
    stop.set(true);
    attacker.join(10_000);

    assertTrue(swapped.get() > 0, "the attacker got to swap");
    assertEquals("secret", Files.readString(canary));
  }

  @Test
  void aMissingClaimDirectoryIsAnErrorNotAMissingFile() throws IOException {
    SafeDirectory files = SafeDirectory.withPrivateClaims(dir, base.resolve("gone"));
    Files.writeString(dir.resolve("x"), "content");

    var e = assertThrows(HandshakeException.class, () -> files.claimAndRead("x", 100));

    assertTrue(e.getMessage().contains("gone"), e.getMessage());
  }

  @Test
  void nonceIsSixteenAlphanumerics() {
    assertTrue(SafeDirectory.nonce().matches("[A-Za-z0-9]{16}"));
  }

  private static List<Path> list(Path directory) throws IOException {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.toList();
    }
  }
}
