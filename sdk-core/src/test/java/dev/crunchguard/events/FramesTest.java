package dev.crunchguard.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.ContainerState;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The v0 wire format, both ways, without a server: message shapes from services/ws/session_v0.go
 * (Receive, EventMessage).
 */
class FramesTest {

  @Test
  void containerLockEvent_decodesToATypedEventWithBothSides() {
    Frames.Frame f = Frames.decode(Messages.containerUpdate(48213, 7, "Queued", "Locked"));

    assertThat(f).isInstanceOf(Frames.Event.class);
    ArvadosEvent e = ((Frames.Event) f).event();
    assertThat(e.id()).isEqualTo(48213);
    assertThat(e.messageId()).isEqualTo(7);
    assertThat(e.logUuid()).isEqualTo("zzzzz-57u5n-000000000048213");
    assertThat(e.objectUuid()).isEqualTo(Messages.CONTAINER);
    assertThat(e.objectOwnerUuid()).isEqualTo(Messages.SYSTEM_USER);
    assertThat(e.isContainer()).isTrue();
    assertThat(e.isUpdate()).isTrue();
    assertThat(e.eventAt()).isEqualTo(Instant.parse("2026-08-07T19:37:21.123456Z"));
    assertThat(e.oldState()).contains(ContainerState.QUEUED);
    assertThat(e.newState()).contains(ContainerState.LOCKED);
    assertThat(e.newAttributes())
        .isEqualTo(new EventAttributes(Messages.SYSTEM_USER, "Locked", null, null, null, null));
    assertThat(e.text()).isNull();
  }

  @Test
  void createCarriesOnlyTheNewSide_andDeleteOnlyTheOldSide() {
    ArvadosEvent create =
        ((Frames.Event) Frames.decode(Messages.containerCreate(5, 1, Messages.CONTAINER))).event();
    ArvadosEvent delete =
        ((Frames.Event)
                Frames.decode(
                    "{\"event_at\":\"2026-08-07T19:37:21Z\",\"event_type\":\"delete\","
                        + "\"id\":9,\"msgID\":2,\"object_kind\":\"arvados#collection\",\"object_owner_uuid\":\"zzzzz-tpzed-000000000000000\","
                        + "\"object_uuid\":\"zzzzz-4zz18-000000000000000\",\"properties\":{\"old_attributes\":{\"is_trashed\":true,"
                        + "\"name\":\"c\",\"owner_uuid\":\"zzzzz-tpzed-000000000000000\",\"portable_data_hash\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}},"
                        + "\"uuid\":\"zzzzz-57u5n-000000000000009\"}"))
            .event();

    assertThat(create.isCreate()).isTrue();
    assertThat(create.oldSide()).isEmpty();
    assertThat(create.newState()).contains(ContainerState.QUEUED);
    assertThat(delete.isDelete()).isTrue();
    assertThat(delete.isContainer()).isFalse();
    assertThat(delete.newSide()).isEmpty();
    assertThat(delete.oldAttributes().isTrashed()).isTrue();
    assertThat(delete.oldAttributes().portableDataHash())
        .isEqualTo("d41d8cd98f00b204e9800998ecf8427e+0");
    assertThat(delete.oldState()).isEmpty();
  }

  @Test
  void freeTextLog_keepsItsText() {
    ArvadosEvent e =
        ((Frames.Event)
                Frames.decode(
                    "{\"event_at\":\"2026-08-07T19:37:21Z\",\"event_type\":\"dispatch\","
                        + "\"id\":77,\"msgID\":3,\"object_kind\":\"arvados#container\",\"object_owner_uuid\":\"\",\"object_uuid\":\""
                        + Messages.CONTAINER
                        + "\",\"properties\":{\"text\":\"Error running sbatch\"},\"uuid\":\"zzzzz-57u5n-000000000000077\"}"))
            .event();

    assertThat(e.eventType()).isEqualTo("dispatch");
    assertThat(e.text()).isEqualTo("Error running sbatch");
    assertThat(e.oldSide()).isEmpty();
    assertThat(e.newSide()).isEmpty();
    assertThat(e.objectOwnerUuid()).isEmpty();
  }

  @Test
  void acknowledgementsAndKeepalive_areNotEvents() {
    assertThat(Frames.decode("{\"status\":200}")).isEqualTo(new Frames.Ack(200));
    assertThat(Frames.decode("{\"status\":400}")).isEqualTo(new Frames.Ack(400));
    assertThat(Frames.decode("{}")).isInstanceOf(Frames.Heartbeat.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "not json",
        "[1,2]",
        "\"x\"",
        "{\"foo\":1}",
        "{\"id\":\"12\"}",
        "{\"id\":-3}",
        "{\"id\":1.5}",
        "{} {}",
        "{\"status\":\"ok\"}"
      })
  void garbage_isUndecodable_withoutAnEventId(String text) {
    Frames.Frame f = Frames.decode(text);

    assertThat(f).isInstanceOf(Frames.Undecodable.class);
    assertThat(((Frames.Undecodable) f).id()).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"id\":41,\"event_at\":\"yesterday\"}",
        "{\"id\":41,\"object_uuid\":5}",
        "{\"id\":41,\"properties\":[]}",
        "{\"id\":41,\"properties\":{\"new_attributes\":{\"is_trashed\":\"no\"}}}"
      })
  void anEventThatCannotBeDecoded_isUndecodable_withItsId(String text) {
    Frames.Frame f = Frames.decode(text);

    assertThat(f).isInstanceOf(Frames.Undecodable.class);
    assertThat(((Frames.Undecodable) f).id()).isEqualTo(41);
  }

  @Test
  void undecodableReasons_nameTheKey_neverQuoteTheValue() {
    String value = "v2/zzzzz-gj3su-0e1v2n3t4s5t6k7/partOfASecretValue";
    for (String frame :
        List.of(
            "{\"id\":41,\"event_at\":\"" + value + "\"}",
            "{\"id\":41,\"object_uuid\":[\"" + value + "\"]}")) {
      Frames.Undecodable u = (Frames.Undecodable) Frames.decode(frame);
      assertThat(u.reason()).doesNotContain("partOfASecret").doesNotContain("gj3su");
    }
  }

  @Test
  void subscribe_carriesFiltersAndLastLogId_onlyWhenResuming() {
    List<EventFilter> filters =
        List.of(
            EventFilter.eventTypeIn("create", "update"),
            EventFilter.createdAt(">=", Instant.parse("2026-08-07T19:00:00Z")));

    assertThat(Frames.subscribe(filters, 4711))
        .isEqualTo(
            "{\"method\":\"subscribe\",\"filters\":[[\"event_type\",\"in\","
                + "[\"create\",\"update\"]],[\"created_at\",\">=\",\"2026-08-07T19:00:00Z\"]],\"last_log_id\":4711}");
    assertThat(Frames.subscribe(List.of(), 0))
        .isEqualTo("{\"method\":\"subscribe\",\"filters\":[]}");
    assertThat(Frames.unsubscribe(List.of(EventFilter.eventTypeIn("update"))))
        .isEqualTo(
            "{\"method\":\"unsubscribe\",\"filters\":[[\"event_type\",\"in\",[\"update\"]]]}");
    assertThat(
            Frames.subscribe(
                List.of(
                    new EventFilter("object_uuid", "is_a", "arvados#container"),
                    new EventFilter("priority", ">", 0)),
                0))
        .isEqualTo(
            "{\"method\":\"subscribe\",\"filters\":[[\"object_uuid\",\"is_a\",\"arvados#container\"],"
                + "[\"priority\",\">\",0]]}");
  }

  @Test
  void onlyEventTypeInAndCreatedAt_areHonouredByTheServer() {
    assertThat(EventFilter.eventTypeIn("create").isHonouredByServer()).isTrue();
    assertThat(EventFilter.createdAt("<", Instant.EPOCH).isHonouredByServer()).isTrue();
    assertThat(new EventFilter("event_type", "=", "update").isHonouredByServer()).isFalse();
    assertThat(new EventFilter("object_uuid", "is_a", "arvados#container").isHonouredByServer())
        .isFalse();
    assertThat(new EventFilter("created_at", ">", "last tuesday").isHonouredByServer()).isFalse();
    assertThatThrownBy(() -> new EventFilter("x", "=", new Object()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new EventFilter("x", "in", List.of(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void websocketUrls_takeWsSchemes_defaultToTheWebsocketPath_andRefuseAQuery() {
    assertThat(EventStream.display(EventStream.parseUrl("wss://ws.zzzzz.example.com/websocket")))
        .isEqualTo("wss://ws.zzzzz.example.com/websocket");
    assertThat(EventStream.parseUrl("wss://ws.zzzzz.example.com/websocket").isHttps()).isTrue();
    assertThat(EventStream.display(EventStream.parseUrl("ws://127.0.0.1:8002")))
        .isEqualTo("ws://127.0.0.1:8002/websocket");
    assertThat(EventStream.display(EventStream.parseUrl("https://host/")))
        .isEqualTo("wss://host/websocket");
    assertThatThrownBy(
            () ->
                EventStream.parseUrl(
                    "wss://host/websocket?api_token=" + EventStreamTest.EVENTS_TOKEN))
        .isInstanceOf(IllegalArgumentException.class)
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .doesNotContain(EventStreamTest.EVENTS_TOKEN)
                    .doesNotContain("api_token="));
    assertThatThrownBy(() -> EventStream.parseUrl("ftp://host/"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void dedup_dropsRepeats_andResumesAMarginBelowTheHighestIdSeen() {
    Dedup d = new Dedup(10, 4096);
    assertThat(d.resumePoint()).isZero();

    assertThat(d.firstSighting(5000)).isTrue();
    assertThat(d.firstSighting(4990)).isTrue();
    assertThat(d.firstSighting(5003)).isTrue();
    assertThat(d.firstSighting(4990)).isFalse();
    assertThat(d.highest()).isEqualTo(5003);
    assertThat(d.resumePoint()).isEqualTo(4993);
    Dedup young = new Dedup(1000, 4096);
    young.firstSighting(7);
    assertThat(young.resumePoint())
        .as("never 0 once an id was seen: 0 would mean no replay")
        .isEqualTo(1);
  }
}
