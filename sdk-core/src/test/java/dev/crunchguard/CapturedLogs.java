package dev.crunchguard;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Captures every event that reaches the root logger, rendered with arguments and stack traces. */
final class CapturedLogs implements AutoCloseable {
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  CapturedLogs() {
    appender.setContext(root.getLoggerContext());
    appender.start();
    root.addAppender(appender);
  }

  List<ILoggingEvent> events() {
    // AppenderBase.doAppend synchronizes on the appender itself.
    synchronized (appender) {
      return new ArrayList<>(appender.list);
    }
  }

  /**
   * Each event as every text it could print: level, logger, message, raw arguments, MDC, stack
   * trace.
   */
  List<String> rendered() {
    List<String> out = new ArrayList<>();
    for (ILoggingEvent e : events()) {
      StringBuilder sb =
          new StringBuilder()
              .append(e.getLevel())
              .append(' ')
              .append(e.getLoggerName())
              .append(" - ")
              .append(e.getFormattedMessage());
      if (e.getArgumentArray() != null) {
        sb.append(" args=").append(Arrays.deepToString(e.getArgumentArray()));
      }
      sb.append(" mdc=").append(e.getMDCPropertyMap());
      if (e.getThrowableProxy() != null) {
        sb.append('\n').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
      }
      out.add(sb.toString());
    }
    return out;
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    appender.stop();
  }
}
