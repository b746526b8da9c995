package dev.microrunner.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import dev.microrunner.loop.Redactor;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Logback set up by the command line: stderr or a file, a level from {@code -v}, and every line
 * passed through the command's {@link Redactor} so that no known secret reaches it.
 */
final class Logging {

  private static volatile boolean stackTraces;

  private Logging() {}

  /** Whether errors are shown with their stack traces ({@code --stacktrace} or {@code -vvv}). */
  static boolean stackTraces() {
    return stackTraces;
  }

  /**
   * @param verbosity 0: info; 1: debug for microrunner; 2: trace; 3: and stack traces
   * @param file where to log; stderr when absent
   */
  static void configure(
      int verbosity, Optional<Path> file, boolean showStackTraces, Redactor redactor) {
    stackTraces = showStackTraces || verbosity >= 3;
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(verbosity >= 2 ? Level.DEBUG : Level.INFO);
    root.addAppender(appender(context, file, redactor));
    Level own = verbosity >= 2 ? Level.TRACE : verbosity == 1 ? Level.DEBUG : Level.INFO;
    context.getLogger("dev.microrunner").setLevel(own);
    // The JDK's HTTP client logs request details at debug; they are never needed here.
    context.getLogger("jdk.internal.httpclient").setLevel(Level.INFO);
  }

  /** Warnings and errors on stderr: what holds until {@link #configure} ran. */
  static void configureStartup(LoggerContext context) {
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(appender(context, Optional.empty(), new Redactor()));
  }

  private static OutputStreamAppender<ILoggingEvent> appender(
      LoggerContext context, Optional<Path> file, Redactor redactor) {
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    layout.getInstanceConverterMap().put("rmsg", () -> new RedactingMessageConverter(redactor));
    layout.getInstanceConverterMap().put("rex", () -> new RedactingThrowableConverter(redactor));
    String exception = stackTraces ? "%rex" : "%nopex";
    layout.setPattern(
        file.isPresent()
            ? "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{24}: %rmsg%n" + exception
            : "%d{HH:mm:ss.SSS} %-5level %logger{0}: %rmsg%n" + exception);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();

    OutputStreamAppender<ILoggingEvent> appender;
    if (file.isPresent()) {
      FileAppender<ILoggingEvent> fileAppender = new FileAppender<>();
      fileAppender.setFile(file.get().toString());
      fileAppender.setAppend(true);
      appender = fileAppender;
    } else {
      ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
      console.setTarget("System.err");
      appender = console;
    }
    appender.setContext(context);
    appender.setName("main");
    appender.setEncoder(encoder);
    appender.start();
    return appender;
  }

  /** Shows only errors from these loggers, for commands whose own output tells the story. */
  static void errorsOnly(String... loggerNames) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    for (String name : loggerNames) {
      context.getLogger(name).setLevel(Level.ERROR);
    }
  }

  /** {@code %rmsg}: the message with known secrets masked. */
  static final class RedactingMessageConverter extends MessageConverter {
    private final Redactor redactor;

    RedactingMessageConverter(Redactor redactor) {
      this.redactor = redactor;
    }

    @Override
    public String convert(ILoggingEvent event) {
      return redactor.redact(super.convert(event));
    }
  }

  /** {@code %rex}: the stack trace with known secrets masked. */
  static final class RedactingThrowableConverter extends ThrowableProxyConverter {
    private final Redactor redactor;

    RedactingThrowableConverter(Redactor redactor) {
      this.redactor = redactor;
    }

    @Override
    public String convert(ILoggingEvent event) {
      return redactor.redact(super.convert(event));
    }
  }
}
