package dev.crunchguard.benchmarks;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * The ceiling's client: plain OkHttp calls of the containers API, no SDK, no retries, minimal
 * decoding. One instance per token; thread-safe.
 */
final class RawHttp implements AutoCloseable {
  private static final MediaType JSON = MediaType.get("application/json; charset=UTF-8");

  /** The fields the Dispatcher selects when it polls. */
  static final String POLL_SELECT =
      "[\"uuid\",\"state\",\"priority\",\"auth_uuid\",\"locked_by_uuid\",\"lock_count\","
          + "\"command\",\"container_image\",\"runtime_constraints\",\"scheduling_parameters\",\"created_at\"]";

  private final OkHttpClient http;
  private final HttpUrl base;
  private final String auth;

  RawHttp(String baseUrl, String token, int connections) {
    this(baseUrl, token, connections, null);
  }

  /**
   * A client derived from {@code base} (its TLS settings, for a test cluster with a self-signed
   * certificate), or a plain one when null.
   */
  RawHttp(String baseUrl, String token, int connections, @Nullable OkHttpClient base) {
    this.http =
        (base == null ? new OkHttpClient.Builder() : base.newBuilder())
            .connectionPool(new ConnectionPool(Math.max(5, connections), 5, TimeUnit.MINUTES))
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofSeconds(120))
            .retryOnConnectionFailure(false)
            .build();
    this.base = HttpUrl.get(baseUrl);
    this.auth = "Bearer " + token;
  }

  /** Sends a request and returns its body; throws on any status but 200. */
  String call(Request.Builder rb) throws IOException {
    try (Response r = http.newCall(rb.header("Authorization", auth).build()).execute()) {
      ResponseBody b = r.body();
      String s = b == null ? "" : b.string();
      if (r.code() != 200) {
        throw new IOException(
            "HTTP " + r.code() + ": " + (s.length() > 200 ? s.substring(0, 200) : s));
      }
      return s;
    }
  }

  /** Status only, body drained. */
  int status(Request.Builder rb) throws IOException {
    try (Response r = http.newCall(rb.header("Authorization", auth).build()).execute()) {
      ResponseBody b = r.body();
      if (b != null) {
        b.source().readByteArray();
      }
      return r.code();
    }
  }

  HttpUrl.Builder url(String path) {
    return base.newBuilder().addPathSegments(path);
  }

  Request.Builder lockRequest(String uuid) {
    return new Request.Builder()
        .url(url("arvados/v1/containers/" + uuid + "/lock").build())
        .post(RequestBody.create(new byte[0]));
  }

  Request.Builder unlockRequest(String uuid) {
    return new Request.Builder()
        .url(url("arvados/v1/containers/" + uuid + "/unlock").build())
        .post(RequestBody.create(new byte[0]));
  }

  /** Locks; returns the new auth_uuid. */
  String lock(String uuid) throws IOException {
    JsonElement a =
        JsonParser.parseString(call(lockRequest(uuid))).getAsJsonObject().get("auth_uuid");
    return a == null || a.isJsonNull() ? null : a.getAsString();
  }

  void unlock(String uuid) throws IOException {
    call(unlockRequest(uuid));
  }

  Request.Builder updateRequest(String uuid, JsonObject fields) {
    JsonObject body = new JsonObject();
    body.add("container", fields);
    return new Request.Builder()
        .url(url("arvados/v1/containers/" + uuid).build())
        .put(RequestBody.create(body.toString(), JSON));
  }

  void update(String uuid, JsonObject fields) throws IOException {
    call(updateRequest(uuid, fields));
  }

  static JsonObject fields(String authUuid, String state, Integer exitCode) {
    JsonObject f = new JsonObject();
    f.addProperty("state", state);
    if (exitCode != null) {
      f.addProperty("exit_code", exitCode);
    }
    f.addProperty("auth_uuid", authUuid);
    return f;
  }

  /** A list request with the given filters (JSON), order, limit and count mode. */
  Request.Builder listRequest(
      String filtersJson, List<String> order, int limit, boolean countExact, String selectJson) {
    HttpUrl.Builder u =
        url("arvados/v1/containers")
            .addQueryParameter("filters", filtersJson)
            .addQueryParameter("order", new com.google.gson.Gson().toJson(order))
            .addQueryParameter("limit", Integer.toString(limit))
            .addQueryParameter("offset", "0")
            .addQueryParameter("count", countExact ? "exact" : "none");
    if (selectJson != null) {
      u.addQueryParameter("select", selectJson);
    }
    return new Request.Builder().url(u.build()).get();
  }

  /** The Dispatcher's first page of the queue. */
  Request.Builder queuePage(int limit) {
    return listRequest(
        "[[\"state\",\"=\",\"Queued\"],[\"priority\",\">\",0]]",
        List.of("priority desc", "uuid asc"),
        limit,
        true,
        POLL_SELECT);
  }

  /** The Dispatcher's first page of its own containers. */
  Request.Builder minePage(String tokenUuid, int limit) {
    return listRequest(
        "[[\"locked_by_uuid\",\"=\",\"" + tokenUuid + "\"]]",
        List.of("uuid asc"),
        limit,
        true,
        POLL_SELECT);
  }

  /** A look-up of up to 20 containers by uuid, as the Dispatcher re-reads tracked containers. */
  Request.Builder byUuids(List<String> uuids) {
    return listRequest(
        "[[\"uuid\",\"in\"," + new com.google.gson.Gson().toJson(uuids) + "]]",
        List.of("uuid asc"),
        uuids.size(),
        false,
        POLL_SELECT);
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
