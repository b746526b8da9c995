package dev.microrunner.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback's configuration until a command has read its logging options (then {@link
 * Logging#configure} replaces it): warnings and errors on stderr, set up in code. An XML
 * configuration would load an XML parser and half of logback's classes at every start only to be
 * thrown away a moment later: 640 classes, megabytes of metadata in every orchestrator. Registered
 * as a service in the executable jar only; a JVM tool that embeds the loops configures its own
 * logging.
 */
public final class StartupLogging extends ContextAwareBase implements Configurator {

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    Logging.configureStartup(context);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
