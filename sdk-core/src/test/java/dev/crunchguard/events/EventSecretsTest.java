package dev.crunchguard.events;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.crunchguard.ArvadosClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The token never reaches a log line (any level), a message, a toString or the URL as reported,
 * through the paths where it could: the upgrade URL carries it, refused upgrades, server closes,
 * frames that echo it, and a listener that throws with it. (The whole-suite audit also sees these
 * events: {@code EVENTS_TOKEN} is a test token constant.)
 */
class EventSecretsTest {
  static final String LEAKY_TOKEN = EventStreamTest.EVENTS_TOKEN;

  @Test
  void noPathOfTheStreamLogsOrShowsTheToken() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.setContext(root.getLoggerContext());
    logs.start();
    root.addAppender(logs);
    List<String> shown = new ArrayList<>();
    try (FakeEventServer ws = new FakeEventServer();
        ArvadosClient client =
            ArvadosClient.builder().baseUrl(ws.baseUrl()).token(LEAKY_TOKEN).build()) {
      RecordingListener listener =
          new RecordingListener() {
            @Override
            public void onEvent(ArvadosEvent event) {
              super.onEvent(event);
              throw new IllegalStateException("the listener failed with " + LEAKY_TOKEN);
            }
          };
      ws.refuseWithStatus = 401; // a refused upgrade first
      try (EventStream s =
          EventStream.builder(client)
              .listener(listener)
              .subscribe(new EventFilter("object_uuid", "is_a", "arvados#container"))
              .keepalive(Duration.ofMillis(300))
              .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(20))
              .start()) {
        while (ws.upgradeRequests.get() < 2) {
          Thread.sleep(5);
        }
        ws.refuseWithStatus = 0;
        FakeEventServer.Conn c = ws.nextConnection();
        assertThat(c.requestPath).contains("api_token="); // it is sent, where arvados-ws wants it
        c.send("garbage echoing ?api_token=" + LEAKY_TOKEN + " and " + LEAKY_TOKEN);
        c.send("{\"id\":9,\"event_at\":\"" + LEAKY_TOKEN + "\"}");
        c.send(Messages.containerCreate(10, 1, Messages.CONTAINER));
        listener.await(ArvadosEvent.class);
        c.ws.close(4000, "bye " + LEAKY_TOKEN);
        FakeEventServer.Conn second = ws.nextConnection(); // then silence: the watchdog
        ws.nextConnection();
        shown.add(s.toString());
        shown.add(String.valueOf(s.websocketUrl()));
        shown.add(String.valueOf(s.stats()));
        shown.add(String.valueOf(second.received));
        listener.history().forEach(o -> shown.add(String.valueOf(o)));
      }
    } finally {
      root.detachAppender(logs);
      logs.stop();
    }

    List<String> rendered = new ArrayList<>();
    for (ILoggingEvent e : logs.list) {
      StringBuilder sb = new StringBuilder(e.getFormattedMessage());
      if (e.getArgumentArray() != null) {
        sb.append(Arrays.deepToString(e.getArgumentArray()));
      }
      if (e.getThrowableProxy() != null) {
        sb.append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
      }
      rendered.add(sb.toString());
    }
    assertThat(rendered)
        .as("log events of the stream")
        .anyMatch(l -> l.contains("ignoring a frame"))
        .anyMatch(l -> l.contains("listener threw"))
        .anyMatch(l -> l.contains("ignores the filter"))
        .anyMatch(l -> l.contains("HTTP 401"))
        .anyMatch(l -> l.contains("no frame for"));
    for (String text : concat(rendered, shown)) {
      assertThat(text)
          .doesNotContain(LEAKY_TOKEN)
          .doesNotContain(EventStreamTest.EVENTS_SECRET)
          .as("not even a truncated piece of the secret")
          .doesNotContain(EventStreamTest.EVENTS_SECRET.substring(0, 12))
          .doesNotContainPattern("api_token=(?!<redacted>)");
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
