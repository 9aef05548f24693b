package dev.crunchguard.testkit;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.crunchguard.testkit.internal.model.ContainerRecord;
import dev.crunchguard.testkit.internal.model.Json;
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

  /**
   * The container uuid.
   *
   * @return the {@code uuid}, e.g. {@code zzzzz-dz642-...}; never null
   */
  public String uuid() {
    return json.get("uuid").getAsString();
  }

  /**
   * The state: Queued, Locked, Running, Complete or Cancelled.
   *
   * @return the {@code state} name as Arvados spells it
   */
  public String state() {
    return json.get("state").getAsString();
  }

  /**
   * The priority.
   *
   * @return the {@code priority}; 0 means no container request wants the container to run
   */
  public long priority() {
    return json.get("priority").getAsLong();
  }

  /**
   * The auth_uuid (the fencing epoch), or null.
   *
   * @return the {@code auth_uuid}, null unless the container is Locked or Running (always null for
   *     a runtime_token container)
   */
  public @Nullable String authUuid() {
    return str("auth_uuid");
  }

  /**
   * The locked_by_uuid, or null.
   *
   * @return the uuid of the token that holds the lock, null when unlocked
   */
  public @Nullable String lockedByUuid() {
    return str("locked_by_uuid");
  }

  /**
   * The lock_count.
   *
   * @return how many times the container has been locked
   */
  public long lockCount() {
    return json.get("lock_count").getAsLong();
  }

  /**
   * The exit_code, or null.
   *
   * @return the {@code exit_code}, null until the container has exited
   */
  public @Nullable Long exitCode() {
    JsonElement e = json.get("exit_code");
    return e.isJsonNull() ? null : e.getAsLong();
  }

  /**
   * The output, or null.
   *
   * @return the {@code output} collection portable data hash, null when unset
   */
  public @Nullable String output() {
    return str("output");
  }

  /**
   * The log, or null.
   *
   * @return the {@code log} collection portable data hash, null when unset
   */
  public @Nullable String log() {
    return str("log");
  }

  /**
   * The progress, or null.
   *
   * @return the {@code progress} fraction, null when unset
   */
  public @Nullable Double progress() {
    JsonElement e = json.get("progress");
    return e.isJsonNull() ? null : e.getAsDouble();
  }

  /**
   * The command.
   *
   * @return an immutable copy of the {@code command} argument list
   */
  public List<String> command() {
    List<String> l = new ArrayList<>();
    json.getAsJsonArray("command").forEach(e -> l.add(e.getAsString()));
    return List.copyOf(l);
  }

  /**
   * The container_image.
   *
   * @return the {@code container_image} (portable data hash or image name)
   */
  public String containerImage() {
    return json.get("container_image").getAsString();
  }

  /**
   * The cost.
   *
   * @return the {@code cost} recorded for the container, {@code 0.0} when none
   */
  public double cost() {
    return json.get("cost").getAsDouble();
  }

  /**
   * The gateway_address, or null.
   *
   * @return the {@code gateway_address} ({@code host:port}), null when unset
   */
  public @Nullable String gatewayAddress() {
    return str("gateway_address");
  }

  /**
   * The runtime_user_uuid, or null.
   *
   * @return the {@code runtime_user_uuid}, null when unset
   */
  public @Nullable String runtimeUserUuid() {
    return str("runtime_user_uuid");
  }

  /**
   * The created_at timestamp text.
   *
   * @return the {@code created_at} timestamp as the API renders it
   */
  public String createdAt() {
    return json.get("created_at").getAsString();
  }

  /**
   * The runtime_status as JSON text.
   *
   * @return the {@code runtime_status} object serialised as JSON, {@code {}} when empty
   */
  public String runtimeStatusJson() {
    return json.get("runtime_status").toString();
  }

  /**
   * The started_at timestamp text, or null.
   *
   * @return the {@code started_at} timestamp as the API renders it, null before Running
   */
  public @Nullable String startedAt() {
    return str("started_at");
  }

  /**
   * The finished_at timestamp text, or null.
   *
   * @return the {@code finished_at} timestamp as the API renders it, null before the container is
   *     final
   */
  public @Nullable String finishedAt() {
    return str("finished_at");
  }

  /**
   * The modified_at timestamp text.
   *
   * @return the {@code modified_at} timestamp as the API renders it, or null
   */
  public @Nullable String modifiedAt() {
    return str("modified_at");
  }

  /**
   * Whether the container has a runtime_token (never rendered).
   *
   * @return true when a {@code runtime_token} is set
   */
  public boolean hasRuntimeToken() {
    return hasRuntimeToken;
  }

  /**
   * The full public JSON rendering (as a GET would return it).
   *
   * @return the JSON object text, without hidden columns
   */
  public String json() {
    return json.toString();
  }

  /**
   * The full public rendering as a map of Java values (Gson conversion: numbers are Double).
   *
   * @return a new mutable map in rendering order, keyed by attribute name
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> toMap() {
    return new LinkedHashMap<>(Json.GSON.fromJson(json, Map.class));
  }

  private @Nullable String str(String k) {
    JsonElement e = json.get(k);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  @Override
  public String toString() {
    return "ContainerSnapshot["
        + uuid()
        + " "
        + state()
        + " priority="
        + priority()
        + " auth_uuid="
        + authUuid()
        + "]";
  }
}
