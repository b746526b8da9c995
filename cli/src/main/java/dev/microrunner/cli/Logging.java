package dev.microrunner.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.LoggerContextVO;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import dev.microrunner.loop.Redactor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;

/**
 * Logback set up by the command line: stderr or a file, a level from {@code -v}, and every line
 * passed through the command's {@link Redactor} so that no known secret reaches it.
 */
final class Logging {

  private static volatile boolean stackTraces;

  /** How log lines are written. */
  enum Format {
    /** Lines for people, as ever. */
    TEXT,
    /**
     * One JSON object per line (logback's JsonEncoder), the loop's pool, loop and runner in mdc.
     */
    JSON
  }

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
    configure(verbosity, file, showStackTraces, redactor, Format.TEXT);
  }

  static void configure(
      int verbosity,
      Optional<Path> file,
      boolean showStackTraces,
      Redactor redactor,
      Format format) {
    stackTraces = showStackTraces || verbosity >= 3;
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(verbosity >= 2 ? Level.DEBUG : Level.INFO);
    root.addAppender(appender(context, file, redactor, format));
    Level own = verbosity >= 2 ? Level.TRACE : verbosity == 1 ? Level.DEBUG : Level.INFO;
    context.getLogger("dev.microrunner").setLevel(own);
    // The JDK's HTTP client logs request details at debug; they are never needed here.
    context.getLogger("jdk.internal.httpclient").setLevel(Level.INFO);
  }

  /** Warnings and errors on stderr: what holds until {@link #configure} ran. */
  static void configureStartup(LoggerContext context) {
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(appender(context, Optional.empty(), new Redactor(), Format.TEXT));
  }

  private static OutputStreamAppender<ILoggingEvent> appender(
      LoggerContext context, Optional<Path> file, Redactor redactor, Format format) {
    Encoder<ILoggingEvent> encoder =
        format == Format.JSON
            ? jsonEncoder(context, redactor)
            : textEncoder(context, file, redactor);
    return appenderFor(context, file, encoder);
  }

  /**
   * Logback's own JSON encoder: timestamp, level, thread, logger, the message with every known
   * secret masked, and the MDC (pool, loop, runner). The raw message pattern, its arguments and the
   * throwable are left out, since they would carry secrets past the redactor; a failure is appended
   * to the message (with its stack trace when they are shown), masked like it.
   */
  private static Encoder<ILoggingEvent> jsonEncoder(LoggerContext context, Redactor redactor) {
    JsonEncoder json =
        new JsonEncoder() {
          @Override
          public byte[] encode(ILoggingEvent event) {
            return super.encode(new RedactedEvent(event, redactor));
          }
        };
    json.setContext(context);
    json.setWithContext(false);
    json.setWithSequenceNumber(false);
    json.setWithNanoseconds(false);
    json.setWithMessage(false);
    json.setWithArguments(false);
    json.setWithThrowable(false);
    json.setWithKVPList(false);
    json.setWithMarkers(false);
    json.setWithFormattedMessage(true);
    json.setWithMDC(true);
    json.start();
    return json;
  }

  private static Encoder<ILoggingEvent> textEncoder(
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
    return encoder;
  }

  private static OutputStreamAppender<ILoggingEvent> appenderFor(
      LoggerContext context, Optional<Path> file, Encoder<ILoggingEvent> encoder) {
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

  /**
   * An event whose message has every known secret masked, with its failure (masked too) appended,
   * and no arguments or throwable for an encoder to write unmasked.
   */
  private static final class RedactedEvent implements ILoggingEvent {
    private final ILoggingEvent event;
    private final String message;

    RedactedEvent(ILoggingEvent event, Redactor redactor) {
      this.event = event;
      IThrowableProxy failure = event.getThrowableProxy();
      String text = event.getFormattedMessage();
      if (failure != null) {
        text +=
            stackTraces
                ? System.lineSeparator() + ThrowableProxyUtil.asString(failure)
                : " (" + failure.getClassName() + ": " + failure.getMessage() + ")";
      }
      this.message = redactor.redact(text);
    }

    @Override
    public String getThreadName() {
      return event.getThreadName();
    }

    @Override
    public Level getLevel() {
      return event.getLevel();
    }

    @Override
    public String getMessage() {
      return message;
    }

    @Override
    public Object[] getArgumentArray() {
      return null;
    }

    @Override
    public String getFormattedMessage() {
      return message;
    }

    @Override
    public String getLoggerName() {
      return event.getLoggerName();
    }

    @Override
    public LoggerContextVO getLoggerContextVO() {
      return event.getLoggerContextVO();
    }

    @Override
    public IThrowableProxy getThrowableProxy() {
      return null;
    }

    @Override
    public StackTraceElement[] getCallerData() {
      return event.getCallerData();
    }

    @Override
    public boolean hasCallerData() {
      return event.hasCallerData();
    }

    @Override
    public List<Marker> getMarkerList() {
      return event.getMarkerList();
    }

    @Override
    public Map<String, String> getMDCPropertyMap() {
      return event.getMDCPropertyMap();
    }

    @Override
    @Deprecated
    public Map<String, String> getMdc() {
      return event.getMDCPropertyMap();
    }

    @Override
    public long getTimeStamp() {
      return event.getTimeStamp();
    }

    @Override
    public int getNanoseconds() {
      return event.getNanoseconds();
    }

    @Override
    public long getSequenceNumber() {
      return event.getSequenceNumber();
    }

    @Override
    public List<KeyValuePair> getKeyValuePairs() {
      return List.of();
    }

    @Override
    public void prepareForDeferredProcessing() {
      event.prepareForDeferredProcessing();
    }
  }
}
