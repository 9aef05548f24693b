package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Container requests, only as far as container readability needs them: a non-admin user reads a
 * container only through a container request it can read (container.rb {@code readable_by}), and a
 * container without {@code runtime_user_uuid} gets its token's user from its highest-priority
 * request. Requests are stored as created (admins may set {@code owner_uuid} and {@code
 * container_uuid}); they never commit, run or finalise anything.
 */
public final class ContainerRequests {
  /** Attributes a request may be created with, and their defaults (in rendering order). */
  private static final String DEFAULTS =
      "{\"command\":[],\"container_count\":0,\"container_count_max\":3,\"container_image\":null,"
          + "\"container_uuid\":null,\"cwd\":\".\",\"description\":null,\"environment\":{},\"expires_at\":null,"
          + "\"filters\":null,\"log_uuid\":null,\"mounts\":{},\"name\":null,\"output_name\":null,"
          + "\"output_path\":null,\"output_uuid\":null,\"output_ttl\":0,\"priority\":0,\"properties\":{},"
          + "\"requesting_container_uuid\":null,\"runtime_constraints\":{},\"scheduling_parameters\":{},"
          + "\"state\":\"Uncommitted\",\"use_existing\":true,\"output_storage_classes\":[\"default\"],"
          + "\"output_properties\":{},\"cumulative_cost\":0.0}";

  private static final Set<String> SERVER_SET =
      Set.of(
          "container_count",
          "log_uuid",
          "output_uuid",
          "requesting_container_uuid",
          "cumulative_cost");

  private final String cluster;
  private final Map<String, JsonObject> byUuid = new ConcurrentHashMap<>();

  public ContainerRequests(String cluster) {
    this.cluster = cluster;
  }

  JsonObject create(
      Map<String, JsonElement> attrs, Caller caller, Predicate<String> containerExists) {
    JsonObject r = JsonParser.parseString(DEFAULTS).getAsJsonObject();
    String owner = caller.token().ownerUuid;
    for (Map.Entry<String, JsonElement> e : attrs.entrySet()) {
      String k = e.getKey();
      JsonElement v = e.getValue();
      if (k.equals("owner_uuid")) {
        String o = Json.asString(v);
        if (o != null && !o.equals(owner)) {
          if (!caller.admin()) {
            throw ApiException.permissionDenied();
          }
          owner = o;
        }
        continue;
      }
      if (k.equals("uuid")
          || k.equals("kind")
          || k.equals("etag")
          || k.equals("href")
          || ContainerRules.ALWAYS_DROPPED.contains(k)) {
        continue;
      }
      if (!r.has(k) || SERVER_SET.contains(k)) {
        throw ApiException.raised(
            422,
            "ActiveModel::UnknownAttributeError",
            "unknown attribute '"
                + k
                + "' for ContainerRequest."
                + ContainerRules.UNKNOWN_ATTRIBUTE_HIGHLIGHT);
      }
      r.add(k, v == null ? JsonNull.INSTANCE : v.deepCopy());
    }
    String state = Json.asString(r.get("state"));
    if (!"Uncommitted".equals(state)) {
      throw ApiException.invalid(
          List.of("State committed container requests are not modelled by the simulator"));
    }
    String container = Json.asString(r.get("container_uuid"));
    if (container != null) {
      if (!caller.admin()) {
        throw ApiException.invalid(List.of("Container uuid can only be updated to nil."));
      }
      if (!containerExists.test(container)) {
        throw ApiException.invalid(List.of("Container uuid must refer to an existing container"));
      }
      r.addProperty("container_count", 1);
    }
    JsonElement p = r.get("priority");
    if (p.isJsonNull() || !p.isJsonPrimitive() || !p.getAsJsonPrimitive().isNumber()) {
      throw ApiException.invalid(List.of("Priority must be an integer"));
    }
    String uuid;
    do {
      uuid = Ids.uuid(cluster, "xvhdp");
    } while (byUuid.containsKey(uuid));
    String ts = Json.formatTime(Json.now());
    JsonObject out = new JsonObject();
    out.addProperty("kind", "arvados#containerRequest");
    out.addProperty("etag", "");
    out.addProperty("uuid", uuid);
    out.addProperty("owner_uuid", owner);
    out.addProperty("created_at", ts);
    out.addProperty("modified_by_user_uuid", caller.token().ownerUuid);
    out.addProperty("modified_at", ts);
    r.entrySet().forEach(e -> out.add(e.getKey(), e.getValue()));
    out.addProperty("etag", etag(out));
    byUuid.put(uuid, out);
    return out.deepCopy();
  }

  /** A request the caller can read: its owner's, or any for an admin; else 404. */
  JsonObject get(String uuid, Caller caller) {
    JsonObject r = byUuid.get(uuid);
    if (r == null
        || !(caller.admin()
            || caller.token().ownerUuid.equals(Json.asString(r.get("owner_uuid"))))) {
      throw ApiException.notFound();
    }
    JsonObject out = r.deepCopy();
    out.add("runtime_constraints", afterFind(out, "runtime_constraints"));
    out.add("scheduling_parameters", afterFind(out, "scheduling_parameters"));
    return out;
  }

  private static JsonElement afterFind(JsonObject r, String key) {
    String defaults =
        key.equals("runtime_constraints")
            ? ContainerRules.RUNTIME_CONSTRAINTS_DEFAULTS
            : ContainerRules.SCHEDULING_DEFAULTS;
    return ContainerRules.withDefaults(defaults, r.get(key));
  }

  /** Whether {@code userUuid} owns a request for {@code containerUuid}. */
  boolean readableThrough(String containerUuid, String userUuid) {
    for (JsonObject r : byUuid.values()) {
      if (containerUuid.equals(Json.asString(r.get("container_uuid")))
          && userUuid.equals(Json.asString(r.get("owner_uuid")))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The {@code modified_by_user_uuid} of the highest-priority request (priority &gt; 0) for the
   * container: assign_auth's legacy source of the container token's user.
   */
  public @Nullable String highestPriorityRequester(String containerUuid) {
    JsonObject best = null;
    for (JsonObject r : byUuid.values()) {
      if (!containerUuid.equals(Json.asString(r.get("container_uuid")))) {
        continue;
      }
      long p = r.get("priority").getAsLong();
      if (p > 0 && (best == null || p > best.get("priority").getAsLong())) {
        best = r;
      }
    }
    return best == null ? null : Json.asString(best.get("modified_by_user_uuid"));
  }

  void clear() {
    byUuid.clear();
  }

  private static String etag(JsonObject o) {
    try {
      byte[] md5 =
          MessageDigest.getInstance("MD5")
              .digest(Json.GSON.toJson(o).getBytes(StandardCharsets.UTF_8));
      return new BigInteger(1, md5).toString(36);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
