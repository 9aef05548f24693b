package dev.crunchguard.events;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The v0 protocol's frames: encoding of subscribe/unsubscribe, decoding of what the server sends.
 */
final class Frames {
  private Frames() {}

  /** A decoded server frame. */
  sealed interface Frame permits Ack, Heartbeat, Event, Undecodable {}

  /**
   * {@code {"status":N}}: the answer to one subscribe or unsubscribe, in the order they were sent.
   */
  record Ack(int status) implements Frame {}

  /** {@code {}}: sent by the server when it has had nothing to send for one keepalive period. */
  record Heartbeat() implements Frame {}

  record Event(ArvadosEvent event) implements Frame {}

  /** Anything else. {@code id} is the event id when the frame carried a usable one, else 0. */
  record Undecodable(String reason, long id) implements Frame {}

  static String subscribe(List<EventFilter> filters, long lastLogId) {
    JsonObject o = new JsonObject();
    o.addProperty("method", "subscribe");
    o.add("filters", filters(filters));
    if (lastLogId > 0) {
      o.addProperty("last_log_id", lastLogId);
    }
    return o.toString();
  }

  static String unsubscribe(List<EventFilter> filters) {
    JsonObject o = new JsonObject();
    o.addProperty("method", "unsubscribe");
    o.add("filters", filters(filters));
    return o.toString();
  }

  /**
   * The event type of {@link #endOfReplayProbe()}: no event has it, so no subscription matches it.
   */
  static final String END_OF_REPLAY_EVENT_TYPE = "crunchguard:end-of-replay";

  /**
   * A message sent after the subscribes that carry {@code last_log_id}. arvados-ws replays old
   * events inside its handling of the subscribe, on the connection's one reader, and reads the next
   * message only after that (session_v0.go {@code Receive} and {@code sendOldEvents}); its answer
   * is queued behind the last replayed event. It unsubscribes a filter no one subscribes to, which
   * the server answers with {@code {"status":400}} and logs only at debug level.
   */
  static String endOfReplayProbe() {
    return unsubscribe(List.of(EventFilter.eventTypeIn(END_OF_REPLAY_EVENT_TYPE)));
  }

  private static JsonArray filters(List<EventFilter> filters) {
    JsonArray all = new JsonArray();
    for (EventFilter f : filters) {
      JsonArray one = new JsonArray();
      one.add(f.attribute());
      one.add(f.operator());
      Object v = f.operand();
      if (v instanceof List<?> list) {
        JsonArray a = new JsonArray();
        list.forEach(s -> a.add((String) s));
        one.add(a);
      } else if (v instanceof Long l) {
        one.add(l);
      } else if (v instanceof Boolean b) {
        one.add(b);
      } else {
        one.add((String) v);
      }
      all.add(one);
    }
    return all;
  }

  static Frame decode(String text) {
    JsonObject o;
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      JsonElement e = JsonParser.parseReader(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        return new Undecodable("trailing data after the JSON value", 0);
      }
      if (!e.isJsonObject()) {
        return new Undecodable("not a JSON object", 0);
      }
      o = e.getAsJsonObject();
    } catch (JsonParseException | IOException | IllegalStateException | StackOverflowError e) {
      return new Undecodable("not JSON", 0);
    }
    if (o.size() == 0) {
      return new Heartbeat();
    }
    if (!o.has("id")) {
      if (o.has("status")) {
        Long status = integral(o.get("status"));
        return status == null
            ? new Undecodable("status is not an integer", 0)
            : new Ack(status.intValue());
      }
      return new Undecodable("neither an event, an acknowledgement nor a heartbeat", 0);
    }
    Long id = integral(o.get("id"));
    if (id == null || id <= 0) {
      return new Undecodable("event id is not a positive integer", 0);
    }
    try {
      Long msgId =
          o.has("msgID") && !o.get("msgID").isJsonNull()
              ? integral(o.get("msgID"))
              : Long.valueOf(0);
      if (msgId == null) {
        throw new IllegalArgumentException("msgID is not an integer");
      }
      String at = string(o, "event_at");
      Instant eventAt = null;
      if (at != null && !at.isEmpty()) {
        try {
          eventAt = OffsetDateTime.parse(at).toInstant();
        } catch (DateTimeParseException e) {
          // Not the parser's message: it quotes the value, which could be anything (even a token).
          throw new IllegalArgumentException("event_at is not an RFC 3339 time");
        }
      }
      EventAttributes oldSide = null;
      EventAttributes newSide = null;
      String text1 = null;
      JsonElement p = o.get("properties");
      if (p != null && !p.isJsonNull()) {
        if (!p.isJsonObject()) {
          throw new IllegalArgumentException("properties is not an object");
        }
        JsonObject props = p.getAsJsonObject();
        text1 = string(props, "text");
        oldSide = attributes(props, "old_attributes");
        newSide = attributes(props, "new_attributes");
      }
      return new Event(
          new ArvadosEvent(
              id,
              msgId,
              orEmpty(string(o, "uuid")),
              orEmpty(string(o, "object_uuid")),
              orEmpty(string(o, "object_owner_uuid")),
              orEmpty(string(o, "object_kind")),
              orEmpty(string(o, "event_type")),
              eventAt,
              oldSide,
              newSide,
              text1));
    } catch (IllegalArgumentException e) {
      // Every message here is this class's own and names a key, never a value.
      return new Undecodable("event " + id + ": " + e.getMessage(), id);
    }
  }

  private static @Nullable EventAttributes attributes(JsonObject props, String key) {
    JsonElement e = props.get(key);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonObject()) {
      // The server leaves a side out when it is not a hash; anything else is not its shape.
      throw new IllegalArgumentException(key + " is not an object");
    }
    JsonObject a = e.getAsJsonObject();
    Boolean trashed = null;
    JsonElement t = a.get("is_trashed");
    if (t != null && !t.isJsonNull()) {
      if (!t.isJsonPrimitive() || !t.getAsJsonPrimitive().isBoolean()) {
        throw new IllegalArgumentException(key + ".is_trashed is not a boolean");
      }
      trashed = t.getAsBoolean();
    }
    return new EventAttributes(
        string(a, "owner_uuid"),
        string(a, "state"),
        string(a, "name"),
        string(a, "portable_data_hash"),
        string(a, "requesting_container_uuid"),
        trashed);
  }

  private static @Nullable String string(JsonObject o, String key) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException(key + " is not a string");
    }
    return e.getAsString();
  }

  private static String orEmpty(@Nullable String s) {
    return s == null ? "" : s;
  }

  private static @Nullable Long integral(JsonElement e) {
    if (e == null || !e.isJsonPrimitive() || !((JsonPrimitive) e).isNumber()) {
      return null;
    }
    try {
      return new BigDecimal(e.getAsString()).longValueExact();
    } catch (ArithmeticException | NumberFormatException x) {
      return null;
    }
  }
}
