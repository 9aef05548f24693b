package dev.crunchguard.testkit.internal.events;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One row of the simulated {@code logs} table, already cut down to what arvados-ws sends: only the
 * six attribute keys it passes through (session_v0.go {@code sendObjectAttributes}), an {@code
 * old_attributes} side only when the row has one (not on a create) and a {@code new_attributes}
 * side only when it has one (not on a delete). Immutable; the frame for a connection differs only
 * in {@code msgID}, so the rest is rendered once.
 */
public final class LogEntry {
  /** The attribute keys arvados-ws keeps of each side of a log's properties, sorted. */
  public static final List<String> SENT_ATTRIBUTES =
      List.of(
          "is_trashed",
          "name",
          "owner_uuid",
          "portable_data_hash",
          "requesting_container_uuid",
          "state");

  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

  private final long id;
  private final String uuid;
  private final String objectUuid;
  private final String objectOwnerUuid;
  private final String objectKind;
  private final String eventType;
  private final Instant eventAt;
  private final Instant createdAt;
  private final long publishedNanos;
  private final String framePrefix;
  private final String frameSuffix;

  LogEntry(
      long id,
      String uuid,
      String objectUuid,
      String objectOwnerUuid,
      String eventType,
      Instant eventAt,
      @Nullable JsonObject oldAttributes,
      @Nullable JsonObject newAttributes,
      @Nullable String text) {
    this.id = id;
    this.uuid = uuid;
    this.objectUuid = objectUuid;
    this.objectOwnerUuid = objectOwnerUuid;
    this.objectKind = kindOf(objectUuid);
    this.eventType = eventType;
    Instant micros = eventAt.truncatedTo(ChronoUnit.MICROS); // a PostgreSQL timestamp
    this.eventAt = micros;
    this.createdAt = micros;
    this.publishedNanos = System.nanoTime();
    // Go's json.Marshal of a map: keys sorted, compact. "msgID" sorts between "id" and
    // "object_kind".
    JsonObject properties = new JsonObject();
    if (text != null) {
      properties.addProperty("text", text);
    } else {
      if (newAttributes != null) {
        properties.add("new_attributes", cut(newAttributes));
      }
      if (oldAttributes != null) {
        properties.add("old_attributes", cut(oldAttributes));
      }
    }
    this.framePrefix =
        "{\"event_at\":"
            + goJson(new JsonPrimitive(goTime(micros)))
            + ",\"event_type\":"
            + goJson(new JsonPrimitive(eventType))
            + ",\"id\":"
            + id
            + ",\"msgID\":";
    this.frameSuffix =
        ",\"object_kind\":"
            + goJson(new JsonPrimitive(objectKind))
            + ",\"object_owner_uuid\":"
            + goJson(new JsonPrimitive(objectOwnerUuid))
            + ",\"object_uuid\":"
            + goJson(new JsonPrimitive(objectUuid))
            + ",\"properties\":"
            + goJson(properties)
            + ",\"uuid\":"
            + goJson(new JsonPrimitive(uuid))
            + "}";
  }

  /**
   * @return the log id ({@code id}), rising across the whole log
   */
  public long id() {
    return id;
  }

  /**
   * @return the log row's uuid ({@code <cluster>-57u5n-...})
   */
  public String uuid() {
    return uuid;
  }

  /**
   * @return the changed object's uuid
   */
  public String objectUuid() {
    return objectUuid;
  }

  /**
   * @return the changed object's owner uuid ({@code ""} when it has none)
   */
  public String objectOwnerUuid() {
    return objectOwnerUuid;
  }

  /**
   * @return the object's kind, worked out from the uuid's type infix
   */
  public String objectKind() {
    return objectKind;
  }

  /**
   * @return {@code create}, {@code update}, {@code delete}, or another log type
   */
  public String eventType() {
    return eventType;
  }

  /**
   * @return {@code event_at}, at microsecond precision
   */
  public Instant eventAt() {
    return eventAt;
  }

  /**
   * @return the row's {@code created_at}, which the {@code created_at} filters and the replay
   *     window compare
   */
  public Instant createdAt() {
    return createdAt;
  }

  /**
   * @return {@link System#nanoTime()} when the row was written (for delayed delivery)
   */
  long publishedNanos() {
    return publishedNanos;
  }

  /**
   * The message arvados-ws sends for this row on one connection.
   *
   * @param msgId the connection's message counter for this message
   * @return compact JSON with sorted keys
   */
  public String frame(long msgId) {
    return framePrefix + msgId + frameSuffix;
  }

  @Override
  public String toString() {
    return "LogEntry[" + id + " " + eventType + " " + objectUuid + "]";
  }

  private static JsonObject cut(JsonObject attributes) {
    JsonObject out = new JsonObject();
    for (String k : SENT_ATTRIBUTES) {
      JsonElement v = attributes.get(k);
      if (attributes.has(k)) {
        out.add(k, v);
      }
    }
    return out;
  }

  /** {@code object_kind} as ws derives it from the uuid's infix through the discovery document. */
  static String kindOf(String uuid) {
    String infix = uuid.length() == 27 ? uuid.substring(6, 11) : "";
    return KINDS.getOrDefault(infix, "");
  }

  private static final Map<String, String> KINDS =
      Map.of(
          "dz642", "arvados#container",
          "xvhdp", "arvados#containerRequest",
          "gj3su", "arvados#apiClientAuthorization",
          "tpzed", "arvados#user",
          "j7d0g", "arvados#group",
          "4zz18", "arvados#collection",
          "57u5n", "arvados#log");

  /** Go's RFC 3339 with nanoseconds: fraction digits without trailing zeros, none when zero. */
  static String goTime(Instant t) {
    String s = SECONDS.format(t);
    int nanos = t.getNano();
    if (nanos != 0) {
      String f = String.format("%09d", nanos);
      int end = f.length();
      while (f.charAt(end - 1) == '0') {
        end--;
      }
      s += "." + f.substring(0, end);
    }
    return s + "Z";
  }

  /**
   * Compact JSON as Go's encoder writes it: object keys sorted, {@code <}, {@code >} and {@code &}
   * escaped as {@code \u003c} and so on (Go's HTML-safe default), nothing else beyond JSON's own
   * escapes.
   */
  static String goJson(JsonElement e) {
    String s = GSON.toJson(sorted(e));
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026");
  }

  private static JsonElement sorted(JsonElement e) {
    if (e.isJsonObject()) {
      TreeMap<String, JsonElement> m = new TreeMap<>();
      for (Map.Entry<String, JsonElement> en : e.getAsJsonObject().entrySet()) {
        m.put(en.getKey(), sorted(en.getValue()));
      }
      JsonObject o = new JsonObject();
      m.forEach(o::add);
      return o;
    }
    if (e.isJsonArray()) {
      com.google.gson.JsonArray a = new com.google.gson.JsonArray();
      e.getAsJsonArray().forEach(x -> a.add(sorted(x)));
      return a;
    }
    return e;
  }

  private static final com.google.gson.Gson GSON =
      new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
}
