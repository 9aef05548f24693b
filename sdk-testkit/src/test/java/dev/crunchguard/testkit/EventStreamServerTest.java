package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The simulator's event stream through raw websocket frames, against arvados-ws as services/ws and
 * sdk/python/arvados/events.py show it (src/docs/simulator.md, section 11): message shape, what
 * produces events, filters, permissions, replay, limits and the fault controls.
 */
class EventStreamServerTest {
  static final String ADMIN = "events-admin-secret";
  static final String USER = "events-user-secret";
  static final String CHANGES =
      "{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\",\"update\"]]]}";

  ArvadosSimulator sim;
  Http http;
  final List<WsClient> clients = new ArrayList<>();

  @BeforeEach
  void start() {
    sim = builder().build().start();
    http = new Http(sim);
  }

  ArvadosSimulator.Builder builder() {
    return ArvadosSimulator.builder().adminToken(ADMIN).userToken(USER).events(true);
  }

  void restartWith(ArvadosSimulator.Builder b) {
    sim.close();
    sim = b.build().start();
    http = new Http(sim);
  }

  @AfterEach
  void stop() {
    clients.forEach(WsClient::close);
    sim.close();
  }

  WsClient connect(String token) throws InterruptedException {
    WsClient c = WsClient.open(sim, token);
    clients.add(c);
    return c;
  }

  static JsonObject json(String frame) {
    return JsonParser.parseString(frame).getAsJsonObject();
  }

  // ---- discovery, endpoint ----------------------------------------------------------------------

  @Test
  void discoveryDocument_announcesTheStreamOnItsOwnPort() {
    JsonObject doc = http.get("discovery/v1/apis/arvados/v1/rest").send().json();

    String ws = doc.get("websocketUrl").getAsString();
    assertThat(ws).isEqualTo(sim.events().websocketUrl()).endsWith("/websocket");
    assertThat(ws).startsWith("ws://127.0.0.1:" + sim.events().port() + "/");
    assertThat(sim.events().port()).isNotEqualTo(sim.port());
  }

  @Test
  void withoutEvents_theDiscoveryDocumentHasAnEmptyWebsocketUrl() {
    restartWith(ArvadosSimulator.builder().adminToken(ADMIN));

    JsonObject doc = http.get("discovery/v1/apis/arvados/v1/rest").send().json();

    assertThat(doc.get("websocketUrl").getAsString()).isEmpty();
  }

  @Test
  void v1Endpoint_upgradesAndClosesAtOnce_andOtherPathsAreRefused() throws Exception {
    String base = sim.events().websocketUrl().replace("/websocket", "");
    WsClient v1 = new WsClient(base + "/arvados/v1/events.ws", ADMIN);
    clients.add(v1);
    assertThat(v1.awaitEnd(Duration.ofSeconds(5))).isTrue();
    assertThat(v1.openStatus).isEqualTo(101);

    WsClient other = new WsClient(base + "/elsewhere", ADMIN);
    clients.add(other);
    assertThat(other.awaitEnd(Duration.ofSeconds(5))).isTrue();
    assertThat(other.openStatus).isEqualTo(404);
  }

  // ---- message shape ----------------------------------------------------------------------------

  @Test
  void createEvent_hasTheRealKeySet_sortedCompact_withOnlyNewAttributes() throws Exception {
    WsClient c = connect(ADMIN);
    c.subscribe(CHANGES);

    String uuid = sim.createContainer();
    String frame = c.next();

    JsonObject e = json(frame);
    assertThat(new ArrayList<>(e.keySet()))
        .containsExactly(
            "event_at",
            "event_type",
            "id",
            "msgID",
            "object_kind",
            "object_owner_uuid",
            "object_uuid",
            "properties",
            "uuid");
    assertThat(frame).doesNotContain(" ").doesNotContain("\n");
    assertThat(e.get("msgID").getAsLong()).isEqualTo(1);
    assertThat(e.get("id").getAsLong()).isEqualTo(sim.events().lastEventId());
    assertThat(e.get("uuid").getAsString()).matches("zzzzz-57u5n-[a-z0-9]{15}");
    assertThat(e.get("object_uuid").getAsString()).isEqualTo(uuid);
    assertThat(e.get("object_kind").getAsString()).isEqualTo("arvados#container");
    assertThat(e.get("event_type").getAsString()).isEqualTo("create");
    String owner = json(sim.container(uuid).json()).get("owner_uuid").getAsString();
    assertThat(e.get("object_owner_uuid").getAsString()).isEqualTo(owner);
    assertThat(e.get("event_at").getAsString())
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{0,5}[1-9])?Z");
    assertThat(Instant.parse(e.get("event_at").getAsString()))
        .isBetween(Instant.now().minusSeconds(10), Instant.now());
    assertThat(frame)
        .contains(
            "\"properties\":{\"new_attributes\":{\"owner_uuid\":\""
                + owner
                + "\",\"state\":\"Queued\"}}");
  }

  @Test
  void lock_isTheContainerTokensCreate_thenTheContainerUpdate_andUnlockExpiresTheTokenFirst()
      throws Exception {
    String uuid = sim.createContainer();
    WsClient c = connect(ADMIN);
    c.subscribe(CHANGES.replace("\"update\"]", "\"update\",\"delete\"]"));

    assertThat(http.lock(uuid, ADMIN).status()).isEqualTo(200);
    String auth = sim.container(uuid).authUuid();
    JsonObject tokenCreate = c.nextEvent();
    JsonObject lock = c.nextEvent();
    assertThat(http.unlock(uuid, ADMIN).status()).isEqualTo(200);
    JsonObject tokenExpire = c.nextEvent();
    JsonObject unlock = c.nextEvent();

    assertThat(tokenCreate.get("object_uuid").getAsString()).isEqualTo(auth);
    assertThat(tokenCreate.get("object_kind").getAsString())
        .isEqualTo("arvados#apiClientAuthorization");
    assertThat(tokenCreate.get("event_type").getAsString()).isEqualTo("create");
    assertThat(tokenCreate.get("properties").toString()).isEqualTo("{\"new_attributes\":{}}");
    assertThat(lock.get("object_uuid").getAsString()).isEqualTo(uuid);
    assertThat(lock.get("event_type").getAsString()).isEqualTo("update");
    assertThat(state(lock, "old_attributes")).isEqualTo("Queued");
    assertThat(state(lock, "new_attributes")).isEqualTo("Locked");
    assertThat(tokenExpire.get("object_uuid").getAsString()).isEqualTo(auth);
    assertThat(tokenExpire.get("event_type").getAsString()).isEqualTo("update");
    assertThat(state(unlock, "old_attributes")).isEqualTo("Locked");
    assertThat(state(unlock, "new_attributes")).isEqualTo("Queued");
    assertThat(List.of(tokenCreate, lock, tokenExpire, unlock))
        .extracting(e -> e.get("msgID").getAsLong())
        .containsExactly(1L, 2L, 3L, 4L);
    assertThat(List.of(tokenCreate, lock, tokenExpire, unlock))
        .extracting(e -> e.get("id").getAsLong())
        .isSorted()
        .doesNotHaveDuplicates();
    assertThat(unlock.get("properties").getAsJsonObject().keySet())
        .containsExactly("new_attributes", "old_attributes");
    assertThat(unlock.get("properties").toString())
        .doesNotContain("priority")
        .doesNotContain("locked_by_uuid")
        .doesNotContain("auth_uuid");
  }

  @Test
  void everyAcceptedUpdateIsAnEvent_rejectedOnesAreNot_andDeleteCarriesOnlyOldAttributes()
      throws Exception {
    String uuid = sim.createContainer();
    http.lock(uuid, ADMIN);
    WsClient c = connect(ADMIN);
    c.send("{\"method\":\"subscribe\"}");
    assertThat(c.next()).isEqualTo("{\"status\":200}");

    assertThat(http.update(uuid, ADMIN, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(http.update(uuid, ADMIN, "{\"state\":\"Queued\"}").status()).isEqualTo(422);
    assertThat(http.update(uuid, ADMIN, "{\"progress\":0.5}").status()).isEqualTo(200);
    assertThat(http.delete(Http.c(uuid)).token(ADMIN).send().status()).isEqualTo(200);
    List<JsonObject> events = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      events.add(c.nextEvent());
    }
    assertThat(c.drain(Duration.ofMillis(300))).isEmpty();

    assertThat(events)
        .extracting(e -> e.get("event_type").getAsString())
        .containsExactly("update", "update", "delete");
    assertThat(state(events.get(0), "new_attributes")).isEqualTo("Running");
    assertThat(state(events.get(1), "new_attributes")).isEqualTo("Running"); // progress only
    assertThat(events.get(2).get("properties").getAsJsonObject().keySet())
        .containsExactly("old_attributes");
  }

  @Test
  void priorityChangesMadeByRequestsOrTheController_produceNoContainerEvent() throws Exception {
    String uuid = sim.createContainer();
    WsClient c = connect(ADMIN);
    c.subscribe(CHANGES);

    sim.setPriority(uuid, 7);
    sim.createContainerRequest(uuid, sim.userUuid(USER));
    JsonObject crCreate = c.nextEvent();

    assertThat(crCreate.get("object_kind").getAsString()).isEqualTo("arvados#containerRequest");
    assertThat(crCreate.get("event_type").getAsString()).isEqualTo("create");
    assertThat(c.drain(Duration.ofMillis(300))).isEmpty();
    assertThat(sim.container(uuid).priority()).isZero(); // changed, silently
  }

  // ---- control messages, filters ----------------------------------------------------------------

  @Test
  void badJsonUnknownMethodAndUnmatchedUnsubscribe_are400_andTheConnectionStays() throws Exception {
    WsClient c = connect(ADMIN);

    c.send("{not json");
    c.send("{\"method\":\"publish\"}");
    c.send("{\"method\":\"unsubscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\"]]]}");
    c.send("{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\"]]]}");
    c.send("{\"method\":\"unsubscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\"]]]}");
    c.send("{\"METHOD\":\"subscribe\",\"Filters\":[[\"event_type\",\"in\",[\"update\"]]]}");

    assertThat(List.of(c.next(), c.next(), c.next(), c.next(), c.next(), c.next()))
        .containsExactly(
            "{\"status\":400}",
            "{\"status\":400}",
            "{\"status\":400}",
            "{\"status\":200}",
            "{\"status\":200}",
            "{\"status\":200}");
    String uuid = sim.createContainer(); // create: unsubscribed
    http.lock(uuid, ADMIN);
    assertThat(c.nextEvent().get("event_type").getAsString()).isEqualTo("update");
  }

  @Test
  void filtersTheServerDoesNotHonour_areIgnored_soTheyMatchEverything() throws Exception {
    String other = sim.createContainer();
    WsClient c = connect(ADMIN);
    c.subscribe(
        "{\"method\":\"subscribe\",\"filters\":[[\"object_uuid\",\"is_a\",\"arvados#collection\"],"
            + "[\"object_uuid\",\"=\",\"zzzzz-dz642-000000000000000\"],"
            + "[\"event_type\",\"=\",\"delete\"]]}");

    http.lock(other, ADMIN);

    assertThat(c.nextEvent().get("object_kind").getAsString())
        .isEqualTo("arvados#apiClientAuthorization");
    assertThat(c.nextEvent().get("object_uuid").getAsString()).isEqualTo(other);
  }

  @Test
  void eventTypeAndCreatedAtFilters_areHonoured_andSeveralSubscriptionsSendAnEventOnce()
      throws Exception {
    WsClient c = connect(ADMIN);
    c.subscribe("{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\"]]]}");
    c.subscribe(
        "{\"method\":\"subscribe\",\"filters\":[[\"created_at\",\">\",\""
            + Instant.now().plusSeconds(3600)
            + "\"]]}");
    c.subscribe("{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"create\"]]]}");

    String uuid = sim.createContainer();
    http.lock(uuid, ADMIN);

    List<String> got = c.drain(Duration.ofMillis(400));
    assertThat(got) // the container's create and, on lock, its token's; not the lock's update
        .extracting(f -> json(f).get("event_type").getAsString())
        .containsExactly("create", "create");
  }

  // ---- permissions ------------------------------------------------------------------------------

  @Test
  void eachEventIsCheckedAsTheConnectionsToken_andABadTokenGetsAcksButNoEvents() throws Exception {
    WsClient user = connect(USER);
    WsClient nobody = connect("not-a-token");
    WsClient none = connect(null);
    user.subscribe(CHANGES);
    nobody.subscribe(CHANGES);
    none.subscribe(CHANGES);

    String hidden = sim.createContainer();
    String mine = sim.createContainer();
    Thread.sleep(300); // the permission check runs when the event is sent: let it see no request
    sim.createContainerRequest(mine, sim.userUuid(USER));
    sim.setPriority(mine, 1); // the request made it 0
    http.lock(hidden, ADMIN);

    JsonObject first = user.nextEvent();
    assertThat(first.get("object_kind").getAsString()).isEqualTo("arvados#containerRequest");
    assertThat(first.get("msgID").getAsLong()).isEqualTo(1); // msgID counts what was sent
    assertThat(user.drain(Duration.ofMillis(300))).isEmpty();
    assertThat(nobody.drain(Duration.ofMillis(100))).isEmpty();
    assertThat(none.drain(Duration.ofMillis(100))).isEmpty();
    // The user reads "mine" now, but arvados-ws cached the denial of its create for an hour.
    assertThat(http.lock(mine, ADMIN).status()).isEqualTo(200);
    assertThat(user.drain(Duration.ofMillis(300))).isEmpty();
    WsClient fresh = connect(USER);
    fresh.subscribe(CHANGES);
    assertThat(http.unlock(mine, ADMIN).status()).isEqualTo(200);
    assertThat(fresh.nextEvent().get("object_uuid").getAsString()).isEqualTo(mine);
  }

  // ---- msgID, ids, replay -----------------------------------------------------------------------

  @Test
  void msgIdCountsPerConnection_whileIdsAreOneSequence() throws Exception {
    WsClient a = connect(ADMIN);
    a.subscribe(CHANGES);
    sim.createContainer();
    JsonObject a1 = a.nextEvent();
    WsClient b = connect(ADMIN);
    b.subscribe(CHANGES);

    sim.createContainer();
    JsonObject a2 = a.nextEvent();
    JsonObject b1 = b.nextEvent();

    assertThat(a1.get("msgID").getAsLong()).isEqualTo(1);
    assertThat(a2.get("msgID").getAsLong()).isEqualTo(2);
    assertThat(b1.get("msgID").getAsLong()).isEqualTo(1);
    assertThat(b1.get("id")).isEqualTo(a2.get("id"));
    assertThat(a2.get("id").getAsLong()).isGreaterThan(a1.get("id").getAsLong());
  }

  @Test
  void lastLogId_replaysLaterEventsInIdOrder_throughThatSubscriptionsFilters() throws Exception {
    String uuid = sim.createContainer();
    long before = sim.events().lastEventId();
    http.lock(uuid, ADMIN);
    http.unlock(uuid, ADMIN);
    WsClient c = connect(ADMIN);

    c.subscribe(
        "{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\",[\"update\"]]],"
            + "\"last_log_id\":"
            + before
            + "}");

    List<JsonObject> got = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      got.add(c.nextEvent());
    }
    assertThat(got).extracting(e -> e.get("id").getAsLong()).isSorted();
    assertThat(got)
        .extracting(e -> e.get("event_type").getAsString())
        .containsOnly("update"); // the token's create is not replayed through this filter
    assertThat(got.get(0).get("object_uuid").getAsString()).isEqualTo(uuid);
    assertThat(c.drain(Duration.ofMillis(200))).isEmpty();
  }

  @Test
  void lastLogId_replaysOnlyTheWindow() throws Exception {
    restartWith(builder().eventsReplayWindow(Duration.ofMillis(300)));
    sim.createContainer();
    Thread.sleep(500);
    String recent = sim.createContainer();
    WsClient c = connect(ADMIN);

    c.subscribe("{\"method\":\"subscribe\",\"last_log_id\":1}");

    assertThat(c.nextEvent().get("object_uuid").getAsString()).isEqualTo(recent);
    assertThat(c.drain(Duration.ofMillis(200))).isEmpty();
  }

  // ---- keepalive, limits ------------------------------------------------------------------------

  @Test
  void keepalive_isAnEmptyObjectAtEverySendTimeoutWhileIdle() throws Exception {
    restartWith(builder().eventsKeepalive(Duration.ofMillis(150)));
    WsClient c = connect(ADMIN);

    assertThat(c.next(Duration.ofSeconds(2))).isEqualTo("{}");
    assertThat(c.next(Duration.ofSeconds(2))).isEqualTo("{}");
  }

  @Test
  void aSlowClientWhoseQueueFills_isDisconnected_andOthersAreNot() throws Exception {
    restartWith(builder().eventsClientQueue(8));
    WsClient slow = connect(ADMIN);
    slow.subscribe(CHANGES);
    assertThat(sim.events().stallClients()).isEqualTo(1);
    WsClient healthy = connect(ADMIN);
    healthy.subscribe(CHANGES);

    for (int i = 0; i < 8; i++) {
      sim.createContainer();
    }
    assertThat(slow.awaitEnd(Duration.ofMillis(300))).isFalse(); // full, not yet overflowing
    sim.createContainer();

    assertThat(slow.awaitEnd(Duration.ofSeconds(5))).isTrue();
    assertThat(sim.events().queueFullDisconnects()).isEqualTo(1);
    assertThat(healthy.drain(Duration.ofMillis(300))).hasSize(9);
    assertThat(sim.events().openConnections()).isEqualTo(1);
  }

  // ---- fault controls ---------------------------------------------------------------------------

  @Test
  void restart_dropsEveryClientAtOnce_andNewConnectionsWork() throws Exception {
    WsClient a = connect(ADMIN);
    WsClient b = connect(USER);
    a.subscribe(CHANGES); // an answer: the server has set the connection up
    b.subscribe(CHANGES);

    assertThat(sim.events().restart()).isEqualTo(2);

    assertThat(a.awaitEnd(Duration.ofSeconds(5))).isTrue();
    assertThat(b.awaitEnd(Duration.ofSeconds(5))).isTrue();
    assertThat(a.endReason).startsWith("failure"); // no close frame: the process went away
    WsClient again = connect(ADMIN);
    again.subscribe(CHANGES);
    sim.createContainer();
    assertThat(again.nextEvent().get("event_type").getAsString()).isEqualTo("create");
  }

  @Test
  void restartWithDowntime_refusesUpgradesMeanwhile() throws Exception {
    sim.events().restart(Duration.ofSeconds(30));

    WsClient refused = new WsClient(sim.events().websocketUrl(), ADMIN);
    clients.add(refused);

    assertThat(refused.awaitEnd(Duration.ofSeconds(5))).isTrue();
    assertThat(refused.openStatus).isNotEqualTo(101);
  }

  @Test
  void dropNext_losesTheEventLive_butReplayStillHasIt() throws Exception {
    sim.createContainer();
    WsClient c = connect(ADMIN);
    c.subscribe(CHANGES);
    long before = sim.events().lastEventId();

    sim.events().dropNext(1);
    String lost = sim.createContainer();
    String seen = sim.createContainer();

    assertThat(c.nextEvent().get("object_uuid").getAsString()).isEqualTo(seen);
    assertThat(sim.events().droppedEvents()).isEqualTo(1);
    WsClient later = connect(ADMIN);
    later.subscribe("{\"method\":\"subscribe\",\"last_log_id\":" + before + "}");
    assertThat(later.nextEvent().get("object_uuid").getAsString()).isEqualTo(lost);
  }

  @Test
  void reset_cancelsPendingDropsAndTheDelay() throws Exception {
    WsClient c = connect(ADMIN);
    c.subscribe(CHANGES);
    sim.events().dropNext(5);
    sim.events().delayDelivery(Duration.ofSeconds(30));

    sim.reset();
    String uuid = sim.createContainer();

    assertThat(c.nextEvent().get("object_uuid").getAsString()).isEqualTo(uuid);
  }

  @Test
  void delayDelivery_holdsEachEventForTheDelay() throws Exception {
    WsClient c = connect(ADMIN);
    c.subscribe(CHANGES);
    sim.events().delayDelivery(Duration.ofMillis(400));

    long t0 = System.nanoTime();
    sim.createContainer();
    c.nextEvent();

    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(400));
    sim.events().delayDelivery(Duration.ZERO);
  }

  @Test
  void controlEndpoints_readTheStreamAndDriveItsFaults() throws Exception {
    restartWith(builder().enableControlEndpoints(true));
    WsClient c = connect(ADMIN);
    c.subscribe(CHANGES);

    JsonObject info = http.get("_simulator/events").send().json();
    assertThat(info.get("websocket_url").getAsString()).isEqualTo(sim.events().websocketUrl());
    assertThat(info.get("open_connections").getAsInt()).isEqualTo(1);
    assertThat(http.post("_simulator/events/drop").json("{\"count\":1}").send().status())
        .isEqualTo(200);
    sim.createContainer();
    assertThat(c.drain(Duration.ofMillis(300))).isEmpty();
    assertThat(sim.events().droppedEvents()).isEqualTo(1);
    JsonObject restart = http.post("_simulator/events/restart").json("{}").send().json();
    assertThat(restart.get("dropped").getAsInt()).isEqualTo(1);
    assertThat(c.awaitEnd(Duration.ofSeconds(5))).isTrue();
  }

  @Test
  void controlEndpoints_withoutEvents_refuseTheEventControls() {
    restartWith(ArvadosSimulator.builder().adminToken(ADMIN).enableControlEndpoints(true));

    Http.Res r = http.post("_simulator/events/restart").json("{}").send();

    assertThat(r.status()).isEqualTo(422);
    assertThat(r.body()).contains("events are off");
  }

  private static String state(JsonObject event, String side) {
    return event.getAsJsonObject("properties").getAsJsonObject(side).get("state").getAsString();
  }
}
