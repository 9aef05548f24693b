package dev.crunchguard;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * JSON helpers: strict parsing, typed field access that fails with a clear reason, and encoding.
 */
final class Json {
  /** The media type of every request body the SDK sends. */
  static final okhttp3.MediaType MEDIA_TYPE =
      okhttp3.MediaType.get("application/json; charset=utf-8");

  /** Serialises JSON nulls: {@code "auth_uuid": null} must reach the server, never be dropped. */
  static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

  private Json() {}

  /**
   * A JSON document that is not what the SDK expects. Converted to {@link
   * MalformedResponseException}.
   */
  static final class DecodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DecodeException(String message) {
      super(message, null, false, false);
    }
  }

  static JsonObject parseObject(String text) {
    if (text.isBlank()) {
      throw new DecodeException("empty body where a JSON object was expected");
    }
    JsonElement element;
    JsonReader reader = new JsonReader(new StringReader(text));
    reader.setStrictness(Strictness.STRICT);
    try {
      element = com.google.gson.JsonParser.parseReader(reader);
    } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
      throw new DecodeException("invalid JSON: " + shortReason(e));
    }
    boolean trailing;
    try {
      trailing = reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT;
    } catch (java.io.IOException | IllegalStateException e) {
      // A strict reader refuses a second top-level value when peeking at it.
      trailing = true;
    }
    if (trailing) {
      throw new DecodeException("trailing data after the JSON document");
    }
    if (!element.isJsonObject()) {
      throw new DecodeException("expected a JSON object, got " + kindOf(element));
    }
    return element.getAsJsonObject();
  }

  private static String shortReason(Throwable e) {
    String m = e.getMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    // Gson appends a troubleshooting URL; keep the first sentence only.
    int cut = m.indexOf("\nSee ");
    m = cut > 0 ? m.substring(0, cut) : m;
    return m.length() > 160 ? m.substring(0, 160) + "…" : m;
  }

  static String kindOf(JsonElement e) {
    if (e.isJsonNull()) {
      return "null";
    } else if (e.isJsonObject()) {
      return "an object";
    } else if (e.isJsonArray()) {
      return "an array";
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    return p.isBoolean() ? "a boolean" : p.isNumber() ? "a number" : "a string";
  }

  static @Nullable JsonElement field(JsonObject o, String name) {
    JsonElement e = o.get(name);
    return e == null || e.isJsonNull() ? null : e;
  }

  static @Nullable String string(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return null;
    }
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
      return e.getAsString();
    }
    throw wrongType(name, "a string", e);
  }

  static @Nullable Long integer(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return null;
    }
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      try {
        return new BigDecimal(e.getAsString()).longValueExact();
      } catch (ArithmeticException | NumberFormatException ex) {
        throw new DecodeException(
            "field '" + name + "': expected an integer, got " + abbreviate(e.getAsString()));
      }
    }
    throw wrongType(name, "an integer", e);
  }

  static @Nullable Double number(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return null;
    }
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      try {
        double d = Double.parseDouble(e.getAsString());
        if (!Double.isFinite(d)) {
          throw new NumberFormatException();
        }
        return d;
      } catch (NumberFormatException ex) {
        throw new DecodeException(
            "field '" + name + "': expected a number, got " + abbreviate(e.getAsString()));
      }
    }
    throw wrongType(name, "a number", e);
  }

  static @Nullable Boolean bool(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return null;
    }
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
      return e.getAsBoolean();
    }
    throw wrongType(name, "a boolean", e);
  }

  static @Nullable Instant timestamp(JsonObject o, String name) {
    String s = string(o, name);
    if (s == null) {
      return null;
    }
    try {
      // ISO_OFFSET_DATE_TIME is a shared formatter; Instant.parse builds one per call on JDK 17.
      return OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeParseException ex) {
      // The value is not echoed: a string field may hold anything, a token included.
      throw new DecodeException(
          "field '"
              + name
              + "': expected an RFC 3339 timestamp, got a string of "
              + s.length()
              + " characters");
    }
  }

  static List<String> stringList(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return List.of();
    }
    if (!e.isJsonArray()) {
      throw wrongType(name, "an array of strings", e);
    }
    List<String> out = new ArrayList<>();
    for (JsonElement item : e.getAsJsonArray()) {
      if (!item.isJsonPrimitive() || !item.getAsJsonPrimitive().isString()) {
        throw wrongType(name, "an array of strings", e);
      }
      out.add(item.getAsString());
    }
    return Collections.unmodifiableList(out);
  }

  static Map<String, String> stringMap(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return Map.of();
    }
    if (!e.isJsonObject()) {
      throw wrongType(name, "an object of strings", e);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> en : e.getAsJsonObject().entrySet()) {
      JsonElement v = en.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw wrongType(name + "." + en.getKey(), "a string", v);
      }
      out.put(en.getKey(), v.getAsString());
    }
    return Collections.unmodifiableMap(out);
  }

  static Map<String, Object> objectMap(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return Map.of();
    }
    if (!e.isJsonObject()) {
      throw wrongType(name, "an object", e);
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) Objects.requireNonNull(toJava(e));
    return m;
  }

  /** JSON to unmodifiable Java values: String, Boolean, Long or Double, List, Map, or null. */
  static @Nullable Object toJava(JsonElement e) {
    if (e.isJsonNull()) {
      return null;
    }
    if (e.isJsonPrimitive()) {
      JsonPrimitive p = e.getAsJsonPrimitive();
      if (p.isBoolean()) {
        return p.getAsBoolean();
      }
      if (p.isString()) {
        return p.getAsString();
      }
      BigDecimal d = p.getAsBigDecimal();
      try {
        return d.longValueExact();
      } catch (ArithmeticException notIntegral) {
        return d.doubleValue();
      }
    }
    if (e.isJsonArray()) {
      List<@Nullable Object> out = new ArrayList<>();
      for (JsonElement item : e.getAsJsonArray()) {
        out.add(toJava(item));
      }
      return Collections.unmodifiableList(out);
    }
    Map<String, @Nullable Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> en : e.getAsJsonObject().entrySet()) {
      out.put(en.getKey(), toJava(en.getValue()));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Java values (as produced by {@link #toJava} or supplied by callers) to JSON. */
  static JsonElement toJson(@Nullable Object v) {
    if (v == null) {
      return JsonNull.INSTANCE;
    }
    if (v instanceof JsonElement) {
      return ((JsonElement) v).deepCopy();
    }
    if (v instanceof String) {
      return new JsonPrimitive((String) v);
    }
    if (v instanceof Boolean) {
      return new JsonPrimitive((Boolean) v);
    }
    if (v instanceof Number) {
      Number n = (Number) v;
      if ((n instanceof Double || n instanceof Float) && !Double.isFinite(n.doubleValue())) {
        throw new IllegalArgumentException("JSON cannot represent the number " + n);
      }
      return new JsonPrimitive(n);
    }
    if (v instanceof Map) {
      JsonObject o = new JsonObject();
      for (Map.Entry<?, ?> en : ((Map<?, ?>) v).entrySet()) {
        if (!(en.getKey() instanceof String)) {
          throw new IllegalArgumentException(
              "JSON object keys must be strings, got " + en.getKey());
        }
        o.add((String) en.getKey(), toJson(en.getValue()));
      }
      return o;
    }
    if (v instanceof Iterable) {
      JsonArray a = new JsonArray();
      for (Object item : (Iterable<?>) v) {
        a.add(toJson(item));
      }
      return a;
    }
    throw new IllegalArgumentException(
        "cannot encode a "
            + v.getClass().getName()
            + " as JSON; use String, Number, Boolean, Map, List or null");
  }

  private static DecodeException wrongType(String name, String expected, JsonElement got) {
    return wrongType(name, expected, kindOf(got));
  }

  static DecodeException wrongType(String name, String expected, String gotKind) {
    return new DecodeException("field '" + name + "': expected " + expected + ", got " + gotKind);
  }

  /** The reader's own failure, as the reason a body is not valid JSON. */
  static DecodeException invalid(Exception e) {
    return new DecodeException("invalid JSON: " + shortReason(e));
  }

  static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }
}
