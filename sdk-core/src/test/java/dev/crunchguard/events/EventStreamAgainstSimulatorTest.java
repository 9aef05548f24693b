package dev.crunchguard.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerState;
import dev.crunchguard.testkit.ArvadosSimulator;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The events client end to end against the simulator's event stream (an independent server). */
class EventStreamAgainstSimulatorTest {
  static final String TOKEN = "stream-e2e-admin-secret";

  ArvadosSimulator sim;
  ArvadosClient client;
  EventStream stream;
  final RecordingListener listener = new RecordingListener();

  @BeforeEach
  void start() {
    sim =
        ArvadosSimulator.builder()
            .adminToken(TOKEN)
            .events(true)
            .eventsClientQueue(16)
            .build()
            .start();
    client =
        ArvadosClient.builder()
            .baseUrl(sim.baseUrl())
            .token(TOKEN)
            .connectTimeout(Duration.ofSeconds(2))
            .readTimeout(Duration.ofSeconds(5))
            .build();
  }

  @AfterEach
  void stop() {
    if (stream != null) {
      stream.close();
    }
    client.close();
    sim.close();
  }

  void open() throws InterruptedException {
    stream =
        EventStream.builder(client)
            .subscribe(EventFilter.eventTypeIn(ArvadosEvent.CREATE, ArvadosEvent.UPDATE))
            .objectKinds(ArvadosEvent.KIND_CONTAINER)
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
            .listener(listener)
            .start();
    listener.await(GapReason.class, g -> g == GapReason.NOT_RESUMED);
  }

  ArvadosEvent awaitEvent(String uuid, ContainerState state) throws InterruptedException {
    return listener.await(
        ArvadosEvent.class, e -> e.objectUuid().equals(uuid) && e.newState().orElse(null) == state);
  }

  @Test
  void findsTheStreamThroughDiscovery_andDeliversTypedContainerEvents() throws Exception {
    open();

    String uuid = sim.createContainer();
    client.containers().lock(uuid);

    ArvadosEvent created = awaitEvent(uuid, ContainerState.QUEUED);
    ArvadosEvent locked = awaitEvent(uuid, ContainerState.LOCKED);
    assertThat(stream.websocketUrl()).contains(sim.events().websocketUrl());
    assertThat(created.isCreate()).isTrue();
    assertThat(created.oldAttributes()).isNull();
    assertThat(locked.isUpdate()).isTrue();
    assertThat(locked.oldState()).contains(ContainerState.QUEUED);
    assertThat(locked.id()).isGreaterThan(created.id());
    assertThat(listener.history()) // objectKinds: the container token's create is not delivered
        .filteredOn(ArvadosEvent.class::isInstance)
        .extracting(o -> ((ArvadosEvent) o).objectKind())
        .containsOnly(ArvadosEvent.KIND_CONTAINER);
  }

  @Test
  void afterARestart_itReconnectsAndReplaysWhatItMissed_withoutDuplicates() throws Exception {
    open();
    String before = sim.createContainer();
    awaitEvent(before, ContainerState.QUEUED);

    sim.events().restart(Duration.ofMillis(400));
    String during = sim.createContainer();
    listener.await(RecordingListener.Disconnected.class);

    awaitEvent(during, ContainerState.QUEUED);
    String after = sim.createContainer();
    awaitEvent(after, ContainerState.QUEUED);
    List<Long> ids = listener.eventIds();
    assertThat(ids).doesNotHaveDuplicates();
    assertThat(stream.stats().connections()).isGreaterThanOrEqualTo(2);
    assertThat(listener.history()).doesNotContain(GapReason.REPLAY_WINDOW_EXCEEDED);
  }

  @Test
  void theEndOfReplayProbe_isAnsweredAfterTheReplay_andIsNoWarning() throws Exception {
    ch.qos.logback.classic.Logger streamLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(EventStream.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.start();
    ch.qos.logback.classic.Level level = streamLog.getLevel();
    streamLog.setLevel(ch.qos.logback.classic.Level.DEBUG);
    streamLog.addAppender(logs);
    try {
      open();
      String before = sim.createContainer();
      awaitEvent(before, ContainerState.QUEUED);
      sim.events().restart(Duration.ofMillis(300));
      listener.await(RecordingListener.Disconnected.class);
      for (int i = 0; i < 30; i++) { // replayed on reconnection, behind the subscribe's answer
        sim.createContainer();
      }
      listener.await(RecordingListener.Connected.class);

      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      while (messages(logs).stream().noneMatch(m -> m.endsWith("replay complete"))
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      List<String> said = messages(logs);
      int complete = indexOf(said, "replay complete");
      assertThat(complete).as("the probe's answer arrived").isNotNegative();
      assertThat(listener.eventIds()).hasSize(31).doesNotHaveDuplicates();
      assertThat(said) // the simulator answers the probe with 400, as arvados-ws does
          .noneMatch(m -> m.startsWith("WARN") && m.contains("answered status"));
    } finally {
      streamLog.detachAppender(logs);
      streamLog.setLevel(level);
    }
  }

  private static List<String> messages(
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs) {
    synchronized (logs) {
      return logs.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    }
  }

  private static int indexOf(List<String> said, String suffix) {
    for (int i = 0; i < said.size(); i++) {
      if (said.get(i).endsWith(suffix)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void aStalledConnectionIsClosedByTheServer_andTheStreamCatchesUpOnReconnect() throws Exception {
    open();
    String first = sim.createContainer(); // gives the stream a resume point
    awaitEvent(first, ContainerState.QUEUED);
    sim.events().stallClients();

    String last = null;
    for (int i = 0; i < 20; i++) { // more than the queue of 16
      last = sim.createContainer();
    }

    awaitEvent(last, ContainerState.QUEUED);
    assertThat(sim.events().queueFullDisconnects()).isEqualTo(1);
    assertThat(listener.eventIds()).hasSize(21).doesNotHaveDuplicates();
    assertThat(listener.history()).containsOnlyOnce(GapReason.NOT_RESUMED); // the replay covered it
  }
}
