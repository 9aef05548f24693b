package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The container columns (spec §4.1), their JSON types, and how client input is coerced into them.
 * Declaration order is the rendering order.
 */
public enum Attr {
  UUID("uuid", Type.STRING),
  OWNER_UUID("owner_uuid", Type.STRING),
  CREATED_AT("created_at", Type.TIME),
  MODIFIED_BY_USER_UUID("modified_by_user_uuid", Type.NSTRING),
  MODIFIED_AT("modified_at", Type.NTIME),
  COMMAND("command", Type.STRING_ARRAY),
  CONTAINER_IMAGE("container_image", Type.STRING),
  CWD("cwd", Type.STRING),
  ENVIRONMENT("environment", Type.HASH),
  EXIT_CODE("exit_code", Type.NINT),
  FINISHED_AT("finished_at", Type.NTIME),
  LOCKED_BY_UUID("locked_by_uuid", Type.NSTRING),
  LOG("log", Type.NSTRING),
  MOUNTS("mounts", Type.HASH),
  OUTPUT("output", Type.NSTRING),
  OUTPUT_PATH("output_path", Type.STRING),
  OUTPUT_GLOB("output_glob", Type.STRING_ARRAY),
  PRIORITY("priority", Type.INT),
  PROGRESS("progress", Type.NNUMBER),
  RUNTIME_CONSTRAINTS("runtime_constraints", Type.HASH),
  RUNTIME_STATUS("runtime_status", Type.HASH),
  STARTED_AT("started_at", Type.NTIME),
  STATE("state", Type.STRING),
  AUTH_UUID("auth_uuid", Type.NSTRING),
  SCHEDULING_PARAMETERS("scheduling_parameters", Type.HASH),
  RUNTIME_USER_UUID("runtime_user_uuid", Type.NSTRING),
  RUNTIME_AUTH_SCOPES("runtime_auth_scopes", Type.STRING_ARRAY),
  LOCK_COUNT("lock_count", Type.INT),
  GATEWAY_ADDRESS("gateway_address", Type.NSTRING),
  INTERACTIVE_SESSION_STARTED("interactive_session_started", Type.BOOL),
  OUTPUT_STORAGE_CLASSES("output_storage_classes", Type.STRING_ARRAY),
  OUTPUT_PROPERTIES("output_properties", Type.HASH),
  COST("cost", Type.NUMBER),
  SUBREQUESTS_COST("subrequests_cost", Type.NUMBER),
  SERVICE("service", Type.BOOL),
  PUBLISHED_PORTS("published_ports", Type.HASH),
  // Hidden columns: stored, settable at create, never rendered.
  RUNTIME_TOKEN("runtime_token", Type.NSTRING, true),
  SECRET_MOUNTS("secret_mounts", Type.HASH, true);

  /** Column types, as far as the JSON API can tell them apart. */
  enum Type {
    STRING,
    NSTRING,
    TIME,
    NTIME,
    STRING_ARRAY,
    HASH,
    INT,
    NINT,
    NUMBER,
    NNUMBER,
    BOOL
  }

  /** Hash-typed parameters the controller accepts as JSON strings (containers_controller.rb). */
  private static final Set<Attr> JSON_STRING_OK =
      Set.of(
          ENVIRONMENT, MOUNTS, RUNTIME_CONSTRAINTS, RUNTIME_STATUS, SCHEDULING_PARAMETERS, COMMAND);

  private static final Map<String, Attr> BY_NAME;

  static {
    Map<String, Attr> m = new LinkedHashMap<>();
    for (Attr a : values()) {
      m.put(a.json, a);
    }
    BY_NAME = Collections.unmodifiableMap(m);
  }

  final String json;
  final Type type;
  final boolean hidden;

  Attr(String json, Type type) {
    this(json, type, false);
  }

  Attr(String json, Type type, boolean hidden) {
    this.json = json;
    this.type = type;
    this.hidden = hidden;
  }

  public static @Nullable Attr byName(String name) {
    return BY_NAME.get(name);
  }

  /** Rails' humanized attribute name: {@code auth_uuid} becomes {@code Auth uuid}. */
  String human() {
    String s = json.replace('_', ' ');
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  boolean nullable() {
    switch (type) {
      case NSTRING:
      case NTIME:
      case NINT:
      case NNUMBER:
        return true;
      default:
        return false;
    }
  }

  /** Thrown when a value cannot be coerced; the message is the validation message. */
  static final class CoercionException extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean raised;

    CoercionException(String message, boolean raised) {
      super(message, null, false, false);
      this.raised = raised;
    }
  }

  /**
   * Coerces a client-supplied value to the stored representation.
   *
   * @throws CoercionException with a full validation message (or, when {@code raised}, an exception
   *     text that aborts the request)
   */
  JsonElement coerce(JsonElement v) throws CoercionException {
    if (v.isJsonNull()) {
      if (type == Type.HASH) {
        return new JsonObject();
      }
      if (type == Type.STRING_ARRAY) {
        return new JsonArray();
      }
      return JsonNull.INSTANCE;
    }
    switch (type) {
      case STRING:
      case NSTRING:
        if (v.isJsonPrimitive()) {
          return new JsonPrimitive(v.getAsString());
        }
        throw new CoercionException(human() + " must be a string", false);
      case TIME:
      case NTIME:
        if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
          Instant t = Json.parseTime(v.getAsString());
          if (t != null) {
            return new JsonPrimitive(Json.formatTime(t));
          }
        }
        throw new CoercionException(human() + " is not a valid time", false);
      case STRING_ARRAY:
        {
          JsonElement a = v;
          if (JSON_STRING_OK.contains(this)) {
            if (a.isJsonPrimitive() && a.getAsJsonPrimitive().isString()) {
              a = parseJsonParam(v.getAsString(), "Array");
            }
            if (!a.isJsonArray()) {
              throw new CoercionException(
                  "#<TypeError: parameter " + json + " must be a Array>", true);
            }
          }
          if (!a.isJsonArray()) {
            throw new CoercionException(human() + " must be an array of strings", false);
          }
          for (JsonElement x : a.getAsJsonArray()) {
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
              throw new CoercionException(human() + " must be an array of strings", false);
            }
          }
          return a.deepCopy();
        }
      case HASH:
        {
          JsonElement h = v;
          if (JSON_STRING_OK.contains(this)) {
            // accept_attribute_as_json: a string is parsed, then the class is checked.
            if (h.isJsonPrimitive() && h.getAsJsonPrimitive().isString()) {
              h = parseJsonParam(v.getAsString(), "Hash");
            }
            if (!h.isJsonObject()) {
              throw new CoercionException(
                  "#<TypeError: parameter " + json + " must be a Hash>", true);
            }
          }
          if (!h.isJsonObject()) {
            throw new CoercionException(human() + " must be a hash", false);
          }
          return h.deepCopy();
        }
      case INT:
      case NINT:
        return this == PRIORITY ? strictInteger(v) : castInteger(v);
      case NUMBER:
      case NNUMBER:
        return castFloat(v);
      case BOOL:
        {
          Boolean b = parseBool(v);
          if (b == null) {
            throw new CoercionException(human() + " must be true or false", false);
          }
          return new JsonPrimitive(b);
        }
      default:
        throw new AssertionError(type);
    }
  }

  private static final Pattern RUBY_TO_I = Pattern.compile("^\\s*([+-]?\\d+(?:_\\d+)*)");
  private static final Pattern RUBY_TO_F =
      Pattern.compile("^\\s*([+-]?\\d+(?:_\\d+)*(?:\\.\\d+(?:_\\d+)*)?(?:[eE][+-]?\\d+)?)");
  private static final Pattern INTEGER_TEXT = Pattern.compile("[+-]?\\d+");

  /**
   * Whether a JSON number was written as a float ({@code 1.0}, {@code 1e3}): Ruby parses those as
   * Float.
   */
  private static boolean floatLiteral(JsonPrimitive p) {
    String t = p.getAsNumber().toString();
    return t.contains(".") || t.contains("e") || t.contains("E");
  }

  private JsonElement rangeChecked(BigInteger i) throws CoercionException {
    if (i.bitLength() > 63) {
      throw new CoercionException(
          "#<ActiveModel::RangeError: "
              + i
              + " is out of range for ActiveModel::Type::Integer with limit 8 bytes>",
          true);
    }
    return new JsonPrimitive(i.longValue());
  }

  /** {@code numericality: {only_integer: true}} on the raw value (priority). */
  private JsonElement strictInteger(JsonElement v) throws CoercionException {
    if (!v.isJsonPrimitive() || v.getAsJsonPrimitive().isBoolean()) {
      throw new CoercionException(human() + " is not a number", false);
    }
    JsonPrimitive p = v.getAsJsonPrimitive();
    if (p.isNumber() && !floatLiteral(p)) {
      return rangeChecked(new BigDecimal(p.getAsString()).toBigIntegerExact());
    }
    String text = p.getAsString();
    if (p.isString() && INTEGER_TEXT.matcher(text).matches()) {
      return rangeChecked(new BigInteger(text));
    }
    try {
      new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw new CoercionException(human() + " is not a number", false);
    }
    throw new CoercionException(human() + " must be an integer", false);
  }

  /** What Rails stores for a priority value that failed its validation (the value it cast to). */
  static JsonElement castPriority(JsonElement v) {
    try {
      return PRIORITY.castInteger(v);
    } catch (CoercionException e) {
      return JsonNull.INSTANCE;
    }
  }

  /** ActiveModel's integer cast, for integer columns without a validator: Ruby's {@code to_i}. */
  private JsonElement castInteger(JsonElement v) throws CoercionException {
    if (!v.isJsonPrimitive()) {
      return JsonNull.INSTANCE;
    }
    JsonPrimitive p = v.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return new JsonPrimitive(p.getAsBoolean() ? 1L : 0L);
    }
    if (p.isNumber()) {
      return rangeChecked(new BigDecimal(p.getAsString()).toBigInteger());
    }
    Matcher m = RUBY_TO_I.matcher(p.getAsString());
    return rangeChecked(m.find() ? new BigInteger(m.group(1).replace("_", "")) : BigInteger.ZERO);
  }

  /** ActiveModel's float cast (no validator on these columns): Ruby's {@code to_f}. */
  private JsonElement castFloat(JsonElement v) throws CoercionException {
    if (!v.isJsonPrimitive()) {
      String cls = v.isJsonArray() ? "Array" : "Hash";
      String suggestions =
          v.isJsonArray()
              ? "\nDid you mean?  to_s\n               to_a\n               to_h"
              : "\nDid you mean?  to_s\n               to_a\n               to_h";
      throw new CoercionException(
          "#<NoMethodError: undefined method `to_f' for "
              + rubyInspect(v)
              + ":"
              + cls
              + "\n\n          else value.to_f\n                    ^^^^^"
              + suggestions
              + ">",
          true);
    }
    JsonPrimitive p = v.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return new JsonPrimitive(p.getAsBoolean() ? 1.0 : 0.0);
    }
    double d;
    if (p.isNumber()) {
      d = p.getAsDouble();
    } else {
      Matcher m = RUBY_TO_F.matcher(p.getAsString());
      d = m.find() ? Double.parseDouble(m.group(1).replace("_", "")) : 0.0;
    }
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new CoercionException(
          "#<JSON::GeneratorError: "
              + (Double.isNaN(d) ? "NaN" : "Infinity")
              + " not allowed in JSON.>",
          true);
    }
    return new JsonPrimitive(d);
  }

  /**
   * SafeJSON.load (Oj strict mode). A parse failure raises Oj's error; its text is reproduced for
   * the common case of a bare word, and approximated (same class, position 1) otherwise.
   */
  private JsonElement parseJsonParam(String text, String kind) throws CoercionException {
    if (text.isEmpty()) {
      // SafeJSON.load('') is nil: the parameter is then skipped, the attribute set to nil.
      return JsonNull.INSTANCE;
    }
    try {
      return Json.parseStrict(text);
    } catch (JsonParseException e) {
      String what =
          Character.isLetter(text.charAt(0))
              ? "not a number or other value"
              : "unexpected character";
      throw new CoercionException(
          "#<Oj::ParseError: " + what + " (after ) at line 1, column 1 [parse.c:499]>", true);
    }
  }

  /** Rails boolean parameter values: true/false/"true"/"false"/1/0/"1"/"0". */
  public static @Nullable Boolean parseBool(JsonElement v) {
    if (!v.isJsonPrimitive()) {
      return null;
    }
    JsonPrimitive p = v.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    String s = p.getAsString().trim().toLowerCase(Locale.ROOT);
    switch (s) {
      case "true":
      case "1":
      case "t":
        return true;
      case "false":
      case "0":
      case "f":
        return false;
      default:
        return null;
    }
  }

  private static final DateTimeFormatter RUBY_TIME =
      DateTimeFormatter.ofPattern("EEE, dd MMM uuuu HH:mm:ss.SSSSSSSSS 'UTC +00:00'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  /** Ruby's {@code inspect} of the value, as it appears in whitelist messages. */
  String inspect(JsonElement v) {
    if ((type == Type.TIME || type == Type.NTIME) && v.isJsonPrimitive()) {
      Instant t = Json.parseTime(v.getAsString());
      if (t != null) {
        return RUBY_TIME.format(t);
      }
    }
    return rubyInspect(v);
  }

  static String rubyInspect(JsonElement v) {
    if (v == null || v.isJsonNull()) {
      return "nil";
    }
    if (v.isJsonPrimitive()) {
      JsonPrimitive p = v.getAsJsonPrimitive();
      if (p.isBoolean()) {
        return Boolean.toString(p.getAsBoolean());
      }
      if (p.isNumber()) {
        Number n = p.getAsNumber();
        if (n instanceof Double || n instanceof Float) {
          return rubyFloat(n.doubleValue());
        }
        String s = n.toString();
        if (s.contains(".") || s.contains("e") || s.contains("E")) {
          return rubyFloat(n.doubleValue());
        }
        return s;
      }
      return rubyString(p.getAsString());
    }
    StringBuilder sb = new StringBuilder();
    if (v.isJsonArray()) {
      sb.append('[');
      boolean first = true;
      for (JsonElement x : v.getAsJsonArray()) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        sb.append(rubyInspect(x));
      }
      return sb.append(']').toString();
    }
    sb.append('{');
    boolean first = true;
    for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
      if (!first) {
        sb.append(", ");
      }
      first = false;
      sb.append(rubyString(e.getKey())).append("=>").append(rubyInspect(e.getValue()));
    }
    return sb.append('}').toString();
  }

  private static String rubyFloat(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e16) {
      return String.format(Locale.ROOT, "%.1f", d);
    }
    String s = Double.toString(d);
    int e = s.indexOf('E');
    if (e < 0) {
      return s;
    }
    String exp = s.substring(e + 1);
    return s.substring(0, e) + "e" + (exp.startsWith("-") ? exp : "+" + exp);
  }

  private static String rubyString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\t':
          sb.append("\\t");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '#':
          // Ruby escapes "#{" , "#$" and "#@" in inspect output.
          if (i + 1 < s.length() && "{$@".indexOf(s.charAt(i + 1)) >= 0) {
            sb.append("\\#");
          } else {
            sb.append('#');
          }
          break;
        default:
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    return sb.append('"').toString();
  }
}
