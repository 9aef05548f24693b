package dev.crunchguard.testkit;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import dev.crunchguard.testkit.internal.model.Json;
import java.io.IOException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * A real Arvados API server to test against (the loopback RailsAPI of {@code
 * src/ci/real-arvados.sh}, or a user's own test cluster), with two admin (dispatcher) tokens and
 * one ordinary user's token.
 *
 * <p>Configured from the environment:
 *
 * <ul>
 *   <li>{@value #URL_VAR}: the base URL, {@code https://zzzzz.example.org/} or {@code
 *       http://127.0.0.1:PORT/}
 *   <li>{@value #ADMIN_TOKEN_VAR}, {@value #ADMIN2_TOKEN_VAR}: tokens of two different admin users
 *   <li>{@value #USER_TOKEN_VAR}: the token of an active non-admin user
 *   <li>{@value #INSECURE_VAR}{@code =1}: accept a self-signed TLS certificate
 * </ul>
 *
 * <p>{@link #fromEnvironment()} looks the three users up ({@code GET /arvados/v1/users/current})
 * and checks their roles. Immutable and thread-safe. The tokens are available to tests through
 * their accessors but never appear in {@link #toString()} or in any exception message.
 *
 * @see RequiresRealArvados
 */
public final class RealArvados {
  /** The environment variable holding the base URL. */
  public static final String URL_VAR = "CRUNCHGUARD_ARVADOS_URL";

  /** The environment variable holding the first admin (dispatcher) token. */
  public static final String ADMIN_TOKEN_VAR = "CRUNCHGUARD_ARVADOS_ADMIN_TOKEN";

  /** The environment variable holding the second admin token (another admin user). */
  public static final String ADMIN2_TOKEN_VAR = "CRUNCHGUARD_ARVADOS_ADMIN2_TOKEN";

  /** The environment variable holding an ordinary (non-admin, active) user's token. */
  public static final String USER_TOKEN_VAR = "CRUNCHGUARD_ARVADOS_USER_TOKEN";

  /** Set to {@code 1} (or {@code true}) to accept a self-signed TLS certificate. */
  public static final String INSECURE_VAR = "CRUNCHGUARD_ARVADOS_INSECURE";

  /**
   * A comma list of services ({@code arvados}, {@code slurm}) whose absence is a test failure
   * rather than a skip; CI sets it so that it can never pass without them.
   */
  public static final String REQUIRE_VAR = "CRUNCHGUARD_REQUIRE";

  /** The name of this service in {@value #REQUIRE_VAR}. */
  public static final String SERVICE_NAME = "arvados";

  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(20);

  private final HttpUrl baseUrl;
  private final boolean insecure;
  private final String adminToken;
  private final String admin2Token;
  private final String userToken;
  private final String adminUuid;
  private final String admin2Uuid;
  private final String userUuid;
  private final String clusterId;

  private RealArvados(
      HttpUrl baseUrl,
      boolean insecure,
      String adminToken,
      String admin2Token,
      String userToken,
      String adminUuid,
      String admin2Uuid,
      String userUuid) {
    this.baseUrl = baseUrl;
    this.insecure = insecure;
    this.adminToken = adminToken;
    this.admin2Token = admin2Token;
    this.userToken = userToken;
    this.adminUuid = adminUuid;
    this.admin2Uuid = admin2Uuid;
    this.userUuid = userUuid;
    this.clusterId = adminUuid.substring(0, 5);
  }

  /**
   * The server configured in the process environment, with its users looked up.
   *
   * @return empty when {@value #URL_VAR} is not set (or blank)
   * @throws IllegalStateException when the configuration is incomplete or wrong (a token variable
   *     missing, a bad URL, an unreachable server, a token refused, roles not as described above);
   *     the message names variables and users, never token values
   */
  public static Optional<RealArvados> fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * Like {@link #fromEnvironment()}, from the given variables (for tests and launchers).
   *
   * @param env variable name to value
   * @return empty when {@value #URL_VAR} is not set (or blank)
   * @throws IllegalStateException as {@link #fromEnvironment()}
   */
  public static Optional<RealArvados> fromEnvironment(Map<String, String> env) {
    String url = blankToNull(env.get(URL_VAR));
    if (url == null) {
      return Optional.empty();
    }
    List<String> missing = new ArrayList<>();
    for (String v : List.of(ADMIN_TOKEN_VAR, ADMIN2_TOKEN_VAR, USER_TOKEN_VAR)) {
      if (blankToNull(env.get(v)) == null) {
        missing.add(v);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          URL_VAR + " is set but " + String.join(", ", missing) + " is not");
    }
    HttpUrl base = HttpUrl.parse(url.endsWith("/") ? url : url + "/");
    if (base == null || base.query() != null || !base.username().isEmpty()) {
      throw new IllegalStateException(
          URL_VAR + " is not an http(s) base URL without query or user info");
    }
    boolean insecure = truthy(env.get(INSECURE_VAR));
    String admin = env.get(ADMIN_TOKEN_VAR).trim();
    String admin2 = env.get(ADMIN2_TOKEN_VAR).trim();
    String user = env.get(USER_TOKEN_VAR).trim();
    OkHttpClient http = httpClient(insecure, LOOKUP_TIMEOUT);
    try {
      String adminUuid = lookUp(http, base, admin, ADMIN_TOKEN_VAR, true);
      String admin2Uuid = lookUp(http, base, admin2, ADMIN2_TOKEN_VAR, true);
      String userUuid = lookUp(http, base, user, USER_TOKEN_VAR, false);
      if (adminUuid.equals(admin2Uuid)) {
        throw new IllegalStateException(
            ADMIN_TOKEN_VAR
                + " and "
                + ADMIN2_TOKEN_VAR
                + " belong to the same user "
                + adminUuid
                + "; the suite needs two different admin users");
      }
      return Optional.of(
          new RealArvados(base, insecure, admin, admin2, user, adminUuid, admin2Uuid, userUuid));
    } finally {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }

  /**
   * Whether {@value #REQUIRE_VAR} in the process environment names {@code service}.
   *
   * @param service a service name such as {@value #SERVICE_NAME} or {@code slurm}
   * @return true when its absence must fail the tests
   */
  public static boolean isRequired(String service) {
    return isRequired(System.getenv(), service);
  }

  /**
   * Whether {@value #REQUIRE_VAR} in {@code env} names {@code service} (comma list, case and spaces
   * ignored).
   *
   * @param env variable name to value
   * @param service a service name such as {@value #SERVICE_NAME}
   * @return true when its absence must fail the tests
   */
  public static boolean isRequired(Map<String, String> env, String service) {
    String list = env.get(REQUIRE_VAR);
    if (list == null) {
      return false;
    }
    String wanted = service.trim().toLowerCase(Locale.ROOT);
    for (String s : list.split(",")) {
      if (s.trim().toLowerCase(Locale.ROOT).equals(wanted)) {
        return true;
      }
    }
    return false;
  }

  private static String lookUp(
      OkHttpClient http, HttpUrl base, String token, String var, boolean wantAdmin) {
    HttpUrl url = base.resolve("arvados/v1/users/current");
    okhttp3.Request req =
        new okhttp3.Request.Builder()
            .url(Objects.requireNonNull(url))
            .header("Authorization", "Bearer " + token)
            .build();
    JsonObject user;
    try (Response r = http.newCall(req).execute()) {
      ResponseBody body = r.body();
      String text = body == null ? "" : body.string();
      if (r.code() != 200) {
        throw new IllegalStateException(
            "the server at "
                + base
                + " answered "
                + r.code()
                + " to GET arvados/v1/users/current with the token of "
                + var
                + " (is it a valid, unexpired token of this cluster?)");
      }
      JsonElement parsed = Json.parseStrict(text);
      if (!parsed.isJsonObject()) {
        throw new IllegalStateException(
            "GET arvados/v1/users/current with " + var + " did not answer a JSON object");
      }
      user = parsed.getAsJsonObject();
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot reach the Arvados server at "
              + base
              + " ("
              + URL_VAR
              + "): "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage());
    } catch (JsonParseException e) {
      throw new IllegalStateException(
          "GET arvados/v1/users/current with " + var + " did not answer JSON");
    }
    String uuid = string(user, "uuid");
    if (uuid == null || uuid.length() < 5) {
      throw new IllegalStateException(
          "GET arvados/v1/users/current with " + var + " answered no user uuid");
    }
    boolean admin =
        user.has("is_admin")
            && user.get("is_admin").isJsonPrimitive()
            && user.get("is_admin").getAsBoolean();
    boolean active =
        !user.has("is_active")
            || !user.get("is_active").isJsonPrimitive()
            || user.get("is_active").getAsBoolean();
    if (admin != wantAdmin) {
      throw new IllegalStateException(
          var
              + " belongs to "
              + uuid
              + ", which "
              + (admin ? "is" : "is not")
              + " an admin; it must "
              + (wantAdmin ? "be an admin (dispatcher) token" : "be an ordinary user's token"));
    }
    if (!active) {
      throw new IllegalStateException(var + " belongs to " + uuid + ", which is not active");
    }
    return uuid;
  }

  private static @Nullable String string(JsonObject o, String name) {
    JsonElement e = o.get(name);
    return e != null && e.isJsonPrimitive() ? e.getAsString() : null;
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static boolean truthy(@Nullable String s) {
    if (s == null) {
      return false;
    }
    String v = s.trim().toLowerCase(Locale.ROOT);
    return v.equals("1") || v.equals("true") || v.equals("yes");
  }

  /**
   * The base URL, ending in {@code /}: {@code http://127.0.0.1:43137/}.
   *
   * @return the server's base URL from {@value #URL_VAR}, always ending in {@code /}
   */
  public String baseUrl() {
    return baseUrl.toString();
  }

  /**
   * Whether a self-signed TLS certificate is accepted ({@value #INSECURE_VAR}).
   *
   * @return true when {@value #INSECURE_VAR} is {@code 1}, {@code true} or {@code yes}
   */
  public boolean insecure() {
    return insecure;
  }

  /**
   * The five-character cluster id, taken from the first admin's uuid.
   *
   * @return the cluster id prefix, e.g. {@code zzzzz}
   */
  public String clusterId() {
    return clusterId;
  }

  /**
   * The first admin (dispatcher) token. A secret: do not log it.
   *
   * @return the token from {@value #ADMIN_TOKEN_VAR}
   */
  public String adminToken() {
    return adminToken;
  }

  /**
   * The second admin token, of another admin user. A secret: do not log it.
   *
   * @return the token from {@value #ADMIN2_TOKEN_VAR}
   */
  public String admin2Token() {
    return admin2Token;
  }

  /**
   * The ordinary user's token. A secret: do not log it.
   *
   * @return the token from {@value #USER_TOKEN_VAR}
   */
  public String userToken() {
    return userToken;
  }

  /**
   * The uuid of the first admin's user ({@code zzzzz-tpzed-...}).
   *
   * @return the user uuid that {@code users/current} answered for {@link #adminToken()}
   */
  public String adminUuid() {
    return adminUuid;
  }

  /**
   * The uuid of the second admin's user.
   *
   * @return the user uuid that {@code users/current} answered for {@link #admin2Token()}
   */
  public String admin2Uuid() {
    return admin2Uuid;
  }

  /**
   * The uuid of the ordinary user, usable as a container's {@code runtime_user_uuid}.
   *
   * @return the user uuid that {@code users/current} answered for {@link #userToken()}
   */
  public String userUuid() {
    return userUuid;
  }

  /**
   * A new OkHttp client for raw requests to this server: trusts a self-signed certificate when
   * {@link #insecure()}, 30 s timeouts, no retries on connection failure (a test sees every fault).
   * Callers add the {@code Authorization} header themselves.
   *
   * @return a new client; each call builds another one
   */
  public OkHttpClient newHttpClient() {
    return httpClient(insecure, Duration.ofSeconds(30));
  }

  /**
   * Creates a container with the first admin token ({@code POST /arvados/v1/containers}), the way
   * {@link ArvadosSimulator#createContainer(ContainerSpec)} does on the simulator. The real server
   * locks only containers with a runtime user: unless the spec names one, the ordinary user ({@link
   * #userUuid()}) is used, with {@code runtime_auth_scopes: ["all"]}.
   *
   * @param spec the container; a {@link ContainerSpec#priority()} above 0 makes it lockable
   * @return the new container's uuid
   * @throws IllegalStateException when the server refuses (the message holds its status and errors)
   */
  public String createContainer(ContainerSpec spec) {
    JsonObject attrs = spec.toAttributes();
    if (!attrs.has("runtime_user_uuid")) {
      attrs.addProperty("runtime_user_uuid", userUuid);
    }
    attrs.add("runtime_auth_scopes", Json.stringArray(List.of("all")));
    JsonObject body = new JsonObject();
    body.add("container", attrs);
    okhttp3.Request req =
        new okhttp3.Request.Builder()
            .url(Objects.requireNonNull(baseUrl.resolve("arvados/v1/containers")))
            .header("Authorization", "Bearer " + adminToken)
            .post(
                okhttp3.RequestBody.create(
                    body.toString(), okhttp3.MediaType.get("application/json")))
            .build();
    OkHttpClient http = SharedClients.get(insecure);
    try (Response r = http.newCall(req).execute()) {
      ResponseBody rb = r.body();
      String text = rb == null ? "" : rb.string();
      JsonElement parsed = Json.parseStrict(text);
      if (r.code() != 200
          || !parsed.isJsonObject()
          || string(parsed.getAsJsonObject(), "uuid") == null) {
        // The answer echoes no token: the runtime token is not rendered by the server.
        throw new IllegalStateException(
            "creating a container failed: "
                + r.code()
                + " "
                + (parsed.isJsonObject() && parsed.getAsJsonObject().has("errors")
                    ? parsed.getAsJsonObject().get("errors")
                    : ""));
      }
      return string(parsed.getAsJsonObject(), "uuid");
    } catch (IOException e) {
      throw new IllegalStateException(
          "creating a container failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (JsonParseException e) {
      throw new IllegalStateException("creating a container failed: the answer is not JSON");
    }
  }

  /**
   * Two shared clients (secure, insecure) for {@link #createContainer}, created when first used.
   */
  private static final class SharedClients {
    private static final OkHttpClient SECURE = httpClient(false, Duration.ofSeconds(30));
    private static final OkHttpClient INSECURE = httpClient(true, Duration.ofSeconds(30));

    static OkHttpClient get(boolean insecure) {
      return insecure ? INSECURE : SECURE;
    }
  }

  static OkHttpClient httpClient(boolean insecure, Duration timeout) {
    OkHttpClient.Builder b =
        new OkHttpClient.Builder()
            .connectTimeout(timeout)
            .readTimeout(timeout)
            .writeTimeout(timeout)
            .retryOnConnectionFailure(false);
    if (insecure) {
      X509TrustManager trustAll = new TrustAll();
      try {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {trustAll}, new SecureRandom());
        b.sslSocketFactory(ctx.getSocketFactory(), trustAll)
            .hostnameVerifier((host, session) -> true);
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException("cannot set up insecure TLS: " + e.getMessage(), e);
      }
    }
    return b.build();
  }

  /**
   * Accepts any server certificate: only with {@value #INSECURE_VAR}, for self-signed test
   * clusters.
   */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  @Override
  public String toString() {
    return "RealArvados["
        + baseUrl
        + (insecure ? " (insecure TLS)" : "")
        + ", admin "
        + adminUuid
        + ", admin2 "
        + admin2Uuid
        + ", user "
        + userUuid
        + "]";
  }
}
