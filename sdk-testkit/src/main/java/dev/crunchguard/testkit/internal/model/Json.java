package dev.crunchguard.testkit.internal.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import org.jspecify.annotations.Nullable;

/** JSON and timestamp helpers shared by the simulator internals. */
public final class Json {
  public static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

  private static final DateTimeFormatter TS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

  private Json() {}

  /** Renders a timestamp like Rails: nine fraction digits, UTC. */
  static String formatTime(Instant t) {
    return TS.format(t);
  }

  /** The current time at microsecond precision (what PostgreSQL stores). */
  static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MICROS);
  }

  /** Parses an ISO-8601 timestamp; returns null when it is not one. */
  static @Nullable Instant parseTime(String s) {
    try {
      return OffsetDateTime.parse(s).toInstant().truncatedTo(ChronoUnit.MICROS);
    } catch (DateTimeParseException e) {
      try {
        return Instant.parse(s).truncatedTo(ChronoUnit.MICROS);
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
  }

  /**
   * Strictly parses one JSON document (no trailing data, no lenient syntax).
   *
   * @throws JsonParseException when the text is not exactly one valid JSON value
   */
  public static JsonElement parseStrict(String text) {
    checkNesting(text);
    try (JsonReader reader = new JsonReader(new StringReader(text))) {
      reader.setStrictness(Strictness.STRICT);
      JsonElement e = JsonParser.parseReader(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new JsonParseException("unexpected trailing characters");
      }
      return e;
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new JsonParseException(e.getMessage(), e);
    } catch (StackOverflowError e) {
      throw new JsonParseException("JSON nested too deeply");
    }
  }

  /** Like Ruby's JSON parser: more than 100 levels of nesting is a parse error. */
  static final int MAX_NESTING = 100;

  private static void checkNesting(String text) {
    int depth = 0;
    boolean inString = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '[' || c == '{') {
        if (++depth > MAX_NESTING) {
          throw new JsonParseException("nesting of " + depth + " is too deep");
        }
      } else if (c == ']' || c == '}') {
        depth--;
      }
    }
  }

  static JsonElement str(@Nullable String s) {
    return s == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(s);
  }

  static @Nullable String asString(@Nullable JsonElement e) {
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  public static JsonArray stringArray(Iterable<String> values) {
    JsonArray a = new JsonArray();
    for (String v : values) {
      a.add(v);
    }
    return a;
  }

  static boolean isNullish(@Nullable JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return true;
    }
    if (e.isJsonArray()) {
      return e.getAsJsonArray().isEmpty();
    }
    if (e.isJsonObject()) {
      return e.getAsJsonObject().isEmpty();
    }
    return false;
  }

  /** Hash keys sorted at every level (Ruby's deep_sort_hash); arrays keep their order. */
  static JsonElement deepSorted(JsonElement e) {
    if (e.isJsonObject()) {
      JsonObject o = new JsonObject();
      new java.util.TreeMap<>(e.getAsJsonObject().asMap())
          .forEach((k, v) -> o.add(k, deepSorted(v)));
      return o;
    }
    if (e.isJsonArray()) {
      JsonArray a = new JsonArray();
      e.getAsJsonArray().forEach(x -> a.add(deepSorted(x)));
      return a;
    }
    return e.deepCopy();
  }

  public static JsonObject object(Object... kv) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < kv.length; i += 2) {
      Object v = kv[i + 1];
      JsonElement e;
      if (v == null) {
        e = JsonNull.INSTANCE;
      } else if (v instanceof JsonElement) {
        e = (JsonElement) v;
      } else if (v instanceof Number) {
        e = new com.google.gson.JsonPrimitive((Number) v);
      } else if (v instanceof Boolean) {
        e = new com.google.gson.JsonPrimitive((Boolean) v);
      } else {
        e = new com.google.gson.JsonPrimitive(v.toString());
      }
      o.add((String) kv[i], e);
    }
    return o;
  }
}
