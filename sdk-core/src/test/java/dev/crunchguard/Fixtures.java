package dev.crunchguard;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Realistic Arvados values and bodies (shapes from
 * services/api/app/controllers/application_controller.rb,
 * services/api/app/controllers/arvados/v1/containers_controller.rb and
 * services/api/app/models/container.rb), shared by the tests.
 */
final class Fixtures {
  private Fixtures() {}

  static final String CONTAINER = "zzzzz-dz642-queuedcontainer";
  static final String OTHER_CONTAINER = "zzzzz-dz642-runningcontainr";

  /** The dispatcher's token: a v2 token whose uuid is what locked_by_uuid shows. */
  static final String DISPATCHER_TOKEN_UUID = "zzzzz-gj3su-077z32aux8dg2s1";

  static final String DISPATCHER_SECRET = "3kg6k6lzmp9kj5cpkcoxie963cmvjahbt2fod9zru30k1jqdmi";
  static final String DISPATCHER_TOKEN = "v2/" + DISPATCHER_TOKEN_UUID + "/" + DISPATCHER_SECRET;
  static final String OTHER_DISPATCHER_UUID = "zzzzz-gj3su-0other0dispatch";

  /** Fencing tokens: the auth_uuid of our epoch and of a later one. */
  static final String AUTH_A = "zzzzz-gj3su-aaaaaaaaaaaaaaa";

  static final String AUTH_B = "zzzzz-gj3su-bbbbbbbbbbbbbbb";

  /** The secret of the container token AUTH_A (what GET .../auth returns as api_token). */
  static final String CONTAINER_SECRET = "7s8dcmzq2q5bqv1ljd4mepnhc0r4sxv1oy6j3aeho0xbazz6p6";

  static final String CONTAINER_TOKEN = "v2/" + AUTH_A + "/" + CONTAINER_SECRET;

  static final String OUTPUT_PDH = "d41d8cd98f00b204e9800998ecf8427e+0";
  static final String SERVER_REQ = "req-8ro0rkm6wbe3m1wbrmnb";
  static final String ERROR_TOKEN = "1700000000+0a1b2c3d";
  static final Pattern REQUEST_ID = Pattern.compile("^req-[0-9a-z]{20}$");

  static final String STALE_AUTH_RUNNING =
      "Auth uuid cannot be modified in state 'Running' (\"" + AUTH_B + "\", \"" + AUTH_A + "\")";
  static final String AUTH_READONLY = "Auth uuid is readonly";
  static final String LOCK_FAILED_LOCKED =
      "#<ArvadosModel::LockFailedError: cannot lock when Locked>";
  static final String LOCK_FAILED_PRIORITY =
      "#<ArvadosModel::LockFailedError: cannot lock when priority<=0>";
  static final String UNLOCK_DIFFERENT_TOKEN =
      "#<ArvadosModel::PermissionDeniedError: locked by a different token>";
  static final String NOT_LOGGED_IN = "Not logged in";
  static final String PATH_NOT_FOUND = "Path not found";

  /**
   * The exception {@code call} throws, which must be a {@code type}; fails clearly when nothing is
   * thrown.
   */
  static <T extends Throwable> T expect(
      Class<T> type, org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
    org.assertj.core.api.Assertions.assertThat(t)
        .as("expected %s", type.getSimpleName())
        .isInstanceOf(type);
    return type.cast(t);
  }

  static WireMockExtension wireMock() {
    return WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();
  }

  /** The Rails error envelope: each message with the request-id suffix, and an error_token. */
  static String envelope(String... messages) {
    JsonArray errors = new JsonArray();
    for (String m : messages) {
      errors.add(m + " (" + SERVER_REQ + ")");
    }
    JsonObject o = new JsonObject();
    o.add("errors", errors);
    o.addProperty("error_token", ERROR_TOKEN);
    return o.toString();
  }

  /** The stale-writer refusal: both messages, as the whitelist and assign_auth produce them. */
  static String staleWriter(String state, @Nullable String serverAuth, @Nullable String sentAuth) {
    return envelope(
        "Auth uuid cannot be modified in state '"
            + state
            + "' ("
            + inspect(serverAuth)
            + ", "
            + inspect(sentAuth)
            + ")",
        AUTH_READONLY);
  }

  private static String inspect(@Nullable String v) {
    return v == null ? "nil" : '"' + v + '"';
  }

  /**
   * The 5-field answer of lock/unlock (lib/controller/router/router.go, the Select of ContainerLock
   * and ContainerUnlock).
   */
  static String lockFields(
      String uuid,
      String state,
      long priority,
      @Nullable String authUuid,
      @Nullable String lockedBy) {
    JsonObject o = new JsonObject();
    o.addProperty("uuid", uuid);
    o.addProperty("state", state);
    o.addProperty("priority", priority);
    o.add(
        "auth_uuid",
        authUuid == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(authUuid));
    o.add(
        "locked_by_uuid",
        lockedBy == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(lockedBy));
    return Json.GSON.toJson(o);
  }

  /** The fields the SDK reads back to judge an epoch (Containers.EPOCH_SELECT). */
  static String epochFields(
      String uuid,
      String state,
      @Nullable String authUuid,
      @Nullable String lockedBy,
      long lockCount) {
    JsonObject o =
        JsonParser.parseString(lockFields(uuid, state, 1, authUuid, lockedBy)).getAsJsonObject();
    o.addProperty("lock_count", lockCount);
    return Json.GSON.toJson(o);
  }

  /**
   * A full container record as GET/PUT return it (services/api/app/models/container.rb
   * api_accessible).
   */
  static JsonObject record(
      String uuid,
      String state,
      @Nullable String authUuid,
      @Nullable String lockedBy,
      long lockCount) {
    String json =
        "{"
            + "\"kind\":\"arvados#container\",\"etag\":\"6ux8fbkmxk1ywsyjfyxajyf9c\","
            + "\"uuid\":\""
            + uuid
            + "\",\"owner_uuid\":\"zzzzz-tpzed-000000000000000\","
            + "\"created_at\":\"2026-08-01T10:00:00.123456789Z\",\"modified_by_user_uuid\":\"zzzzz-tpzed-000000000000000\","
            + "\"modified_at\":\"2026-08-01T10:05:00.000000000Z\","
            + "\"command\":[\"echo\",\"hello\"],\"container_image\":\"fa3c1a9cb6783f85f2ecda037e07b8c3+167\",\"cwd\":\".\","
            + "\"environment\":{\"HOME\":\"/tmp\"},\"exit_code\":null,\"finished_at\":null,"
            + "\"log\":null,\"mounts\":{\"/out\":{\"kind\":\"tmp\",\"capacity\":1000000}},\"output\":null,\"output_path\":\"/out\","
            + "\"output_glob\":[],\"priority\":1,\"progress\":null,"
            + "\"runtime_constraints\":{\"ram\":268435456,\"vcpus\":1,\"API\":true},\"runtime_status\":{},"
            + "\"started_at\":null,\"scheduling_parameters\":{\"preemptible\":false},"
            + "\"runtime_user_uuid\":\"zzzzz-tpzed-xurymjxw79nv3jz\",\"runtime_auth_scopes\":[\"all\"],"
            + "\"gateway_address\":null,\"interactive_session_started\":false,\"output_storage_classes\":[\"default\"],"
            + "\"output_properties\":{},\"cost\":0.0,\"subrequests_cost\":0.0,\"service\":false,\"published_ports\":{}"
            + "}";
    JsonObject o = JsonParser.parseString(json).getAsJsonObject();
    o.addProperty("state", state);
    o.add(
        "auth_uuid",
        authUuid == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(authUuid));
    o.add(
        "locked_by_uuid",
        lockedBy == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(lockedBy));
    o.addProperty("lock_count", lockCount);
    return o;
  }

  static String recordJson(
      String uuid,
      String state,
      @Nullable String authUuid,
      @Nullable String lockedBy,
      long lockCount) {
    return Json.GSON.toJson(record(uuid, state, authUuid, lockedBy, lockCount));
  }

  /**
   * GET api_client_authorizations/current as the controller re-serialises it
   * (lib/controller/router/response.go).
   */
  static String tokenRecord(String tokenUuid) {
    return "{\"kind\":\"arvados#apiClientAuthorization\",\"etag\":\"\",\"uuid\":\""
        + tokenUuid
        + "\","
        + "\"owner_uuid\":\"zzzzz-tpzed-000000000000000\",\"api_token\":\""
        + DISPATCHER_SECRET
        + "\","
        + "\"created_by_ip_address\":null,\"expires_at\":null,\"last_used_at\":null,"
        + "\"last_used_by_ip_address\":null,\"scopes\":[\"all\"]}";
  }

  /** GET containers/{uuid}/auth: the container token's record; api_token is the secret part. */
  static String authRecord(String tokenUuid, String secret) {
    return "{\"kind\":\"arvados#apiClientAuthorization\",\"etag\":\"3jdn1wqbxme2jdbbd6ajqnn8u\",\"uuid\":\""
        + tokenUuid
        + "\","
        + "\"owner_uuid\":\"zzzzz-tpzed-xurymjxw79nv3jz\",\"created_at\":\"2026-08-01T10:05:00.000000000Z\","
        + "\"modified_by_user_uuid\":null,\"modified_at\":null,\"api_token\":\""
        + secret
        + "\","
        + "\"created_by_ip_address\":null,\"expires_at\":\"2026-08-02T10:05:00.000000000Z\",\"last_used_at\":null,"
        + "\"last_used_by_ip_address\":null,\"scopes\":[\"all\"]}";
  }

  /**
   * The list envelope (application_controller.rb object_list); items_available omitted when null
   * (count=none).
   */
  static String listPage(
      long offset, long limit, @Nullable Long itemsAvailable, List<String> uuids) {
    JsonObject o = new JsonObject();
    o.addProperty("kind", "arvados#containerList");
    o.addProperty("etag", "");
    o.addProperty("self_link", "");
    o.addProperty("offset", offset);
    o.addProperty("limit", limit);
    JsonArray items = new JsonArray();
    for (String u : uuids) {
      items.add(record(u, "Queued", null, null, 0));
    }
    o.add("items", items);
    if (itemsAvailable != null) {
      o.addProperty("items_available", itemsAvailable);
    }
    return Json.GSON.toJson(o);
  }

  /** A fake monotonic clock that only moves when the SDK sleeps; records every wait. */
  static final class FakeTime implements Http.Sleeper, LongSupplier {
    private volatile long now = 5_000_000_000L;
    final List<Long> sleeps = new CopyOnWriteArrayList<>();

    @Override
    public synchronized void sleep(long nanos) {
      sleeps.add(nanos);
      now += nanos;
    }

    @Override
    public long getAsLong() {
      return now;
    }

    long totalSleptNanos() {
      return sleeps.stream().mapToLong(Long::longValue).sum();
    }
  }
}
