package dev.crunchguard.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerState;
import dev.crunchguard.testkit.LeakCheckExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The events client against a real in-process websocket server scripted like arvados-ws v0. */
@ExtendWith(LeakCheckExtension.class)
class EventStreamTest {
  static final String EVENTS_TOKEN_UUID = "zzzzz-gj3su-0e1v2n3t4s5t6k7";
  static final String EVENTS_SECRET = "s3cr3tEventsTokenValue0123456789abcdefghijklmnop";
  static final String EVENTS_TOKEN = "v2/" + EVENTS_TOKEN_UUID + "/" + EVENTS_SECRET;
  static final EventFilter CHANGES = EventFilter.eventTypeIn("create", "update");

  FakeEventServer ws;
  ArvadosClient client;
  final RecordingListener listener = new RecordingListener();
  final List<EventStream> streams = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    ws = new FakeEventServer();
    client =
        ArvadosClient.builder()
            .baseUrl(ws.baseUrl())
            .token(EVENTS_TOKEN)
            .connectTimeout(Duration.ofSeconds(2))
            .readTimeout(Duration.ofSeconds(5))
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    streams.forEach(EventStream::close);
    client.close();
    ws.close();
  }

  EventStream.Builder builder() {
    return EventStream.builder(client).listener(listener).subscribe(CHANGES);
  }

  EventStream open(EventStream.Builder b) {
    EventStream s = b.start();
    streams.add(s);
    return s;
  }

  // ---- URL, authentication, subscribe -----------------------------------------------------------

  @Test
  void websocketUrl_comesFromTheDiscoveryDocument_andTheTokenOnlyFromTheUpgradeQuery()
      throws Exception {
    EventStream s = open(builder());

    FakeEventServer.Conn c = ws.nextConnection();

    assertThat(ws.discoveryRequests.get()).isEqualTo(1);
    assertThat(ws.discoveryPaths)
        .containsExactly("/discovery/v1/apis/arvados/v1/rest"); // no token in that URL
    assertThat(ws.discoveryAuthorization).isEqualTo("Bearer " + EVENTS_TOKEN);
    okhttp3.HttpUrl upgrade = okhttp3.HttpUrl.get("http://h" + c.requestPath);
    assertThat(upgrade.encodedPath()).isEqualTo("/websocket");
    assertThat(upgrade.queryParameterNames()).containsExactly("api_token");
    assertThat(upgrade.queryParameter("api_token")).isEqualTo(EVENTS_TOKEN);
    assertThat(s.websocketUrl()).contains(ws.wsUrl());
    assertThat(s.toString())
        .contains(ws.wsUrl())
        .doesNotContain(EVENTS_SECRET)
        .doesNotContain("api_token");
    listener.await(RecordingListener.Connected.class);
    assertThat(s.isConnected()).isTrue();
  }

  @Test
  void configuredWebsocketUrl_isUsedWithoutDiscovery() throws Exception {
    ws.discoveredUrl = "ws://127.0.0.1:1/websocket"; // would fail if it were used
    EventStream s =
        open(builder().websocketUrl("ws://" + ws.server.getHostName() + ":" + ws.server.getPort()));

    FakeEventServer.Conn c = ws.nextConnection();

    assertThat(c.requestPath).startsWith("/websocket?api_token=");
    assertThat(ws.discoveryRequests.get()).isZero();
    assertThat(s.websocketUrl()).contains(ws.wsUrl());
  }

  @Test
  void aClusterWithoutAWebsocketService_isRecheckedAtItsOwnIntervalNotTheBackoff_andNeverConnected()
      throws Exception {
    ws.discoveredUrl = "";
    EventStream s =
        open(
            builder()
                .reconnectBackoff(Duration.ofMillis(5), Duration.ofMillis(10))
                .noServiceRecheck(Duration.ofMillis(400)));

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ws.discoveryRequests.get() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    int before = ws.discoveryRequests.get();
    Thread.sleep(300);
    int during = ws.discoveryRequests.get() - before;

    assertThat(before).isGreaterThanOrEqualTo(3);
    assertThat(during)
        .as("rechecks 200-400 ms apart, not at the 5-10 ms back-off")
        .isLessThanOrEqualTo(2);
    assertThat(ws.upgradeRequests.get()).isZero();
    assertThat(s.isConnected()).isFalse();
    assertThat(s.websocketUrl()).isEmpty();
    assertThat(listener.await(RecordingListener.ConnectFailed.class).reason())
        .as("onNoWebsocketService's default tells onConnectFailed")
        .contains("no websocketUrl");
    assertThat(listener.history()).doesNotHaveAnyElementsOfTypes(RecordingListener.Connected.class);
  }

  @Test
  void aClusterWithoutAWebsocketService_isReportedAsSuch_notAsAFailedConnection() throws Exception {
    ws.discoveredUrl = "";
    java.util.concurrent.BlockingQueue<String> noService =
        new java.util.concurrent.LinkedBlockingQueue<>();
    java.util.concurrent.atomic.AtomicInteger failed =
        new java.util.concurrent.atomic.AtomicInteger();
    open(
        EventStream.builder(client)
            .subscribe(CHANGES)
            .noServiceRecheck(Duration.ofMillis(50))
            .listener(
                new EventStreamListener() {
                  @Override
                  public void onEvent(ArvadosEvent event) {}

                  @Override
                  public void onConnectFailed(String reason) {
                    failed.incrementAndGet();
                  }

                  @Override
                  public void onNoWebsocketService(String reason) {
                    noService.add(reason);
                  }
                }));

    assertThat(noService.poll(5, TimeUnit.SECONDS)).contains("runs no websocket service");
    assertThat(noService.poll(5, TimeUnit.SECONDS)).as("after every recheck").isNotNull();
    assertThat(failed.get()).isZero();
  }

  @Test
  void aDiscoveryDocumentThatCannotBeRead_isAFailedConnection_retriedWithTheBackoff()
      throws Exception {
    ws.discoveredUrl = "ftp://ws.example/websocket"; // announced, but unusable
    open(
        builder()
            .reconnectBackoff(Duration.ofMillis(5), Duration.ofMillis(10))
            .noServiceRecheck(Duration.ofMinutes(5)));

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ws.discoveryRequests.get() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }

    assertThat(ws.discoveryRequests.get()).isGreaterThanOrEqualTo(3);
    assertThat(listener.await(RecordingListener.ConnectFailed.class).reason())
        .contains("websocketUrl is unusable");
  }

  @Test
  void aRefusedUpgrade_isReportedAsAFailedConnection_notAsADisconnection() throws Exception {
    ws.refuseWithStatus = 503;
    open(builder().reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(40)));

    assertThat(listener.await(RecordingListener.ConnectFailed.class).reason()).contains("503");
    assertThat(listener.history())
        .doesNotHaveAnyElementsOfTypes(
            RecordingListener.Connected.class, RecordingListener.Disconnected.class);
  }

  @Test
  void firstSubscribe_hasTheFiltersAndNoLastLogId_andTheGapIsReportedOnlyOnceAcknowledged()
      throws Exception {
    ws.autoAck = false;
    open(builder().subscribe(List.of()));

    FakeEventServer.Conn c = ws.nextConnection();
    assertThat(c.nextMessage())
        .isEqualTo(
            "{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\",\"update\"]]]}");
    assertThat(c.nextMessage()).isEqualTo("{\"method\":\"subscribe\",\"filters\":[]}");
    listener.await(RecordingListener.Connected.class);
    Thread.sleep(150);
    assertThat(listener.gaps()).isEmpty();

    c.send("{\"status\":200}");

    assertThat(listener.await(GapReason.class)).isEqualTo(GapReason.NOT_RESUMED);
  }

  @Test
  void resumeAfter_sendsLastLogIdOnTheFirstSubscribe_andReportsNoGap() throws Exception {
    open(builder().resumeAfter(4711));

    FakeEventServer.Conn c = ws.nextConnection();

    assertThat(c.nextMessage())
        .isEqualTo(
            "{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\",\"update\"]]],\"last_log_id\":4711}");
    c.send(Messages.containerCreate(4712, 1, Messages.CONTAINER));
    listener.await(ArvadosEvent.class);
    assertThat(listener.gaps()).isEmpty();
  }

  @Test
  void subscribeAndUnsubscribe_onALiveConnection_areSentAtOnce() throws Exception {
    EventStream s = open(builder());
    FakeEventServer.Conn c = ws.nextConnection();
    c.nextMessage();
    List<EventFilter> deletes = List.of(EventFilter.eventTypeIn("delete"));

    s.subscribe(deletes);
    assertThat(c.nextMessage())
        .isEqualTo("{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"delete\"]]]}");
    assertThat(s.unsubscribe(deletes)).isTrue();
    assertThat(c.nextMessage())
        .isEqualTo(
            "{\"method\":\"unsubscribe\",\"filters\":[[\"event_type\",\"in\",[\"delete\"]]]}");
    assertThat(s.unsubscribe(deletes)).isFalse();
  }

  // ---- decoding and delivery --------------------------------------------------------------------

  @Test
  void typedEvents_areDelivered_andGarbageBetweenThemIsIgnoredWithoutKillingTheStream()
      throws Exception {
    EventStream s = open(builder());
    FakeEventServer.Conn c = ws.nextConnection();
    listener.await(GapReason.class);

    c.send(Messages.containerCreate(100, 1, Messages.CONTAINER));
    c.send("this is not json");
    c.send("{\"unexpected\":true}");
    c.send("{}");
    c.send("[\"an\",\"array\"]");
    c.send(Messages.containerUpdate(101, 2, "Queued", "Locked"));

    ArvadosEvent created = listener.await(ArvadosEvent.class);
    ArvadosEvent locked = listener.await(ArvadosEvent.class);
    assertThat(created.isCreate()).isTrue();
    assertThat(created.newState()).contains(ContainerState.QUEUED);
    assertThat(locked.id()).isEqualTo(101);
    assertThat(locked.oldState()).contains(ContainerState.QUEUED);
    assertThat(locked.newState()).contains(ContainerState.LOCKED);
    assertThat(s.stats().undecodableFrames()).isEqualTo(3);
    assertThat(s.stats().connections()).isEqualTo(1);
    assertThat(s.isConnected()).isTrue();
    assertThat(listener.gaps()).containsExactly(GapReason.NOT_RESUMED);
  }

  @Test
  void aRefusedSubscription_isLoggedAndTheStreamGoesOn() throws Exception {
    ws.autoAck = false;
    EventStream s = open(builder());
    FakeEventServer.Conn c = ws.nextConnection();
    c.nextMessage();

    c.send("{\"status\":400}");
    c.send(Messages.containerCreate(3, 1, Messages.CONTAINER));

    assertThat(listener.await(ArvadosEvent.class).id()).isEqualTo(3);
    assertThat(listener.gaps())
        .as("no 'live from here' promise without an accepted subscription")
        .isEmpty();
    assertThat(s.isConnected()).isTrue();
  }

  @Test
  void anUndecodableEventWithAnId_isReportedAsAGap() throws Exception {
    open(builder());
    FakeEventServer.Conn c = ws.nextConnection();
    listener.await(GapReason.class);

    c.send("{\"id\":555,\"event_type\":\"update\",\"event_at\":\"not a time\"}");
    c.send(Messages.containerCreate(556, 2, Messages.CONTAINER));

    assertThat(listener.await(GapReason.class)).isEqualTo(GapReason.UNDECODABLE_EVENT);
    assertThat(listener.await(ArvadosEvent.class).id()).isEqualTo(556);
  }

  @Test
  void objectKinds_dropsOtherKindsOnThisSide() throws Exception {
    EventStream s = open(builder().objectKinds(ArvadosEvent.KIND_CONTAINER));
    FakeEventServer.Conn c = ws.nextConnection();

    c.send(Messages.requestUpdate(10, 1));
    c.send(Messages.containerCreate(11, 2, Messages.CONTAINER));

    assertThat(listener.await(ArvadosEvent.class).id()).isEqualTo(11);
    assertThat(listener.eventIds()).containsExactly(11L);
    assertThat(s.stats().eventsReceived()).isEqualTo(2);
  }

  @Test
  void aSlowListener_neverBlocksTheReader_overflowDropsAndReportsOneGap() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    RecordingListener slow =
        new RecordingListener() {
          @Override
          public void onEvent(ArvadosEvent event) {
            super.onEvent(event);
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    EventStream s =
        open(
            EventStream.builder(client)
                .listener(slow)
                .subscribe(CHANGES)
                .deliveryQueueCapacity(10)
                .keepalive(Duration.ofSeconds(1)));
    FakeEventServer.Conn c = ws.nextConnection();
    slow.await(GapReason.class);

    for (int i = 1; i <= 50; i++) {
      c.send(Messages.containerCreate(1000 + i, i, Messages.CONTAINER));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (s.stats().eventsReceived() < 50 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    // The reader read all 50 while the listener was stuck in its first call.
    assertThat(s.stats().eventsReceived()).isEqualTo(50);
    assertThat(s.stats().droppedEvents()).isBetween(39L, 40L);
    for (int i = 0; i < 3; i++) { // keepalives keep arriving: the socket is served, not stalled
      Thread.sleep(150);
      c.send("{}");
    }
    assertThat(s.stats().connections()).isEqualTo(1);
    release.countDown();

    assertThat(slow.await(GapReason.class)).isEqualTo(GapReason.DELIVERY_OVERFLOW);
    // The gap is queued at the first drop; an event accepted after it (once the thread took one)
    // follows it.
    long accepted = 50 - s.stats().droppedEvents();
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (slow.eventIds().size() < accepted && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    Thread.sleep(50);
    assertThat(slow.eventIds()).hasSize((int) accepted).startsWith(1001L).isSorted();
    assertThat(s.stats().eventsDelivered()).isEqualTo(accepted);
    assertThat(slow.gaps()).containsExactly(GapReason.NOT_RESUMED, GapReason.DELIVERY_OVERFLOW);
    assertThat(slow.threads)
        .allMatch(t -> t.startsWith("crunchguard-events-") && t.endsWith("-delivery"));
  }

  @Test
  void aListenerThatThrows_doesNotStopDelivery() throws Exception {
    RecordingListener throwing =
        new RecordingListener() {
          @Override
          public void onEvent(ArvadosEvent event) {
            super.onEvent(event);
            throw new IllegalStateException("listener bug " + EVENTS_TOKEN);
          }
        };
    open(EventStream.builder(client).listener(throwing).subscribe(CHANGES));
    FakeEventServer.Conn c = ws.nextConnection();

    c.send(Messages.containerCreate(1, 1, Messages.CONTAINER));
    c.send(Messages.containerCreate(2, 2, Messages.CONTAINER));

    throwing.await(ArvadosEvent.class);
    assertThat(throwing.await(ArvadosEvent.class).id()).isEqualTo(2);
  }

  // ---- liveness and recovery --------------------------------------------------------------------

  @Test
  void silenceLongerThanTwoKeepalives_isADeadSocket_andTheStreamReconnects() throws Exception {
    open(
        builder()
            .keepalive(Duration.ofMillis(100))
            .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(20)));
    FakeEventServer.Conn first = ws.nextConnection();
    first.nextMessage(); // acknowledged, then nothing more: the server went silent

    FakeEventServer.Conn second = ws.nextConnection();

    long silentFor = TimeUnit.NANOSECONDS.toMillis(second.openedNanos - first.openedNanos);
    assertThat(silentFor)
        .as("2¼ keepalives, plus a watchdog tick and a short back-off")
        .isBetween(225L, 2000L);
    assertThat(first.awaitEnd(2000)).as("the dead socket was closed").isTrue();
    assertThat(listener.await(RecordingListener.Disconnected.class).reason()).contains("keepalive");
  }

  @Test
  void keepalives_keepAQuietConnectionAlive() throws Exception {
    EventStream s =
        open(builder().keepalive(Duration.ofMillis(300))); // dead after 675 ms of silence
    FakeEventServer.Conn c = ws.nextConnection();

    for (int i = 0; i < 15; i++) { // 1.5 s in all, a keepalive every 100 ms
      Thread.sleep(100);
      c.send("{}");
    }

    assertThat(s.stats().connections()).isEqualTo(1);
    assertThat(ws.connectionCount()).isEqualTo(1);
    assertThat(s.isConnected()).isTrue();
  }

  @Test
  void serverClose_reconnectsWithAGrowingJitteredBackoff() throws Exception {
    ws.onOpen = c -> c.ws.close(1001, "going away");
    EventStream s = open(builder().reconnectBackoff(Duration.ofMillis(40), Duration.ofMillis(320)));

    List<Long> opened = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      opened.add(ws.nextConnection().openedNanos);
    }

    // Wait i (1-based) follows the bound min(40·2^(i-1), 320) ms, jittered to between half and all
    // of it.
    for (int i = 1; i < opened.size(); i++) {
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(opened.get(i) - opened.get(i - 1));
      long bound = Math.min(40L << (i - 1), 320);
      assertThat(waitedMs).as("wait %d", i).isGreaterThanOrEqualTo(bound / 2);
    }
    assertThat(TimeUnit.NANOSECONDS.toMillis(opened.get(5) - opened.get(4)))
        .isGreaterThanOrEqualTo(160);
    assertThat(s.stats().connections()).isGreaterThanOrEqualTo(6);
  }

  @Test
  void reconnect_resubscribesAMarginBehindTheHighestIdSeen_andDropsReplayedDuplicates()
      throws Exception {
    EventStream s =
        open(
            builder()
                .reorderMargin(10)
                .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(20)));
    FakeEventServer.Conn first = ws.nextConnection();
    first.nextMessage();
    first.send(Messages.containerCreate(5000, 1, Messages.CONTAINER));
    first.send(Messages.containerUpdate(5003, 2, "Queued", "Locked"));
    first.send(
        Messages.containerCreate(
            4990, 3, "zzzzz-dz642-yyyyyyyyyyyyyyy")); // ids arrive out of order
    while (listener.eventIds().size() < 3) {
      listener.await(ArvadosEvent.class);
    }
    first.ws.close(1001, "restart");

    FakeEventServer.Conn second = ws.nextConnection();
    assertThat(second.nextMessage())
        .isEqualTo(
            "{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\",\"update\"]]],\"last_log_id\":4993}");
    // The replay (id > 4993) interleaved with a live event, and a live duplicate of a replayed one.
    second.send(Messages.containerUpdate(4995, 1, "Locked", "Running"));
    second.send(Messages.containerCreate(5000, 2, Messages.CONTAINER));
    second.send(Messages.containerUpdate(5004, 3, "Running", "Complete"));
    second.send(Messages.containerUpdate(5003, 4, "Queued", "Locked"));
    second.send(Messages.containerUpdate(4995, 5, "Locked", "Running"));
    second.send(Messages.containerCreate(5005, 6, Messages.CONTAINER));

    while (listener.eventIds().size() < 6) {
      listener.await(ArvadosEvent.class);
    }
    Thread.sleep(100);
    assertThat(listener.eventIds()).containsExactly(5000L, 5003L, 4990L, 4995L, 5004L, 5005L);
    assertThat(s.stats().duplicateEvents()).isEqualTo(3);
    assertThat(s.stats().highestEventId()).isEqualTo(5005);
    assertThat(listener.gaps()).containsExactly(GapReason.NOT_RESUMED);
  }

  @Test
  void aConnectionLostMidReplay_doesNotResumePastTheLiveEventsItSaw_butACompletedReplayDoes()
      throws Exception {
    EventStream s =
        open(
            builder()
                .reorderMargin(10)
                .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(20)));
    FakeEventServer.Conn first = ws.nextConnection();
    first.nextMessage();
    first.send(Messages.containerCreate(5000, 1, Messages.CONTAINER));
    listener.await(ArvadosEvent.class);
    ws.autoAck = false; // the next server answers the subscribe, but never ends its replay
    first.ws.close(1001, "restart");

    FakeEventServer.Conn second = ws.nextConnection();
    assertThat(second.nextMessage()).contains("\"method\":\"subscribe\"", "\"last_log_id\":4990");
    assertThat(second.nextMessage())
        .isEqualTo(
            "{\"method\":\"unsubscribe\",\"filters\":[[\"event_type\",\"in\",[\"crunchguard:end-of-replay\"]]]}");
    second.send("{\"status\":200}");
    // Replayed ids in order (4995, 4997), with a live one far above them in between; then the
    // connection drops before the replay reached 5001..5090.
    second.send(Messages.containerUpdate(4995, 1, "Queued", "Locked"));
    second.send(Messages.containerCreate(5100, 2, "zzzzz-dz642-yyyyyyyyyyyyyyy"));
    second.send(Messages.containerUpdate(4997, 3, "Locked", "Running"));
    while (listener.eventIds().size() < 4) {
      listener.await(ArvadosEvent.class);
    }
    ws.autoAck = true;
    second.ws.close(1001, "restart mid-replay");

    FakeEventServer.Conn third = ws.nextConnection();
    assertThat(third.nextMessage())
        .as("replays again from where the interrupted replay started, not from 5100 - 10")
        .contains("\"last_log_id\":4990");
    assertThat(third.nextMessage()).contains("crunchguard:end-of-replay");
    third.send(Messages.containerUpdate(4995, 1, "Queued", "Locked")); // already delivered
    third.send(Messages.containerUpdate(5050, 2, "Running", "Complete")); // the one it owed
    while (listener.eventIds().size() < 5) {
      listener.await(ArvadosEvent.class);
    }
    Thread.sleep(100); // the probe's answer (autoAck) has arrived: this replay is complete
    third.ws.close(1001, "restart after a complete replay");

    FakeEventServer.Conn fourth = ws.nextConnection();
    assertThat(fourth.nextMessage()).contains("\"last_log_id\":5090");
    assertThat(listener.eventIds()).containsExactly(5000L, 4995L, 5100L, 4997L, 5050L);
    assertThat(s.stats().duplicateEvents()).isEqualTo(1);
    assertThat(listener.gaps()).containsExactly(GapReason.NOT_RESUMED);
  }

  @Test
  void anOutageLongerThanTheReplayWindow_isReportedAsAGap_aShortOneIsNot() throws Exception {
    open(
        builder()
            .replayWindow(Duration.ofMillis(1500))
            .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(40)));
    FakeEventServer.Conn first = ws.nextConnection();
    listener.await(GapReason.class);
    first.send(Messages.containerCreate(10, 1, Messages.CONTAINER));
    listener.await(ArvadosEvent.class);

    first.ws.close(1001, "short restart"); // back within the window: the replay covers it
    FakeEventServer.Conn second = ws.nextConnection();
    assertThat(second.nextMessage()).contains("\"last_log_id\":1");
    listener.await(RecordingListener.Connected.class);
    Thread.sleep(100);
    assertThat(listener.gaps()).containsExactly(GapReason.NOT_RESUMED);

    ws.refuseWithStatus = 503; // a long outage: upgrades refused for 2 s
    second.ws.close(1001, "long restart");
    Thread.sleep(2000);
    ws.refuseWithStatus = 0;
    FakeEventServer.Conn third = ws.nextConnection();

    assertThat(third.nextMessage()).contains("\"last_log_id\":1");
    assertThat(listener.await(GapReason.class)).isEqualTo(GapReason.REPLAY_WINDOW_EXCEEDED);
    assertThat(ws.upgradeRequests.get()).isGreaterThan(3);
  }

  @Test
  void reconnectBeforeAnyEvent_cannotResume_andSaysSo() throws Exception {
    open(builder().reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(20)));
    FakeEventServer.Conn first = ws.nextConnection();
    assertThat(listener.await(GapReason.class)).isEqualTo(GapReason.NOT_RESUMED);

    first.ws.close(1001, "restart");
    FakeEventServer.Conn second = ws.nextConnection();

    assertThat(second.nextMessage()).doesNotContain("last_log_id");
    assertThat(listener.await(GapReason.class)).isEqualTo(GapReason.NOT_RESUMED);
  }

  // ---- closing ----------------------------------------------------------------------------------

  @Test
  void close_closesTheSocket_stopsReconnecting_andLeavesNoThreads() throws Exception {
    EventStream s = open(builder().reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(20)));
    FakeEventServer.Conn c = ws.nextConnection();
    listener.await(RecordingListener.Connected.class);
    String prefix = s.toString().replaceAll(".*\\{(crunchguard-events-\\d+),.*", "$1") + "-";
    assertThat(threadsNamed(prefix)).hasSize(2);

    s.close();

    assertThat(c.awaitEnd(2000)).as("the server saw the connection end").isTrue();
    assertThat(threadsNamed(prefix)).isEmpty();
    int connections = ws.connectionCount();
    Thread.sleep(200);
    assertThat(ws.connectionCount()).isEqualTo(connections);
    assertThat(s.isConnected()).isFalse();
    s.close(); // idempotent
    assertThatThrownBy(() -> s.subscribe(List.of())).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void close_whileAReconnectIsPending_cancelsIt() throws Exception {
    ws.refuseWithStatus = 503;
    EventStream s =
        open(builder().reconnectBackoff(Duration.ofMillis(200), Duration.ofMillis(400)));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ws.upgradeRequests.get() < 1 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    String prefix = s.toString().replaceAll(".*\\{(crunchguard-events-\\d+),.*", "$1") + "-";

    s.close();
    int attempts = ws.upgradeRequests.get();
    Thread.sleep(600);

    assertThat(ws.upgradeRequests.get()).isEqualTo(attempts);
    assertThat(threadsNamed(prefix)).isEmpty();
  }

  @Test
  void close_fromTheListenerItself_doesNotDeadlock() throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    EventStream[] self = new EventStream[1];
    RecordingListener closing =
        new RecordingListener() {
          @Override
          public void onEvent(ArvadosEvent event) {
            self[0].close();
            closed.countDown();
          }
        };
    self[0] = open(EventStream.builder(client).listener(closing).subscribe(CHANGES));
    ws.nextConnection().send(Messages.containerCreate(1, 1, Messages.CONTAINER));

    assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(self[0].isConnected()).isFalse();
  }

  @Test
  void start_needsAListener_andAnOpenClient() {
    assertThatThrownBy(() -> EventStream.builder(client).start())
        .isInstanceOf(IllegalStateException.class);
    client.close();
    assertThatThrownBy(() -> EventStream.builder(client).listener(listener).start())
        .isInstanceOf(IllegalStateException.class);
  }

  static List<String> threadsNamed(String prefix) throws InterruptedException {
    List<String> alive = List.of();
    for (int i = 0; i < 100; i++) {
      alive =
          Thread.getAllStackTraces().keySet().stream()
              .filter(Thread::isAlive)
              .map(Thread::getName)
              .filter(n -> n.startsWith(prefix))
              .toList();
      if (alive.isEmpty()) {
        break;
      }
      Thread.sleep(10);
    }
    return alive;
  }
}
