package dev.crunchguard.testkit;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * An unguarded writer of container records: raw HTTP, one attempt per call, no Crunch Guard fencing
 * and no retries, with the token it was given. Tests use it to play whoever Crunch Guard must
 * defend against: a stale runner still holding an old container token, a rival dispatcher with
 * another admin token, a legacy client that updates without checking its epoch, an admin cancelling
 * a container. Works against the {@link ArvadosSimulator}, a {@link FaultProxy} or a real server.
 *
 * <pre>{@code
 * try (RivalWriter rival = RivalWriter.forSimulator(sim, "rival-admin-token")) {
 *   assertThat(rival.lock(uuid).status()).isEqualTo(422); // someone else holds the lock
 *   assertThat(rival.update(uuid, "{\"priority\":0}").status()).isEqualTo(200);
 * }
 * }</pre>
 *
 * <p>Answers are returned, never thrown: any HTTP status is a {@link Response}; only a transport
 * failure (no answer at all) throws {@link UncheckedIOException}. The token is sent as a bearer
 * header and appears in no message and no {@code toString}. Thread-safe; close it to release its
 * connections and threads (a client passed to {@link Builder#okHttpClient} is left alone).
 */
public final class RivalWriter implements AutoCloseable {
  private static final MediaType JSON = MediaType.get("application/json");

  private final String baseUrl;
  private final String token;
  private final @Nullable String clientId;
  private final OkHttpClient http;
  private final boolean ownsClient;

  private RivalWriter(Builder b) {
    this.baseUrl = b.baseUrl;
    this.token = b.token;
    this.clientId = b.clientId;
    OkHttpClient shared = b.okHttpClient;
    OkHttpClient.Builder own = b.tls != null ? b.tls : new OkHttpClient.Builder();
    this.ownsClient = shared == null;
    this.http =
        shared != null
            ? shared
            : own.retryOnConnectionFailure(false)
                .connectTimeout(b.timeout)
                .readTimeout(b.timeout)
                .writeTimeout(b.timeout)
                .build();
  }

  /**
   * A builder for a writer of the server at {@code baseUrl} with {@code token}.
   *
   * @param baseUrl the server's base URL, e.g. {@link ArvadosSimulator#baseUrl()}; {@code http://}
   *     or {@code https://}, with or without a trailing slash
   * @param token the API token or container token ({@code v2/...}) to write with; a secret
   * @return a new builder
   * @throws IllegalArgumentException when {@code baseUrl} is not an http(s) URL or the token is
   *     empty
   */
  public static Builder builder(String baseUrl, String token) {
    return new Builder(baseUrl, token);
  }

  /**
   * A writer of a started simulator with {@code token}; in https mode it trusts the simulator's
   * certificate.
   *
   * @param sim a started simulator
   * @param token the token to write with; a secret
   * @return a new writer; close it
   * @throws IllegalStateException when the simulator is not started
   */
  public static RivalWriter forSimulator(ArvadosSimulator sim, String token) {
    Builder b = builder(sim.baseUrl(), token);
    if (sim.isHttps()) {
      b.tls =
          new OkHttpClient.Builder()
              .sslSocketFactory(
                  sim.clientSslContext().getSocketFactory(), sim.clientTrustManager());
    }
    return b.build();
  }

  /**
   * {@code GET arvados/v1/containers/{uuid}}.
   *
   * @param uuid the container uuid
   * @return the server's answer
   * @throws UncheckedIOException when no answer arrives
   */
  public Response get(String uuid) {
    return send(request(uuid, "").get().build());
  }

  /**
   * {@code PUT arvados/v1/containers/{uuid}} with body {@code {"container": containerJson}}, with
   * no epoch check of any kind: what a stale runner or a plain client sends.
   *
   * @param uuid the container uuid
   * @param containerJson the attributes to write, a JSON object, e.g. {@code {"state":"Running"}}
   * @return the server's answer
   * @throws IllegalArgumentException when {@code containerJson} is not a JSON object
   * @throws UncheckedIOException when no answer arrives
   */
  public Response update(String uuid, String containerJson) {
    JsonElement attrs;
    try {
      attrs = JsonParser.parseString(Objects.requireNonNull(containerJson, "containerJson"));
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("containerJson is not JSON", e);
    }
    if (!attrs.isJsonObject()) {
      throw new IllegalArgumentException("containerJson must be a JSON object");
    }
    JsonObject body = new JsonObject();
    body.add("container", attrs);
    return send(request(uuid, "").put(RequestBody.create(body.toString(), JSON)).build());
  }

  /**
   * Sets the state to Cancelled, unguarded: {@code update(uuid, "{\"state\":\"Cancelled\"}")}.
   *
   * @param uuid the container uuid
   * @return the server's answer
   * @throws UncheckedIOException when no answer arrives
   */
  public Response cancel(String uuid) {
    return update(uuid, "{\"state\":\"Cancelled\"}");
  }

  /**
   * {@code POST arvados/v1/containers/{uuid}/lock}.
   *
   * @param uuid the container uuid
   * @return the server's answer (200 with the record when this token took the lock)
   * @throws UncheckedIOException when no answer arrives
   */
  public Response lock(String uuid) {
    return send(request(uuid, "/lock").post(RequestBody.create(new byte[0], null)).build());
  }

  /**
   * {@code POST arvados/v1/containers/{uuid}/unlock}.
   *
   * @param uuid the container uuid
   * @return the server's answer
   * @throws UncheckedIOException when no answer arrives
   */
  public Response unlock(String uuid) {
    return send(request(uuid, "/unlock").post(RequestBody.create(new byte[0], null)).build());
  }

  private Request.Builder request(String uuid, String action) {
    Objects.requireNonNull(uuid, "uuid");
    Request.Builder b =
        new Request.Builder()
            .url(baseUrl + "arvados/v1/containers/" + uuid + action)
            .header("Authorization", "Bearer " + token);
    if (clientId != null) {
      b.header("X-Crunch-Guard-Client", clientId);
    }
    return b;
  }

  private Response send(Request request) {
    try (okhttp3.Response r = http.newCall(request).execute()) {
      ResponseBody body = r.body();
      return new Response(r.code(), body == null ? "" : body.string());
    } catch (IOException e) {
      // OkHttp's messages name the URL, never the Authorization header.
      throw new UncheckedIOException(
          request.method() + " " + request.url().encodedPath() + " got no answer", e);
    }
  }

  /** Releases the connections and threads of the writer's own OkHttp client. Idempotent. */
  @Override
  public void close() {
    if (ownsClient) {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }

  @Override
  public String toString() {
    return "RivalWriter[" + baseUrl + (clientId == null ? "" : ", " + clientId) + "]";
  }

  /**
   * One answer of the server.
   *
   * @param status the HTTP status
   * @param body the response body as text (a container record, or an {@code errors} envelope)
   */
  public record Response(int status, String body) {
    /**
     * Whether the write (or read) was accepted.
     *
     * @return true for a 2xx status
     */
    public boolean isSuccessful() {
      return status >= 200 && status < 300;
    }

    /**
     * A top-level field of a JSON object body, as text.
     *
     * @param name the field name, e.g. {@code "state"} or {@code "auth_uuid"}
     * @return the value as text (a string as is, a number or boolean as printed), or null when the
     *     field is absent or null, or the body is not a JSON object
     */
    public @Nullable String field(String name) {
      JsonObject o = object();
      JsonElement e = o == null ? null : o.get(name);
      if (e == null || e.isJsonNull()) {
        return null;
      }
      return e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    /**
     * The messages of an error answer ({@code {"errors": [...]}}).
     *
     * @return the messages in order; empty when the body has none
     */
    public List<String> errors() {
      JsonObject o = object();
      List<String> out = new ArrayList<>();
      JsonElement e = o == null ? null : o.get("errors");
      if (e != null && e.isJsonArray()) {
        JsonArray a = e.getAsJsonArray();
        a.forEach(m -> out.add(m.isJsonPrimitive() ? m.getAsString() : m.toString()));
      }
      return out;
    }

    private @Nullable JsonObject object() {
      try {
        JsonElement e = JsonParser.parseString(body);
        return e.isJsonObject() ? e.getAsJsonObject() : null;
      } catch (JsonParseException e) {
        return null;
      }
    }
  }

  /** Builder of {@link RivalWriter}. Not thread-safe. */
  public static final class Builder {
    private final String baseUrl;
    private final String token;
    private @Nullable String clientId;
    private @Nullable OkHttpClient okHttpClient;
    private OkHttpClient.@Nullable Builder tls;
    private Duration timeout = Duration.ofSeconds(10);

    private Builder(String baseUrl, String token) {
      Objects.requireNonNull(baseUrl, "baseUrl");
      Objects.requireNonNull(token, "token");
      if (!baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
        throw new IllegalArgumentException("baseUrl must be an http or https URL");
      }
      if (token.isEmpty()) {
        throw new IllegalArgumentException("token must not be empty");
      }
      this.baseUrl = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
      this.token = token;
    }

    /**
     * An identifier sent as {@code X-Crunch-Guard-Client}, which the simulator's history records
     * (default: none, so the history shows the User-Agent).
     *
     * @param id a short name such as {@code "stale-runner"}
     * @return this builder
     */
    public Builder clientId(String id) {
      this.clientId = Objects.requireNonNull(id, "id");
      return this;
    }

    /**
     * Sends through this OkHttp client (its TLS set-up, its timeouts) instead of one of the
     * writer's own; {@link RivalWriter#close()} then leaves it open. E.g. {@link
     * RealArvados#newHttpClient()}.
     *
     * @param client the client; its own retry settings apply
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient client) {
      this.okHttpClient = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Connect, read and write timeout of the writer's own client (default 10 s).
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException when {@code timeout} is zero or negative
     */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive");
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Builds the writer.
     *
     * @return a new writer; close it
     */
    public RivalWriter build() {
      return new RivalWriter(this);
    }
  }
}
