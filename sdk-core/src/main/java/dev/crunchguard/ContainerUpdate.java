package dev.crunchguard;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * An immutable set of container fields to write, limited to what a dispatcher or runner may change:
 * {@code state, priority, progress, runtime_status, log, output, output_properties, exit_code,
 * gateway_address, cost, subrequests_cost, interactive_session_started}.
 *
 * <p>Only the fields set on the builder are sent; a field set to null is sent as JSON null. Which
 * of them the server accepts depends on the container's state and on who writes (the lock holder,
 * another admin, or the container's own token); a field it does not permit is refused with HTTP 422
 * and nothing in the update is applied.
 *
 * <pre>{@code
 * ContainerUpdate progress = ContainerUpdate.builder()
 *     .progress(0.5)
 *     .runtimeStatus(Map.of("activity", "copying output"))
 *     .build();
 * lock.update(progress);
 * }</pre>
 */
public final class ContainerUpdate {
  /** Keys of {@code runtime_status} whose values the server requires to be strings. */
  static final Set<String> RUNTIME_STATUS_STRING_KEYS =
      Set.of("error", "errorDetail", "warning", "warningDetail", "activity", "preemptionNotice");

  private final Map<String, JsonElement> fields;

  private ContainerUpdate(Map<String, JsonElement> fields) {
    this.fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  /**
   * Starts an empty update.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this update's fields, to derive a variant.
   *
   * @return a new builder with the same fields
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    fields.forEach((k, v) -> b.fields.put(k, v.deepCopy()));
    return b;
  }

  /**
   * The API names of the fields this update sets, in the order they were set.
   *
   * @return an unmodifiable set
   */
  public Set<String> fieldNames() {
    return fields.keySet();
  }

  /**
   * The state this update moves the container to, or null if it does not set {@code state}.
   *
   * @return the target state or null
   */
  public @Nullable ContainerState state() {
    JsonElement e = fields.get("state");
    return e == null || e.isJsonNull() ? null : ContainerState.fromWire(e.getAsString());
  }

  /** Writes JSON elements as {@link Json#GSON} does ({@code toJson} of a tree). */
  private static final TypeAdapter<JsonElement> ELEMENTS = Json.GSON.getAdapter(JsonElement.class);

  /**
   * The body of the guarded write of this update: {@code {"container":{<fields>,"auth_uuid":…}}} in
   * UTF-8, {@code auth_uuid} last and JSON null for an unfenced lock. The same bytes as {@code
   * Json.GSON.toJson} of that envelope built as a tree, written by Gson's {@link JsonWriter}
   * straight into UTF-8 bytes, without the tree, its copies or an intermediate string.
   */
  byte[] guardedBody(@Nullable String authUuid) {
    Utf8Writer bytes = new Utf8Writer();
    try {
      JsonWriter out = Json.GSON.newJsonWriter(bytes);
      // As Gson's toJson of a tree: lenient (the setters already refuse what JSON cannot hold).
      out.setStrictness(Strictness.LENIENT);
      out.beginObject().name("container").beginObject();
      for (Map.Entry<String, JsonElement> e : fields.entrySet()) {
        out.name(e.getKey());
        ELEMENTS.write(out, e.getValue());
      }
      out.name("auth_uuid");
      if (authUuid == null) {
        out.nullValue();
      } else {
        out.value(authUuid);
      }
      out.endObject().endObject().flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory does not fail", e);
    }
    return bytes.buffer.readByteArray();
  }

  /**
   * Encodes what it is given as UTF-8 into an okio buffer (pooled segments), as {@code
   * String.getBytes(UTF_8)} would: an unpaired surrogate becomes {@code ?}. {@link JsonWriter}
   * writes string contents in runs cut only at escaped characters, so a surrogate pair always
   * arrives in one call.
   */
  private static final class Utf8Writer extends Writer {
    final Buffer buffer = new Buffer();

    @Override
    public void write(int c) {
      buffer.writeUtf8CodePoint(Character.isSurrogate((char) c) ? '?' : (char) c);
    }

    @Override
    public void write(String s, int off, int len) {
      buffer.writeUtf8(s, off, off + len);
    }

    @Override
    public void write(char[] chars, int off, int len) {
      buffer.writeUtf8(new String(chars, off, len));
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  /** The fields as a JSON object, a fresh copy. */
  JsonObject toJson() {
    JsonObject o = new JsonObject();
    fields.forEach((k, v) -> o.add(k, v.deepCopy()));
    return o;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ContainerUpdate && ((ContainerUpdate) o).fields.equals(fields);
  }

  @Override
  public int hashCode() {
    return fields.hashCode();
  }

  @Override
  public String toString() {
    return "ContainerUpdate" + fields.keySet();
  }

  /**
   * Builds a {@link ContainerUpdate}. Each setter validates its argument at once. Not thread-safe.
   */
  public static final class Builder {
    private final Map<String, JsonElement> fields = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Sets {@code state}.
     *
     * @param state the target state; not {@link ContainerState#UNKNOWN}
     * @return this builder
     */
    public Builder state(ContainerState state) {
      if (state == null || state == ContainerState.UNKNOWN) {
        throw new IllegalArgumentException("state must be a known container state, got " + state);
      }
      fields.put("state", new JsonPrimitive(state.wireName()));
      return this;
    }

    /**
     * Sets {@code priority}.
     *
     * @param priority zero or more; 0 means nobody wants the container run
     * @return this builder
     */
    public Builder priority(long priority) {
      if (priority < 0) {
        throw new IllegalArgumentException("priority must be >= 0, got " + priority);
      }
      fields.put("priority", new JsonPrimitive(priority));
      return this;
    }

    /**
     * Sets {@code progress}.
     *
     * @param progress a finite number, conventionally between 0 and 1
     * @return this builder
     */
    public Builder progress(double progress) {
      if (!Double.isFinite(progress)) {
        throw new IllegalArgumentException("progress must be a finite number, got " + progress);
      }
      fields.put("progress", new JsonPrimitive(progress));
      return this;
    }

    /**
     * Sets {@code runtime_status}. The server replaces the whole map; it does not merge.
     *
     * @param runtimeStatus values may be strings, numbers, booleans, lists, maps or null; the keys
     *     {@code error, errorDetail, warning, warningDetail, activity, preemptionNotice} must have
     *     string values
     * @return this builder
     */
    public Builder runtimeStatus(Map<String, ?> runtimeStatus) {
      if (runtimeStatus == null) {
        throw new IllegalArgumentException(
            "runtimeStatus must not be null; use an empty map to clear it");
      }
      for (String key : RUNTIME_STATUS_STRING_KEYS) {
        Object v = runtimeStatus.get(key);
        if (runtimeStatus.containsKey(key) && !(v instanceof String)) {
          throw new IllegalArgumentException(
              "runtime_status '"
                  + key
                  + "' must be a string, got "
                  + (v == null ? "null" : v.getClass().getSimpleName()));
        }
      }
      fields.put("runtime_status", Json.toJson(runtimeStatus));
      return this;
    }

    /**
     * Sets {@code log}.
     *
     * @param log the portable data hash of the log collection, or null to clear
     * @return this builder
     */
    public Builder log(@Nullable String log) {
      fields.put("log", nullableString(log, "log"));
      return this;
    }

    /**
     * Sets {@code output}.
     *
     * @param output the portable data hash of the output collection, or null to clear
     * @return this builder
     */
    public Builder output(@Nullable String output) {
      fields.put("output", nullableString(output, "output"));
      return this;
    }

    /**
     * Sets {@code output_properties}.
     *
     * @param outputProperties properties for the output collection
     * @return this builder
     */
    public Builder outputProperties(Map<String, ?> outputProperties) {
      if (outputProperties == null) {
        throw new IllegalArgumentException("outputProperties must not be null; use an empty map");
      }
      fields.put("output_properties", Json.toJson(outputProperties));
      return this;
    }

    /**
     * Sets {@code exit_code}.
     *
     * @param exitCode the process's exit code, or null to clear
     * @return this builder
     */
    public Builder exitCode(@Nullable Integer exitCode) {
      fields.put("exit_code", exitCode == null ? JsonNull.INSTANCE : new JsonPrimitive(exitCode));
      return this;
    }

    /**
     * Sets {@code gateway_address}.
     *
     * @param gatewayAddress {@code host:port} of the container gateway, or null
     * @return this builder
     */
    public Builder gatewayAddress(@Nullable String gatewayAddress) {
      fields.put("gateway_address", nullableString(gatewayAddress, "gatewayAddress"));
      return this;
    }

    /**
     * Sets {@code cost}.
     *
     * @param cost a finite, non-negative amount
     * @return this builder
     */
    public Builder cost(double cost) {
      fields.put("cost", nonNegative(cost, "cost"));
      return this;
    }

    /**
     * Sets {@code subrequests_cost}.
     *
     * @param subrequestsCost a finite, non-negative amount
     * @return this builder
     */
    public Builder subrequestsCost(double subrequestsCost) {
      fields.put("subrequests_cost", nonNegative(subrequestsCost, "subrequestsCost"));
      return this;
    }

    /**
     * Sets {@code interactive_session_started}.
     *
     * @param started whether an interactive session has been started
     * @return this builder
     */
    public Builder interactiveSessionStarted(boolean started) {
      fields.put("interactive_session_started", new JsonPrimitive(started));
      return this;
    }

    /**
     * Builds the update.
     *
     * @return an immutable update; it may be empty
     */
    public ContainerUpdate build() {
      return new ContainerUpdate(fields);
    }

    private static JsonElement nullableString(@Nullable String v, String name) {
      if (v != null && v.isEmpty()) {
        throw new IllegalArgumentException(name + " must be null or non-empty");
      }
      return v == null ? JsonNull.INSTANCE : new JsonPrimitive(v);
    }

    private static JsonElement nonNegative(double v, String name) {
      if (!Double.isFinite(v) || v < 0) {
        throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + v);
      }
      return new JsonPrimitive(v);
    }
  }
}
