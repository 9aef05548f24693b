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
      return integerLiteral(name, e.getAsString());
    }
    throw wrongType(name, "an integer", e);
  }

  /** A JSON number literal that must be an exact integer (1e3 is, 1.5 is not). */
  static long integerLiteral(String name, String literal) {
    try {
      return Long.parseLong(literal);
    } catch (NumberFormatException notPlain) {
      try {
        return new BigDecimal(literal).longValueExact();
      } catch (ArithmeticException | NumberFormatException e) {
        throw new DecodeException(
            "field '" + name + "': expected an integer, got " + abbreviate(literal));
      }
    }
  }

  static @Nullable Double number(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (e == null) {
      return null;
    }
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      return numberLiteral(name, e.getAsString());
    }
    throw wrongType(name, "a number", e);
  }

  /** A JSON number literal as a finite double. */
  static double numberLiteral(String name, String literal) {
    try {
      double d = Double.parseDouble(literal);
      if (Double.isFinite(d)) {
        return d;
      }
    } catch (NumberFormatException notANumber) {
      // reported below
    }
    throw new DecodeException(
        "field '" + name + "': expected a number, got " + abbreviate(literal));
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
    return s == null ? null : timestampText(name, s);
  }

  /** A string field that must be an RFC 3339 timestamp. */
  static Instant timestampText(String name, String s) {
    try {
      return instant(s);
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

  /**
   * An RFC 3339 timestamp as {@link OffsetDateTime#parse} reads it. The form Arvados writes ({@code
   * 2026-12-01T09:56:14.228593339Z}: UTC, 0 to 9 fraction digits) is read directly, without the
   * formatter's per-call field map (most of a guarded call's decoding allocation); any other form
   * goes to {@code OffsetDateTime.parse}. Both give the same instant for every string the direct
   * path accepts, and the direct path accepts only strings that {@code OffsetDateTime.parse}
   * accepts (a property test compares them).
   *
   * @throws DateTimeParseException if the text is not a timestamp
   */
  static Instant instant(String s) {
    Instant fast = utcInstant(s);
    // ISO_OFFSET_DATE_TIME is a shared formatter; Instant.parse builds one per call on JDK 17.
    return fast != null ? fast : OffsetDateTime.parse(s).toInstant();
  }

  private static @Nullable Instant utcInstant(String s) {
    int n = s.length();
    if (n < 20
        || n > 30
        || n == 21
        || s.charAt(n - 1) != 'Z'
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 7);
    int day = digits(s, 8, 10);
    int hour = digits(s, 11, 13);
    int minute = digits(s, 14, 16);
    int second = digits(s, 17, 19);
    int nanos = 0;
    if (n > 20) {
      if (s.charAt(19) != '.') {
        return null;
      }
      int fraction = digits(s, 20, n - 1);
      if (fraction < 0) {
        return null;
      }
      nanos = fraction;
      for (int i = n - 1 - 20; i < 9; i++) {
        nanos *= 10;
      }
    }
    if ((year | month | day | hour | minute | second) < 0
        || hour > 23
        || minute > 59
        || second > 59) {
      return null;
    }
    if (month < 1
        || month > 12
        || day < 1
        || day > java.time.Month.of(month).length(java.time.Year.isLeap(year))) {
      return null; // February 30th and the like: the formatter says why
    }
    long seconds = epochDay(year, month, day) * 86_400L + hour * 3_600L + minute * 60L + second;
    return Instant.ofEpochSecond(seconds, nanos);
  }

  /**
   * Days from 1970-01-01 to a valid proleptic Gregorian date, by counting from a year that starts
   * in March (so the leap day ends it) in 400-year eras of 146,097 days. No objects, unlike {@code
   * LocalDate.of(…).toEpochDay()}.
   */
  static long epochDay(int year, int month, int day) {
    int y = month <= 2 ? year - 1 : year;
    int era = Math.floorDiv(y, 400);
    int yearOfEra = y - era * 400;
    int monthFromMarch = (month + 9) % 12;
    int dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1;
    int dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    return era * 146_097L + dayOfEra - 719_468L;
  }

  /** The decimal number in s[from, to), or -1 if any character is not an ASCII digit. */
  private static int digits(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
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
