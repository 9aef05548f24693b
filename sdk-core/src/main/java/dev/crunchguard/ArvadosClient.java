package dev.crunchguard;

import com.google.gson.JsonObject;
import dev.crunchguard.internal.Checks;
import dev.crunchguard.internal.ClientTransport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import retrofit2.Retrofit;
import retrofit2.converter.gson.GsonConverterFactory;

/**
 * A client for one Arvados cluster and one API token. Immutable and thread-safe; share one instance
 * per token. Close it when done to release its threads and connections.
 *
 * <pre>{@code
 * try (ArvadosClient client = ArvadosClient.builder()
 *         .apiHost("zzzzz.example.org")          // https, as Arvados clients use
 *         .token(System.getenv("ARVADOS_API_TOKEN"))
 *         .build()) {
 *   ContainerLock lock = client.containers().lock("zzzzz-dz642-0123456789abcde");
 *   lock.markRunning();
 *   lock.complete(0, "d41d8cd98f00b204e9800998ecf8427e+0");
 * }
 *
 * // or, like Arvados' own tools: ARVADOS_API_HOST, ARVADOS_API_TOKEN, ARVADOS_API_HOST_INSECURE,
 * // falling back to ~/.config/arvados/settings.conf
 * ArvadosClient fromEnv = ArvadosClient.fromEnvironment();
 * }</pre>
 *
 * <p>Every request carries {@code Authorization: Bearer <token>}, a {@code User-Agent}, an {@code
 * X-Crunch-Guard-Client} identifier, and an {@code X-Request-Id} shared by all attempts of one
 * call. Failures are retried per the {@link RetryPolicy}. TLS certificates are verified unless
 * {@link Builder#insecureTls(boolean)} turns verification off. The token is never logged, never put
 * in an exception message, and {@link #toString()} does not show it.
 */
public final class ArvadosClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ArvadosClient.class);

  /**
   * This SDK's version, from the build (for example {@code 0.2.0}); {@code unknown} when the
   * classes were not built by Maven. The default {@code User-Agent} is {@code crunchguard-java/}
   * and this.
   */
  public static final String VERSION = readVersion();

  static final String CLIENT_ID_HEADER = "X-Crunch-Guard-Client";

  /** Environment variable naming the API host ({@code host[:port]}, or a full base URL). */
  public static final String ENV_API_HOST = "ARVADOS_API_HOST";

  /** Environment variable holding the API token. */
  public static final String ENV_API_TOKEN = "ARVADOS_API_TOKEN";

  /** Environment variable that, when true, turns TLS certificate verification off. */
  public static final String ENV_API_HOST_INSECURE = "ARVADOS_API_HOST_INSECURE";

  private final HttpUrl baseUrl;
  private final String token;
  private final boolean insecureTls;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration writeTimeout;
  private final RetryPolicy retryPolicy;
  private final String userAgent;
  private final String clientId;
  private final @Nullable String explicitClientId;
  private final AmbiguousLockPolicy ambiguousLockPolicy;
  private final @Nullable OkHttpClient sharedOkHttp;
  private final Http.Sleeper sleeper;
  private final LongSupplier nanoClock;

  private final OkHttpClient okHttp;
  private final Redactor redactor;
  private volatile @Nullable OkHttpClient websocketHttp;

  /** Token, user agent, client id and Accept: added to every request (see {@link Http}). */
  private final okhttp3.Headers clientHeaders;

  private final Http http;
  private final ArvadosService service;
  private final Containers containers;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile @Nullable String tokenUuid;

  static {
    // The one way dev.crunchguard.events reaches this client's transport: never the token itself.
    ClientTransport.install(ArvadosClient::transport);
  }

  private static String readVersion() {
    try (java.io.InputStream in =
        ArvadosClient.class.getResourceAsStream("crunchguard-version.properties")) {
      if (in != null) {
        java.util.Properties p = new java.util.Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.startsWith("${")) {
          return v.trim();
        }
      }
    } catch (java.io.IOException e) {
      // fall through: the version is only used in the User-Agent
    }
    return "unknown";
  }

  private ArvadosClient(Builder b, HttpUrl baseUrl, String token) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.insecureTls = b.insecureTls;
    this.connectTimeout = b.connectTimeout;
    this.readTimeout = b.readTimeout;
    this.writeTimeout = b.writeTimeout;
    this.retryPolicy = b.retryPolicy;
    this.userAgent = b.userAgent;
    this.explicitClientId = b.clientId;
    this.clientId = b.clientId != null ? b.clientId : Http.newRequestId().substring(4, 16);
    this.ambiguousLockPolicy = b.ambiguousLockPolicy;
    this.sharedOkHttp = b.sharedOkHttp;
    this.sleeper = b.sleeper;
    this.nanoClock = b.nanoClock;

    OkHttpClient.Builder ok =
        sharedOkHttp != null ? sharedOkHttp.newBuilder() : new OkHttpClient.Builder();
    ok.connectTimeout(connectTimeout)
        .readTimeout(readTimeout)
        .writeTimeout(writeTimeout)
        // Retries are ours (one request id, lost-response handling), not OkHttp's silent ones.
        .retryOnConnectionFailure(false);
    if (insecureTls) {
      Insecure.apply(ok);
      log.warn(
          "TLS certificate verification is OFF for {} (insecureTls / {})",
          baseUrl.host(),
          ENV_API_HOST_INSECURE);
    }
    this.okHttp = ok.build();
    this.service =
        new Retrofit.Builder()
            .baseUrl(baseUrl)
            .client(okHttp)
            .addConverterFactory(GsonConverterFactory.create(Json.GSON))
            .build()
            .create(ArvadosService.class);
    this.redactor = new Redactor(token);
    this.clientHeaders =
        new okhttp3.Headers.Builder()
            .add("Authorization", "Bearer " + token)
            .add("User-Agent", userAgent)
            .add(CLIENT_ID_HEADER, clientId)
            .add("Accept", "application/json")
            .build();
    this.http = new Http(okHttp, retryPolicy, redactor, sleeper, nanoClock, clientHeaders);
    this.containers = new Containers(this);
  }

  /**
   * A new builder with defaults: retry {@link RetryPolicy#defaults()}, connect timeout 10 s, read
   * and write timeouts 60 s, TLS verification on, {@link AmbiguousLockPolicy#REFUSE}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A client configured the way Arvados' own tools are: from {@code ARVADOS_API_HOST}, {@code
   * ARVADOS_API_TOKEN} and {@code ARVADOS_API_HOST_INSECURE}, each falling back to the same key in
   * {@code ~/.config/arvados/settings.conf} (environment wins).
   *
   * @return a client
   * @throws IllegalStateException if no host or no token is configured
   */
  public static ArvadosClient fromEnvironment() {
    return builderFromEnvironment().build();
  }

  /**
   * A builder preloaded like {@link #fromEnvironment()}, for further settings.
   *
   * @return a builder with host, token and TLS mode set
   * @throws IllegalStateException if no host or no token is configured
   */
  public static Builder builderFromEnvironment() {
    Path settings =
        Paths.get(System.getProperty("user.home"), ".config", "arvados", "settings.conf");
    return builderFromEnvironment(System.getenv(), settings);
  }

  static Builder builderFromEnvironment(Map<String, String> env, Path settingsFile) {
    Map<String, String> merged = new HashMap<>(readSettings(settingsFile));
    for (String key : List.of(ENV_API_HOST, ENV_API_TOKEN, ENV_API_HOST_INSECURE)) {
      String v = env.get(key);
      if (v != null && !v.isBlank()) {
        merged.put(key, v.trim());
      }
    }
    String host = merged.get(ENV_API_HOST);
    String token = merged.get(ENV_API_TOKEN);
    if (host == null || host.isBlank()) {
      throw new IllegalStateException(
          ENV_API_HOST + " is not set in the environment or in " + settingsFile);
    }
    if (token == null || token.isBlank()) {
      throw new IllegalStateException(
          ENV_API_TOKEN + " is not set in the environment or in " + settingsFile);
    }
    Builder b = builder().token(token).insecureTls(isTrue(merged.get(ENV_API_HOST_INSECURE)));
    String lower = host.toLowerCase(Locale.ROOT);
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      b.baseUrl(host);
    } else {
      b.apiHost(host);
    }
    return b;
  }

  private static Map<String, String> readSettings(Path file) {
    Map<String, String> out = new HashMap<>();
    if (!Files.isRegularFile(file)) {
      return out;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
    for (String raw : lines) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      out.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
    }
    return out;
  }

  private static final Set<String> TRUE_WORDS = Set.of("1", "t", "true", "y", "yes", "on");

  static boolean isTrue(@Nullable String v) {
    return v != null && TRUE_WORDS.contains(v.trim().toLowerCase(Locale.ROOT));
  }

  /**
   * The containers API.
   *
   * @return the containers API of this client
   */
  public Containers containers() {
    return containers;
  }

  /**
   * The uuid of this client's token, as {@code GET /arvados/v1/api_client_authorizations/current}
   * reports it: what {@code locked_by_uuid} shows for containers this token locks. Fetched on first
   * use and then cached.
   *
   * @return the token uuid
   */
  public String tokenUuid() {
    String cached = tokenUuid;
    if (cached != null) {
      return cached;
    }
    Http.Outcome o =
        http.execute(
            "get current token", rid -> service.currentToken(clientHeaders, rid).request());
    if (!o.isSuccess()) {
      throw http.error(o);
    }
    JsonObject json = http.successObject(o);
    String uuid;
    try {
      uuid = Json.string(json, "uuid");
    } catch (Json.DecodeException e) {
      throw http.malformed(o.operation(), o.status(), o.requestId(), e.getMessage(), o.body());
    }
    if (uuid == null) {
      throw http.malformed(
          o.operation(), o.status(), o.requestId(), "no 'uuid' in the token record", o.body());
    }
    tokenUuid = uuid;
    return uuid;
  }

  /**
   * The base URL every request is resolved against, for example {@code https://zzzzz.example.org/}.
   *
   * @return the base URL
   */
  public String baseUrl() {
    return baseUrl.toString();
  }

  /**
   * A builder with this client's settings, to derive a client (for example with another token).
   *
   * @return a new builder
   */
  public Builder newBuilder() {
    Builder b = new Builder();
    b.baseUrl = baseUrl;
    b.token = token;
    b.insecureTls = insecureTls;
    b.connectTimeout = connectTimeout;
    b.readTimeout = readTimeout;
    b.writeTimeout = writeTimeout;
    b.retryPolicy = retryPolicy;
    b.userAgent = userAgent;
    b.clientId = explicitClientId;
    b.ambiguousLockPolicy = ambiguousLockPolicy;
    b.sharedOkHttp = sharedOkHttp;
    b.sleeper = sleeper;
    b.nanoClock = nanoClock;
    return b;
  }

  /**
   * Releases this client's connections and threads. A client built on a shared {@link OkHttpClient}
   * leaves that client's resources to its owner. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (sharedOkHttp == null) {
      okHttp.dispatcher().executorService().shutdown();
      okHttp.connectionPool().evictAll();
    }
  }

  ArvadosService service() {
    return service;
  }

  /** The base URL as parsed, for the requests {@link Http} builds directly. */
  HttpUrl httpUrl() {
    return baseUrl;
  }

  /** The OkHttp client this client built (derived from the shared one, if any); for tests. */
  OkHttpClient okHttp() {
    return okHttp;
  }

  Http http() {
    return http;
  }

  /**
   * The transport the events client uses: this client's OkHttp client (shared pool and dispatcher)
   * with no read timeout (the events client watches liveness itself) and the token added as the
   * {@code api_token} query parameter of websocket upgrade requests only, which is how arvados-ws
   * authenticates. The token never leaves this class.
   */
  ClientTransport transport() {
    OkHttpClient ws = websocketHttp;
    if (ws == null) {
      ws =
          okHttp
              .newBuilder()
              .readTimeout(Duration.ZERO)
              .addInterceptor(
                  chain -> {
                    Request r = chain.request();
                    // The API's requests get these from Http; the events client's from here.
                    Request.Builder withClientHeaders = r.newBuilder();
                    for (int i = 0; i < clientHeaders.size(); i++) {
                      withClientHeaders.header(clientHeaders.name(i), clientHeaders.value(i));
                    }
                    r = withClientHeaders.build();
                    if ("websocket".equalsIgnoreCase(r.header("Upgrade"))) {
                      r =
                          r.newBuilder()
                              .url(
                                  r.url()
                                      .newBuilder()
                                      .setQueryParameter("api_token", token)
                                      .build())
                              .build();
                    }
                    return chain.proceed(r);
                  })
              .build();
      websocketHttp = ws;
    }
    return new ClientTransport(ws, baseUrl, redactor::redact, closed::get);
  }

  AmbiguousLockPolicy ambiguousLockPolicy() {
    return ambiguousLockPolicy;
  }

  /** Whether this client's token is the v2 container token with the given uuid. */
  boolean isContainerToken(@Nullable String authUuid) {
    return authUuid != null && token.startsWith("v2/" + authUuid + "/");
  }

  @Override
  public String toString() {
    return "ArvadosClient{baseUrl="
        + baseUrl
        + ", token="
        + Redactor.MASK
        + ", clientId="
        + clientId
        + (insecureTls ? ", insecureTls" : "")
        + '}';
  }

  /** Builds an {@link ArvadosClient}. Each setter validates at once; not thread-safe. */
  public static final class Builder {
    private @Nullable HttpUrl baseUrl;
    private @Nullable String token;
    private boolean insecureTls;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration readTimeout = Duration.ofSeconds(60);
    private Duration writeTimeout = Duration.ofSeconds(60);
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private String userAgent = "crunchguard-java/" + VERSION;
    private @Nullable String clientId;
    private AmbiguousLockPolicy ambiguousLockPolicy = AmbiguousLockPolicy.REFUSE;
    private @Nullable OkHttpClient sharedOkHttp;
    private Http.Sleeper sleeper = Http.REAL_SLEEPER;
    private LongSupplier nanoClock = System::nanoTime;

    private Builder() {}

    /**
     * The cluster's API host, as in {@code ARVADOS_API_HOST}: {@code host} or {@code host:port}.
     * Always HTTPS. For a plain-HTTP local server use {@link #baseUrl(String)}.
     *
     * @param hostAndPort for example {@code zzzzz.example.org} or {@code 127.0.0.1:8443}
     * @return this builder
     */
    public Builder apiHost(String hostAndPort) {
      if (hostAndPort == null
          || hostAndPort.isBlank()
          || hostAndPort.contains("/")
          || hostAndPort.contains("@")
          || hostAndPort.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("apiHost must be host or host:port, got " + hostAndPort);
      }
      HttpUrl url = HttpUrl.parse("https://" + hostAndPort + "/");
      if (url == null) {
        throw new IllegalArgumentException("apiHost must be host or host:port, got " + hostAndPort);
      }
      this.baseUrl = url;
      return this;
    }

    /**
     * The full base URL, for local or test servers, for example {@code http://127.0.0.1:8000/}. A
     * missing trailing slash is added.
     *
     * @param baseUrl an http or https URL
     * @return this builder
     */
    public Builder baseUrl(String baseUrl) {
      HttpUrl url =
          baseUrl == null ? null : HttpUrl.parse(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
      if (url == null
          || url.query() != null
          || url.fragment() != null
          || !url.username().isEmpty()) {
        throw new IllegalArgumentException(
            "baseUrl must be an http(s) URL without query, fragment or user info, got " + baseUrl);
      }
      this.baseUrl = url;
      return this;
    }

    /**
     * The API token (v1 secret or {@code v2/<uuid>/<secret>}). Never logged.
     *
     * @param token the token; not blank, no whitespace
     * @return this builder
     */
    public Builder token(String token) {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException("token must not be blank");
      }
      if (token.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
        throw new IllegalArgumentException(
            "token must not contain whitespace or control characters");
      }
      this.token = token;
      return this;
    }

    /**
     * Turns TLS certificate and host name verification off. Only for test clusters with self-signed
     * certificates; logged as a warning when the client is built. Off by default.
     *
     * @param insecure true to skip verification
     * @return this builder
     */
    public Builder insecureTls(boolean insecure) {
      this.insecureTls = insecure;
      return this;
    }

    /**
     * @param timeout time allowed to establish a connection; positive
     * @return this builder
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = Checks.positive(timeout, "connectTimeout");
      return this;
    }

    /**
     * @param timeout time allowed between two reads of a response; positive
     * @return this builder
     */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = Checks.positive(timeout, "readTimeout");
      return this;
    }

    /**
     * @param timeout time allowed between two writes of a request; positive
     * @return this builder
     */
    public Builder writeTimeout(Duration timeout) {
      this.writeTimeout = Checks.positive(timeout, "writeTimeout");
      return this;
    }

    /**
     * @param policy how calls are retried
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      if (policy == null) {
        throw new IllegalArgumentException("retryPolicy must not be null; use RetryPolicy.none()");
      }
      this.retryPolicy = policy;
      return this;
    }

    /**
     * @param userAgent the {@code User-Agent} header; printable ASCII
     * @return this builder
     */
    public Builder userAgent(String userAgent) {
      this.userAgent = headerValue(userAgent, "userAgent");
      return this;
    }

    /**
     * An identifier of this process or component, sent as {@code X-Crunch-Guard-Client} so that
     * server-side logs and the Crunch Guard simulator's history can tell writers apart. Default: a
     * random identifier per client.
     *
     * @param clientId printable ASCII, at most 200 characters
     * @return this builder
     */
    public Builder clientId(String clientId) {
      String v = headerValue(clientId, "clientId");
      if (v.length() > 200) {
        throw new IllegalArgumentException("clientId must be at most 200 characters");
      }
      this.clientId = v;
      return this;
    }

    /**
     * What to do when a lock's response was lost and the read-back shows the container locked by
     * this token. The default, {@link AmbiguousLockPolicy#REFUSE}, is safe when several processes
     * share the token; {@link AmbiguousLockPolicy#ADOPT} is only for a token no other process uses.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder ambiguousLockPolicy(AmbiguousLockPolicy policy) {
      if (policy == null) {
        throw new IllegalArgumentException("ambiguousLockPolicy must not be null");
      }
      this.ambiguousLockPolicy = policy;
      return this;
    }

    /**
     * Shares an application's {@link OkHttpClient} (its connection pool and dispatcher threads).
     * The SDK derives its own client from it with {@link OkHttpClient#newBuilder()}, adding its
     * headers, timeouts and TLS mode; {@link ArvadosClient#close()} then leaves the shared
     * resources alone.
     *
     * @param client the client to share
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient client) {
      if (client == null) {
        throw new IllegalArgumentException("okHttpClient must not be null");
      }
      this.sharedOkHttp = client;
      return this;
    }

    Builder sleeper(Http.Sleeper sleeper) {
      this.sleeper = sleeper;
      return this;
    }

    Builder nanoClock(LongSupplier nanoClock) {
      this.nanoClock = nanoClock;
      return this;
    }

    /**
     * Builds the client.
     *
     * @return a new client
     * @throws IllegalStateException if the host/base URL or the token is missing
     */
    public ArvadosClient build() {
      if (baseUrl == null) {
        throw new IllegalStateException("set apiHost(...) or baseUrl(...) before build()");
      }
      if (token == null) {
        throw new IllegalStateException("set token(...) before build()");
      }
      return new ArvadosClient(this, baseUrl, token);
    }

    private static String headerValue(String v, String name) {
      if (v == null || v.isBlank() || !v.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException(name + " must be non-blank printable ASCII");
      }
      return v;
    }

    @Override
    public String toString() {
      return "ArvadosClient.Builder{baseUrl="
          + baseUrl
          + ", token="
          + (token == null ? null : Redactor.MASK)
          + '}';
    }
  }

  /** Trust-everything TLS, only on explicit opt-in. */
  private static final class Insecure {
    static void apply(OkHttpClient.Builder ok) {
      X509TrustManager trustAll =
          new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
              return new X509Certificate[0];
            }
          };
      try {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {trustAll}, new SecureRandom());
        ok.sslSocketFactory(ctx.getSocketFactory(), trustAll)
            .hostnameVerifier((host, session) -> true);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("cannot set up insecure TLS: " + e.getMessage(), e);
      }
    }
  }
}
