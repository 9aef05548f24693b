package dev.crunchguard.examples;

import com.google.gson.JsonObject;
import java.io.IOException;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Unguarded writes, the way today's Arvados clients send them: {@code PUT} without {@code
 * auth_uuid}, and the plain {@code POST .../unlock}. Used by the race demo's baseline run (and its
 * chaos agent). Each write names the epoch its writer believes it holds in the {@code
 * X-Crunch-Guard-Epoch} header, which the simulator's history uses to find stale writes; the server
 * ignores it.
 */
final class PlainWriter {
  private static final MediaType JSON = MediaType.get("application/json");

  private final OkHttpClient http;
  private final String baseUrl;
  private final String token;
  private final String clientId;

  PlainWriter(OkHttpClient http, String baseUrl, String token, String clientId) {
    this.http = http;
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
    this.token = token;
    this.clientId = clientId;
  }

  /** Sends {@code {"container": fields}}; returns the HTTP status, or -1 on an I/O failure. */
  int update(String uuid, JsonObject fields, @Nullable String claimedEpoch) {
    JsonObject body = new JsonObject();
    body.add("container", fields);
    Request.Builder rb =
        new Request.Builder()
            .url(baseUrl + "arvados/v1/containers/" + uuid)
            .put(RequestBody.create(body.toString(), JSON));
    if (claimedEpoch != null) {
      rb.header("X-Crunch-Guard-Epoch", claimedEpoch);
    }
    return send(rb);
  }

  /**
   * Reads a container's {@code state} and {@code auth_uuid}, retrying transient failures; null if
   * it cannot be read after several attempts.
   */
  @Nullable JsonObject read(String uuid) {
    Request r =
        new Request.Builder()
            .url(
                baseUrl
                    + "arvados/v1/containers/"
                    + uuid
                    + "?select=%5B%22uuid%22%2C%22state%22%2C%22auth_uuid%22%5D")
            .header("Authorization", "Bearer " + token)
            .header("X-Crunch-Guard-Client", clientId)
            .build();
    for (int attempt = 0; attempt < 20; attempt++) {
      try (Response response = http.newCall(r).execute()) {
        if (response.code() == 200 && response.body() != null) {
          return com.google.gson.JsonParser.parseString(response.body().string()).getAsJsonObject();
        }
      } catch (IOException | RuntimeException e) {
        // retry
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }

  /** The plain unlock: releases whatever epoch is current. */
  int unlock(String uuid) {
    return send(
        new Request.Builder()
            .url(baseUrl + "arvados/v1/containers/" + uuid + "/unlock")
            .post(RequestBody.create(new byte[0])));
  }

  private int send(Request.Builder rb) {
    Request r =
        rb.header("Authorization", "Bearer " + token)
            .header("X-Crunch-Guard-Client", clientId)
            .build();
    try (Response response = http.newCall(r).execute()) {
      return response.code();
    } catch (IOException e) {
      return -1;
    }
  }
}
