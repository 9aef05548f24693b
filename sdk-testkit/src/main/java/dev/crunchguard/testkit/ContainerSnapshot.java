package dev.crunchguard.testkit;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An immutable copy of one container record as the simulator holds it (read directly, not through
 * HTTP). Hidden columns ({@code runtime_token}, {@code secret_mounts}) are not included, except
 * whether a runtime token is set.
 */
public final class ContainerSnapshot {
  private final JsonObject json;
  private final boolean hasRuntimeToken;

  ContainerSnapshot(ContainerRecord r) {
    this.json = r.render();
    this.hasRuntimeToken = r.runtimeToken() != null;
  }

  /** The container uuid. */
  public String uuid() {
    return json.get("uuid").getAsString();
  }

  /** The state: Queued, Locked, Running, Complete or Cancelled. */
  public String state() {
    return json.get("state").getAsString();
  }

  /** The priority. */
  public long priority() {
    return json.get("priority").getAsLong();
  }

  /** The auth_uuid (the fencing epoch), or null. */
  public @Nullable String authUuid() {
    return str("auth_uuid");
  }

  /** The locked_by_uuid, or null. */
  public @Nullable String lockedByUuid() {
    return str("locked_by_uuid");
  }

  /** The lock_count. */
  public long lockCount() {
    return json.get("lock_count").getAsLong();
  }

  /** The exit_code, or null. */
  public @Nullable Long exitCode() {
    JsonElement e = json.get("exit_code");
    return e.isJsonNull() ? null : e.getAsLong();
  }

  /** The output, or null. */
  public @Nullable String output() {
    return str("output");
  }

  /** The log, or null. */
  public @Nullable String log() {
    return str("log");
  }

  /** The progress, or null. */
  public @Nullable Double progress() {
    JsonElement e = json.get("progress");
    return e.isJsonNull() ? null : e.getAsDouble();
  }

  /** The command. */
  public List<String> command() {
    List<String> l = new ArrayList<>();
    json.getAsJsonArray("command").forEach(e -> l.add(e.getAsString()));
    return List.copyOf(l);
  }

  /** The container_image. */
  public String containerImage() {
    return json.get("container_image").getAsString();
  }

  /** The cost. */
  public double cost() {
    return json.get("cost").getAsDouble();
  }

  /** The gateway_address, or null. */
  public @Nullable String gatewayAddress() {
    return str("gateway_address");
  }

  /** The runtime_user_uuid, or null. */
  public @Nullable String runtimeUserUuid() {
    return str("runtime_user_uuid");
  }

  /** The created_at timestamp text. */
  public String createdAt() {
    return json.get("created_at").getAsString();
  }

  /** The runtime_status as JSON text. */
  public String runtimeStatusJson() {
    return json.get("runtime_status").toString();
  }

  /** The started_at timestamp text, or null. */
  public @Nullable String startedAt() {
    return str("started_at");
  }

  /** The finished_at timestamp text, or null. */
  public @Nullable String finishedAt() {
    return str("finished_at");
  }

  /** The modified_at timestamp text. */
  public @Nullable String modifiedAt() {
    return str("modified_at");
  }

  /** Whether the container has a runtime_token (never rendered). */
  public boolean hasRuntimeToken() {
    return hasRuntimeToken;
  }

  /** The full public JSON rendering (as a GET would return it). */
  public String json() {
    return json.toString();
  }

  /** The full public rendering as a map of Java values (Gson conversion: numbers are Double). */
  @SuppressWarnings("unchecked")
  public Map<String, Object> toMap() {
    return new LinkedHashMap<>(Json.GSON.fromJson(json, Map.class));
  }

  private @Nullable String str(String k) {
    JsonElement e = json.get(k);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  JsonObject jsonObject() {
    return json.deepCopy();
  }

  @Override
  public String toString() {
    return "ContainerSnapshot[" + uuid() + " " + state() + " priority=" + priority() + " auth_uuid=" + authUuid() + "]";
  }
}
