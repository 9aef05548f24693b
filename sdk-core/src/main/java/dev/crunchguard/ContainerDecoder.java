package dev.crunchguard;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Decodes container records by streaming: Gson's {@link JsonReader} feeds each known field straight
 * into its typed value, unknown fields are skipped unread, and no JSON tree is built and then
 * copied (that tree was most of the allocation of a guarded call). The rules are those of the typed
 * accessors in {@link Json}: the same accepted types, the same {@link Json.DecodeException}
 * messages, JSON null read as absent, the last of duplicate keys winning, free-form numbers as
 * {@code Long} when integral and {@code Double} otherwise, every list and map unmodifiable. Gson's
 * reader refuses nesting deeper than its limit (255), so recursion here is bounded.
 */
final class ContainerDecoder {
  private ContainerDecoder() {}

  /** What a record carried, filled in document order, then frozen into a {@link Container}. */
  static final class Fields {
    @Nullable String uuid;
    long present;
    @Nullable ContainerState state;
    @Nullable String kind = null;
    @Nullable String etag = null;
    @Nullable String ownerUuid = null;
    @Nullable Instant createdAt = null;
    @Nullable String modifiedByUserUuid = null;
    @Nullable Instant modifiedAt = null;
    List<String> command = List.of();
    @Nullable String containerImage = null;
    @Nullable String cwd = null;
    Map<String, String> environment = Map.of();
    @Nullable Long exitCode = null;
    @Nullable Instant finishedAt = null;
    @Nullable String lockedByUuid = null;
    @Nullable String log = null;
    Map<String, Object> mounts = Map.of();
    @Nullable String output = null;
    @Nullable String outputPath = null;
    List<String> outputGlob = List.of();
    @Nullable Long priority = null;
    @Nullable Double progress = null;
    Map<String, Object> runtimeConstraints = Map.of();
    Map<String, Object> runtimeStatus = Map.of();
    @Nullable Instant startedAt = null;
    @Nullable String authUuid = null;
    Map<String, Object> schedulingParameters = Map.of();
    @Nullable String runtimeUserUuid = null;
    List<String> runtimeAuthScopes = List.of();
    @Nullable Long lockCount = null;
    @Nullable String gatewayAddress = null;
    @Nullable Boolean interactiveSessionStarted = null;
    List<String> outputStorageClasses = List.of();
    Map<String, Object> outputProperties = Map.of();
    @Nullable Double cost = null;
    @Nullable Double subrequestsCost = null;
    @Nullable Boolean service = null;
    Map<String, Object> publishedPorts = Map.of();
  }

  /** For records held as a tree: the same decoding through Gson's tree reader. */
  private static final TypeAdapter<Container> ADAPTER =
      new TypeAdapter<>() {
        @Override
        public void write(JsonWriter out, Container value) {
          throw new UnsupportedOperationException("containers are decoded, never encoded");
        }

        @Override
        public Container read(JsonReader in) throws IOException {
          return ContainerDecoder.read(in);
        }
      };

  /**
   * Decodes a whole response body holding one container record.
   *
   * @throws Json.DecodeException if the body is not one JSON object that is a valid record
   */
  static Container parse(String text) {
    if (hasControlCharacter(text)) {
      // Legal only as whitespace between tokens, which servers do not write. The light read skips
      // the values a lock does not read, and Gson's skipValue does not apply strict mode's rule
      // against raw control characters inside strings: read everything now, so that such a body
      // fails here and not in a later accessor.
      Fields f = decode(text, false);
      return Container.of(Objects.requireNonNull(f.uuid), f);
    }
    Fields f = decode(text, true);
    return Container.lazy(Objects.requireNonNull(f.uuid), f, text);
  }

  /** Whether {@code text} holds a character below U+0020 (tab, newline and CR included). */
  static boolean hasControlCharacter(String text) {
    for (int i = 0, n = text.length(); i < n; i++) {
      if (text.charAt(i) < 0x20) {
        return true;
      }
    }
    return false;
  }

  /** The whole record of a body that {@link #parse} accepted. */
  static Fields decodeFully(String text) {
    return decode(text, false);
  }

  private static Fields decode(String text, boolean light) {
    JsonReader r = open(text);
    try {
      expectObject(r);
      Fields f = read(r, light);
      expectEnd(r);
      return f;
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw Json.invalid(e);
    }
  }

  /** A page of a list answer: its items, and {@code items_available} when the server sent it. */
  record Page(List<Container> items, @Nullable Long itemsAvailable) {}

  /**
   * Decodes a list envelope ({@code items}, {@code items_available}; other keys skipped).
   *
   * @throws Json.DecodeException if the body is not an envelope of valid records
   */
  static Page parseList(String text) {
    JsonReader r = open(text);
    try {
      expectObject(r);
      List<Container> items = null;
      Long available = null;
      r.beginObject();
      while (r.hasNext()) {
        String name = r.nextName();
        if (name.equals("items")) {
          if (r.peek() != JsonToken.BEGIN_ARRAY) {
            r.skipValue();
            items = null;
            continue;
          }
          items = new ArrayList<>();
          r.beginArray();
          while (r.hasNext()) {
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
              throw new Json.DecodeException("list item is not an object");
            }
            items.add(read(r));
          }
          r.endArray();
        } else if (name.equals("items_available")) {
          available = integer(r, name);
        } else {
          r.skipValue();
        }
      }
      r.endObject();
      expectEnd(r);
      if (items == null) {
        throw new Json.DecodeException("list response has no 'items' array");
      }
      return new Page(Collections.unmodifiableList(items), available);
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw Json.invalid(e);
    }
  }

  /** Decodes a record already parsed into a tree. */
  static Container fromTree(JsonObject o) {
    try {
      return ADAPTER.fromJsonTree(o);
    } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
      throw Json.invalid(e);
    }
  }

  private static JsonReader open(String text) {
    if (text.isBlank()) {
      throw new Json.DecodeException("empty body where a JSON object was expected");
    }
    JsonReader r = new JsonReader(new StringReader(text));
    r.setStrictness(Strictness.STRICT);
    return r;
  }

  private static void expectObject(JsonReader r) throws IOException {
    JsonToken t = r.peek();
    if (t != JsonToken.BEGIN_OBJECT) {
      // Read the value first: invalid JSON is reported as such, not as the wrong kind.
      r.skipValue();
      expectEnd(r);
      throw new Json.DecodeException("expected a JSON object, got " + kindOf(t));
    }
  }

  private static void expectEnd(JsonReader r) {
    boolean trailing;
    try {
      trailing = r.peek() != JsonToken.END_DOCUMENT;
    } catch (IOException | IllegalStateException e) {
      // A strict reader refuses a second top-level value when peeking at it.
      trailing = true;
    }
    if (trailing) {
      throw new Json.DecodeException("trailing data after the JSON document");
    }
  }

  /** Reads one whole record object from the reader's current position. */
  static Container read(JsonReader r) throws IOException {
    Fields f = read(r, false);
    return Container.of(Objects.requireNonNull(f.uuid), f);
  }

  /**
   * Reads one record object. With {@code light}, every field is checked exactly as a full decode
   * checks it, but only the fields a lock reads (uuid, state, the epoch, priority, exit code and
   * timestamps) are kept; the others are skipped without building strings, lists or maps. A record
   * that passes the light read therefore always decodes in full.
   */
  private static Fields read(JsonReader r, boolean light) throws IOException {
    Fields f = new Fields();
    r.beginObject();
    while (r.hasNext()) {
      String name = r.nextName();
      Integer bit = Container.FIELD_INDEX.get(name);
      if (bit == null) {
        r.skipValue();
        continue;
      }
      f.present |= 1L << bit;
      switch (name) {
        case "uuid":
          f.uuid = string(r, name);
          break;
        case "state":
          String s = string(r, name);
          f.state = s == null ? null : ContainerState.fromWire(s);
          break;
        case "kind":
          if (light) {
            checkString(r, name);
          } else {
            f.kind = string(r, name);
          }
          break;
        case "etag":
          if (light) {
            checkString(r, name);
          } else {
            f.etag = string(r, name);
          }
          break;
        case "owner_uuid":
          if (light) {
            checkString(r, name);
          } else {
            f.ownerUuid = string(r, name);
          }
          break;
        case "created_at":
          f.createdAt = timestamp(r, name);
          break;
        case "modified_by_user_uuid":
          if (light) {
            checkString(r, name);
          } else {
            f.modifiedByUserUuid = string(r, name);
          }
          break;
        case "modified_at":
          f.modifiedAt = timestamp(r, name);
          break;
        case "command":
          if (light) {
            checkStringList(r, name);
          } else {
            f.command = stringList(r, name);
          }
          break;
        case "container_image":
          if (light) {
            checkString(r, name);
          } else {
            f.containerImage = string(r, name);
          }
          break;
        case "cwd":
          if (light) {
            checkString(r, name);
          } else {
            f.cwd = string(r, name);
          }
          break;
        case "environment":
          if (light) {
            checkStringMap(r, name);
          } else {
            f.environment = stringMap(r, name);
          }
          break;
        case "exit_code":
          f.exitCode = integer(r, name);
          break;
        case "finished_at":
          f.finishedAt = timestamp(r, name);
          break;
        case "locked_by_uuid":
          f.lockedByUuid = string(r, name);
          break;
        case "log":
          if (light) {
            checkString(r, name);
          } else {
            f.log = string(r, name);
          }
          break;
        case "mounts":
          if (light) {
            checkObjectMap(r, name);
          } else {
            f.mounts = objectMap(r, name);
          }
          break;
        case "output":
          if (light) {
            checkString(r, name);
          } else {
            f.output = string(r, name);
          }
          break;
        case "output_path":
          if (light) {
            checkString(r, name);
          } else {
            f.outputPath = string(r, name);
          }
          break;
        case "output_glob":
          if (light) {
            checkStringList(r, name);
          } else {
            f.outputGlob = stringList(r, name);
          }
          break;
        case "priority":
          f.priority = integer(r, name);
          break;
        case "progress":
          if (light) {
            number(r, name);
          } else {
            f.progress = number(r, name);
          }
          break;
        case "runtime_constraints":
          if (light) {
            checkObjectMap(r, name);
          } else {
            f.runtimeConstraints = objectMap(r, name);
          }
          break;
        case "runtime_status":
          if (light) {
            checkObjectMap(r, name);
          } else {
            f.runtimeStatus = objectMap(r, name);
          }
          break;
        case "started_at":
          f.startedAt = timestamp(r, name);
          break;
        case "auth_uuid":
          f.authUuid = string(r, name);
          break;
        case "scheduling_parameters":
          if (light) {
            checkObjectMap(r, name);
          } else {
            f.schedulingParameters = objectMap(r, name);
          }
          break;
        case "runtime_user_uuid":
          if (light) {
            checkString(r, name);
          } else {
            f.runtimeUserUuid = string(r, name);
          }
          break;
        case "runtime_auth_scopes":
          if (light) {
            checkStringList(r, name);
          } else {
            f.runtimeAuthScopes = stringList(r, name);
          }
          break;
        case "lock_count":
          f.lockCount = integer(r, name);
          break;
        case "gateway_address":
          if (light) {
            checkString(r, name);
          } else {
            f.gatewayAddress = string(r, name);
          }
          break;
        case "interactive_session_started":
          if (light) {
            bool(r, name);
          } else {
            f.interactiveSessionStarted = bool(r, name);
          }
          break;
        case "output_storage_classes":
          if (light) {
            checkStringList(r, name);
          } else {
            f.outputStorageClasses = stringList(r, name);
          }
          break;
        case "output_properties":
          if (light) {
            checkObjectMap(r, name);
          } else {
            f.outputProperties = objectMap(r, name);
          }
          break;
        case "cost":
          if (light) {
            number(r, name);
          } else {
            f.cost = number(r, name);
          }
          break;
        case "subrequests_cost":
          if (light) {
            number(r, name);
          } else {
            f.subrequestsCost = number(r, name);
          }
          break;
        case "service":
          if (light) {
            bool(r, name);
          } else {
            f.service = bool(r, name);
          }
          break;
        case "published_ports":
          if (light) {
            checkObjectMap(r, name);
          } else {
            f.publishedPorts = objectMap(r, name);
          }
          break;
        default:
          r.skipValue();
      }
    }
    r.endObject();
    if (f.uuid == null) {
      throw new Json.DecodeException("container record has no 'uuid'");
    }
    Compact.shareValues(f);
    return f;
  }

  // ---- typed values: JSON null is absent; any other type is a DecodeException naming the field

  private static boolean isNull(JsonReader r) throws IOException {
    if (r.peek() == JsonToken.NULL) {
      r.nextNull();
      return true;
    }
    return false;
  }

  private static @Nullable String string(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return null;
    }
    expect(r, JsonToken.STRING, name, "a string");
    return r.nextString();
  }

  private static @Nullable Long integer(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return null;
    }
    expect(r, JsonToken.NUMBER, name, "an integer");
    return Json.integerLiteral(name, r.nextString());
  }

  private static @Nullable Double number(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return null;
    }
    expect(r, JsonToken.NUMBER, name, "a number");
    return Compact.number(Json.numberLiteral(name, r.nextString()));
  }

  private static @Nullable Boolean bool(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return null;
    }
    expect(r, JsonToken.BOOLEAN, name, "a boolean");
    return r.nextBoolean();
  }

  private static @Nullable Instant timestamp(JsonReader r, String name) throws IOException {
    String s = string(r, name);
    return s == null ? null : Json.timestampText(name, s);
  }

  private static List<String> stringList(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return List.of();
    }
    expect(r, JsonToken.BEGIN_ARRAY, name, "an array of strings");
    r.beginArray();
    if (!r.hasNext()) {
      r.endArray();
      return List.of();
    }
    @Nullable Object[] out = new Object[4];
    int n = 0;
    while (r.hasNext()) {
      if (r.peek() != JsonToken.STRING) {
        // As the tree decoder said it: the array, as a whole, is not an array of strings.
        throw Json.wrongType(name, "an array of strings", "an array");
      }
      out = room(out, n);
      out[n++] = Compact.share(r.nextString());
    }
    r.endArray();
    return Compact.list(out, n);
  }

  private static Map<String, String> stringMap(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return Map.of();
    }
    expect(r, JsonToken.BEGIN_OBJECT, name, "an object of strings");
    r.beginObject();
    if (!r.hasNext()) {
      r.endObject();
      return Map.of();
    }
    @Nullable Object[] kv = new Object[8];
    int n = 0;
    while (r.hasNext()) {
      String key = r.nextName();
      JsonToken t = r.peek();
      if (t != JsonToken.STRING) {
        throw Json.wrongType(name + "." + key, "a string", kindOf(t));
      }
      kv = room(kv, 2 * n + 1);
      // The environment's values may be secrets: not kept alive in the shared caches.
      kv[2 * n] = Compact.share(key);
      kv[2 * n + 1] = r.nextString();
      n++;
    }
    r.endObject();
    return Compact.privateMap(kv, n);
  }

  private static Map<String, Object> objectMap(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return Map.of();
    }
    expect(r, JsonToken.BEGIN_OBJECT, name, "an object");
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) Objects.requireNonNull(value(r));
    return m;
  }

  // ---- checks of the light read: the same rules as the decoders above, nothing kept

  private static void checkString(JsonReader r, String name) throws IOException {
    if (!isNull(r)) {
      expect(r, JsonToken.STRING, name, "a string");
      r.skipValue();
    }
  }

  private static void checkStringList(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return;
    }
    expect(r, JsonToken.BEGIN_ARRAY, name, "an array of strings");
    r.beginArray();
    while (r.hasNext()) {
      if (r.peek() != JsonToken.STRING) {
        throw Json.wrongType(name, "an array of strings", "an array");
      }
      r.skipValue();
    }
    r.endArray();
  }

  private static void checkStringMap(JsonReader r, String name) throws IOException {
    if (isNull(r)) {
      return;
    }
    expect(r, JsonToken.BEGIN_OBJECT, name, "an object of strings");
    r.beginObject();
    while (r.hasNext()) {
      String key = r.nextName();
      JsonToken t = r.peek();
      if (t != JsonToken.STRING) {
        throw Json.wrongType(name + "." + key, "a string", kindOf(t));
      }
      r.skipValue();
    }
    r.endObject();
  }

  private static void checkObjectMap(JsonReader r, String name) throws IOException {
    if (!isNull(r)) {
      expect(r, JsonToken.BEGIN_OBJECT, name, "an object");
      r.skipValue();
    }
  }

  /** Any JSON value as an unmodifiable Java value (the rules of {@link Json#toJava}). */
  private static @Nullable Object value(JsonReader r) throws IOException {
    switch (r.peek()) {
      case BEGIN_OBJECT:
        r.beginObject();
        if (!r.hasNext()) {
          r.endObject();
          return Map.of();
        }
        @Nullable Object[] kv = new Object[8];
        int pairs = 0;
        while (r.hasNext()) {
          String key = r.nextName();
          kv = room(kv, 2 * pairs + 1);
          kv[2 * pairs] = Compact.share(key);
          kv[2 * pairs + 1] = value(r);
          pairs++;
        }
        r.endObject();
        return Compact.map(kv, pairs);
      case BEGIN_ARRAY:
        r.beginArray();
        if (!r.hasNext()) {
          r.endArray();
          return List.of();
        }
        @Nullable Object[] items = new Object[4];
        int n = 0;
        while (r.hasNext()) {
          items = room(items, n);
          items[n++] = value(r);
        }
        r.endArray();
        return Compact.list(items, n);
      case STRING:
        return Compact.share(r.nextString());
      case NUMBER:
        String literal = r.nextString();
        try {
          return Long.parseLong(literal);
        } catch (NumberFormatException notPlain) {
          BigDecimal d = new BigDecimal(literal);
          try {
            return d.longValueExact();
          } catch (ArithmeticException notIntegral) {
            return Compact.number(d.doubleValue());
          }
        }
      case BOOLEAN:
        return r.nextBoolean();
      case NULL:
        r.nextNull();
        return null;
      default:
        throw new Json.DecodeException("unexpected " + r.peek() + " in a JSON value");
    }
  }

  /** {@code a}, or a copy twice its length when {@code index} is past its end. */
  private static @Nullable Object[] room(@Nullable Object[] a, int index) {
    return index < a.length ? a : java.util.Arrays.copyOf(a, Math.max(2 * a.length, index + 1));
  }

  private static void expect(JsonReader r, JsonToken want, String name, String expected)
      throws IOException {
    JsonToken t = r.peek();
    if (t != want) {
      throw Json.wrongType(name, expected, kindOf(t));
    }
  }

  static String kindOf(JsonToken t) {
    switch (t) {
      case NULL:
        return "null";
      case BEGIN_OBJECT:
        return "an object";
      case BEGIN_ARRAY:
        return "an array";
      case BOOLEAN:
        return "a boolean";
      case NUMBER:
        return "a number";
      case STRING:
        return "a string";
      default:
        return t.toString();
    }
  }
}
