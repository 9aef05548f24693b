package dev.crunchguard.testkit;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.crunchguard.testkit.internal.http.ControlEndpoints;
import dev.crunchguard.testkit.internal.http.FaultDecision;
import dev.crunchguard.testkit.internal.http.HttpApi;
import dev.crunchguard.testkit.internal.http.ListenOptions;
import dev.crunchguard.testkit.internal.http.RequestCounters;
import dev.crunchguard.testkit.internal.model.ApiException;
import dev.crunchguard.testkit.internal.model.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP proxy in front of any Arvados API server (the real RailsAPI, the {@link
 * ArvadosSimulator}, a test cluster) that injects the simulator's {@link FaultKind faults} on the
 * way, counts requests per {@link Endpoint} and container, and logs every write.
 *
 * <pre>{@code
 * try (FaultProxy proxy = FaultProxy.builder("http://127.0.0.1:43137/").build().start()) {
 *   proxy.faults().add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).container(uuid).build());
 *   ArvadosClient client = ArvadosClient.builder().baseUrl(proxy.baseUrl()).token(token).build();
 *   ...
 *   assertThat(proxy.requestCount(Endpoint.UPDATE, uuid)).isEqualTo(2);
 * }
 * }</pre>
 *
 * <p>Faults are decided by the same {@link FaultInjector} as the simulator's, from the route of the
 * request: {@link FaultKind#LOST_RESPONSE} forwards the request, lets the upstream apply it, and
 * then closes the client's connection without an answer; {@link FaultKind#CONNECTION_RESET}, 502,
 * 503 and 429 answer without forwarding anything; {@link FaultKind#DELAY} sleeps before forwarding.
 * Paths outside the containers API (users, tokens of other kinds) are forwarded without faults or
 * counts.
 *
 * <p>The client-facing side is the JDK's {@code com.sun.net.httpserver} server (as the
 * simulator's), the upstream side OkHttp; the proxy serves plain http on its bind address and may
 * talk https to the upstream. Headers, including {@code Authorization}, are forwarded but never
 * logged; the write log holds paths without their query strings.
 *
 * <p>With {@link Builder#enableControlEndpoints(boolean)}, it also serves {@code /_proxy/faults}
 * ({@code GET}, {@code POST} a rule as the simulator's {@code /_simulator/faults}, {@code DELETE}),
 * {@code /_proxy/counts} ({@code GET}, {@code DELETE}) and {@code /_proxy/writes} ({@code GET}),
 * for standalone use ({@code java -jar arvados-simulator.jar --proxy UPSTREAM_URL}).
 *
 * <p>Thread-safe.
 */
public final class FaultProxy implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);
  static final String CONTROL_PREFIX = "/_proxy/";

  /** Hop-by-hop headers (RFC 9110 7.6.1) and the ones the two HTTP stacks set themselves. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-authenticate",
          "proxy-authorization",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "host",
          "content-length");

  private final HttpUrl upstream;
  private final InetAddress bind;
  private final int requestedPort;
  private final int threads;
  private final boolean control;
  private final int maxBodyBytes;
  private final OkHttpClient http;
  private final FaultInjector faults = new FaultInjector();
  private final RequestCounters counters = new RequestCounters();
  private final WriteLog writes = new WriteLog();
  private final java.util.concurrent.atomic.LongAdder total =
      new java.util.concurrent.atomic.LongAdder();
  private @Nullable HttpServer server;
  private @Nullable ExecutorService executor;

  private FaultProxy(Builder b, HttpUrl upstream) {
    this.upstream = upstream;
    this.bind = b.bind;
    this.requestedPort = b.port;
    this.threads = b.threads;
    this.control = b.control;
    this.maxBodyBytes = b.maxBodyBytes;
    this.http =
        RealArvados.httpClient(b.insecureUpstream, b.upstreamTimeout)
            .newBuilder()
            .followRedirects(false)
            .followSslRedirects(false)
            .build();
  }

  /**
   * Starts configuring a proxy for the given upstream.
   *
   * @param upstreamBaseUrl the Arvados base URL, {@code http(s)://host:port/}; a missing trailing
   *     slash is added; requests to the proxy's {@code /P} go to {@code upstreamBaseUrl + P}
   * @return a builder
   */
  public static Builder builder(String upstreamBaseUrl) {
    return new Builder(upstreamBaseUrl);
  }

  /**
   * Starts serving.
   *
   * @return this proxy
   * @throws UncheckedIOException when the port cannot be bound
   */
  public synchronized FaultProxy start() {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    try {
      HttpServer s = HttpServer.create(new InetSocketAddress(bind, requestedPort), 128);
      AtomicInteger n = new AtomicInteger();
      ExecutorService ex =
          Executors.newFixedThreadPool(
              threads,
              r -> {
                Thread t = new Thread(r, "fault-proxy-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
      s.setExecutor(ex);
      s.createContext("/", this::handle);
      s.start();
      server = s;
      executor = ex;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot bind the fault proxy to " + bind.getHostAddress() + ":" + requestedPort, e);
    }
    LOG.debug("fault proxy on {} for {}", baseUrl(), upstream);
    return this;
  }

  /** Stops serving and releases the upstream connections; idempotent. */
  @Override
  public synchronized void close() {
    HttpServer s = server;
    if (s != null) {
      s.stop(0);
      server = null;
    }
    ExecutorService ex = executor;
    if (ex != null) {
      ex.shutdownNow();
      try {
        ex.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      executor = null;
    }
    http.connectionPool().evictAll();
    http.dispatcher().executorService().shutdown();
  }

  /**
   * The port it listens on.
   *
   * @return the bound TCP port (the chosen one when configured as 0)
   * @throws IllegalStateException when the proxy is not started
   */
  public synchronized int port() {
    HttpServer s = server;
    if (s == null) {
      throw new IllegalStateException("not started");
    }
    return s.getAddress().getPort();
  }

  /**
   * The proxy's base URL, to give clients instead of the upstream's: {@code
   * http://127.0.0.1:PORT/}.
   *
   * @return the plain-http URL of the bound address, ending in {@code /}; {@code 127.0.0.1} when
   *     bound to the wildcard address
   * @throws IllegalStateException when the proxy is not started
   */
  public String baseUrl() {
    String host = bind.isAnyLocalAddress() ? "127.0.0.1" : bind.getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + port() + "/";
  }

  /**
   * The upstream base URL.
   *
   * @return the upstream URL the proxy forwards to, ending in {@code /}
   */
  public String upstreamUrl() {
    return upstream.toString();
  }

  /**
   * The faults to inject: add {@link FaultRule}s or {@link RandomFaults}, clear them.
   *
   * @return this proxy's injector, live: changes apply to the next requests
   */
  public FaultInjector faults() {
    return faults;
  }

  /**
   * Every API request received, on any path (containers API or not, faulted or not; the control
   * endpoints excluded).
   *
   * @return the number of proxied requests since start or the last {@link #reset()}
   */
  public long totalRequestCount() {
    return total.sum();
  }

  /**
   * Requests received for an endpoint, over all containers (faulted ones included).
   *
   * @param endpoint the endpoint
   * @return the number of requests since start or the last {@link #reset()}
   */
  public long requestCount(Endpoint endpoint) {
    return counters.get(endpoint);
  }

  /**
   * Requests received for an endpoint and container.
   *
   * @param endpoint the endpoint
   * @param containerUuid the container the requests were about
   * @return the number of such requests since start or the last {@link #reset()}
   */
  public long requestCount(Endpoint endpoint, String containerUuid) {
    return counters.get(endpoint, containerUuid);
  }

  /**
   * Action name ({@code containers.lock}) to request count, over all containers.
   *
   * @return a new map sorted by action name; endpoints never requested are absent
   */
  public Map<String, Long> requestCounts() {
    return counters.totals();
  }

  /**
   * Action name to request count, for one container.
   *
   * @param containerUuid the container uuid
   * @return a new map sorted by action name; empty when no request was about the container
   */
  public Map<String, Long> requestCounts(String containerUuid) {
    return counters.forContainer(containerUuid);
  }

  /**
   * The writes so far, in arrival order.
   *
   * @return an immutable snapshot of the write log since start or the last {@link #reset()}
   */
  public List<ProxiedWrite> writes() {
    return writes.all();
  }

  /**
   * The writes about one container, in arrival order.
   *
   * @param containerUuid the container uuid
   * @return an immutable list of the logged writes whose {@link ProxiedWrite#containerUuid()} is
   *     {@code containerUuid}
   */
  public List<ProxiedWrite> writes(String containerUuid) {
    return writes.forContainer(containerUuid);
  }

  /** Clears the counts, the write log and the faults. */
  public void reset() {
    total.reset();
    counters.clear();
    writes.clear();
    faults.clear();
  }

  @Override
  public String toString() {
    HttpServer s = server;
    return "FaultProxy[" + (s == null ? "stopped" : baseUrl()) + " -> " + upstream + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private void handle(HttpExchange ex) throws IOException {
    String requestId = HttpApi.requestId(ex.getRequestHeaders().getFirst("X-Request-Id"));
    String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
    String path = ex.getRequestURI().getRawPath();
    try {
      byte[] body = readBody(ex);
      if (body == null) {
        HttpApi.sendError(
            ex,
            requestId,
            ApiException.rails(413, "Request body too large (limit " + maxBodyBytes + " bytes)"));
        return;
      }
      if (control && path.startsWith(CONTROL_PREFIX)) {
        handleControl(ex, method, path.substring(CONTROL_PREFIX.length()), body, requestId);
        return;
      }
      proxy(ex, method, path, body, requestId);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ex.close();
    } catch (IOException e) {
      LOG.debug("I/O error answering {} {}: {}", method, path, e.toString());
      ex.close();
    } catch (RuntimeException e) {
      LOG.error("fault proxy bug on {} {}", method, path, e);
      HttpApi.sendError(
          ex,
          requestId,
          ApiException.rails(500, "#<" + e.getClass().getName() + ": fault proxy internal error>"));
    }
  }

  private void proxy(HttpExchange ex, String method, String path, byte[] body, String requestId)
      throws IOException, InterruptedException {
    total.increment();
    String decodedPath = ex.getRequestURI().getPath();
    String override = ex.getRequestHeaders().getFirst("X-Http-Method-Override");
    String effective =
        override != null && method.equals("POST") ? override.toUpperCase(Locale.ROOT) : method;
    HttpApi.Route route = HttpApi.route(effective, decodedPath);
    boolean write = !effective.equals("GET") && !effective.equals("HEAD");
    String contentType = ex.getRequestHeaders().getFirst("Content-Type");
    boolean authUuid =
        write && carriesAuthUuid(body, contentType, ex.getRequestURI().getRawQuery());

    FaultKind applied = null;
    FaultKind terminal = null;
    Integer retryAfter = null;
    if (route != null) {
      counters.count(route.endpoint(), route.uuid());
      FaultDecision d = faults.decide(route.endpoint(), route.uuid());
      if (d.delayMillis() > 0) {
        applied = FaultKind.DELAY;
        Thread.sleep(d.delayMillis());
      }
      terminal = d.terminal();
      retryAfter = d.retryAfterSeconds();
      if (terminal != null) {
        applied = terminal;
      }
    }
    Endpoint endpoint = route == null ? null : route.endpoint();
    String uuid = route == null ? null : route.uuid();

    if (terminal != null && terminal != FaultKind.LOST_RESPONSE) {
      if (write) {
        writes.add(method, decodedPath, endpoint, uuid, authUuid, statusOf(terminal), terminal);
      }
      LOG.debug("fault {} on {} {}", terminal, method, decodedPath);
      HttpApi.injectBeforeApply(ex, terminal, retryAfter, effective, decodedPath, requestId);
      return;
    }

    okhttp3.Request upstreamRequest = upstreamRequest(ex, method, path, body, contentType);
    try (Response r = http.newCall(upstreamRequest).execute()) {
      ResponseBody rb = r.body();
      byte[] answer = rb == null ? new byte[0] : rb.bytes();
      if (write) {
        String target = uuid;
        if (target == null && endpoint == Endpoint.CREATE && r.code() == 200) {
          target = uuidOf(answer);
        }
        writes.add(method, decodedPath, endpoint, target, authUuid, r.code(), applied);
      }
      if (terminal == FaultKind.LOST_RESPONSE) {
        LOG.debug(
            "fault LOST_RESPONSE on {} {} (upstream answered {})", method, decodedPath, r.code());
        ex.close();
        return;
      }
      Headers out = ex.getResponseHeaders();
      for (String name : r.headers().names()) {
        if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
          out.put(name, new ArrayList<>(r.headers(name)));
        }
      }
      boolean noBody =
          method.equals("HEAD") || r.code() == 204 || r.code() == 304 || answer.length == 0;
      ex.sendResponseHeaders(r.code(), noBody ? -1 : answer.length);
      try (OutputStream os = ex.getResponseBody()) {
        if (!noBody) {
          os.write(answer);
        }
      }
    } catch (IOException e) {
      // The upstream's answer is missing: say so as a gateway would. Whether it applied is unknown.
      if (write) {
        writes.add(method, decodedPath, endpoint, uuid, authUuid, 0, applied);
      }
      if (terminal == FaultKind.LOST_RESPONSE) {
        ex.close();
        return;
      }
      LOG.debug("upstream failed for {} {}: {}", method, decodedPath, e.toString());
      HttpApi.sendError(
          ex,
          requestId,
          new ApiException(
              502,
              List.of(
                  "fault proxy: "
                      + method
                      + " "
                      + upstream.host()
                      + ":"
                      + upstream.port()
                      + decodedPath
                      + ": "
                      + e.getClass().getSimpleName()),
              ApiException.Style.CONTROLLER));
    }
  }

  private okhttp3.Request upstreamRequest(
      HttpExchange ex, String method, String rawPath, byte[] body, @Nullable String contentType) {
    String rawQuery = ex.getRequestURI().getRawQuery();
    String relative = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
    HttpUrl url = upstream.resolve(relative + (rawQuery == null ? "" : "?" + rawQuery));
    if (url == null) {
      throw new IllegalArgumentException("cannot map path onto the upstream URL");
    }
    okhttp3.Request.Builder b = new okhttp3.Request.Builder().url(url);
    for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
      if (NOT_FORWARDED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
        continue;
      }
      for (String v : h.getValue()) {
        b.addHeader(h.getKey(), v);
      }
    }
    RequestBody rb = null;
    boolean permits = !method.equals("GET") && !method.equals("HEAD");
    boolean requires = method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    if (permits && (body.length > 0 || requires)) {
      rb = RequestBody.create(body, contentType == null ? null : MediaType.parse(contentType));
    }
    return b.method(method, rb).build();
  }

  private static int statusOf(FaultKind k) {
    switch (k) {
      case BAD_GATEWAY:
        return 502;
      case SERVICE_UNAVAILABLE:
        return 503;
      case TOO_MANY_REQUESTS:
        return 429;
      default:
        return 0;
    }
  }

  /**
   * Whether the request's container attributes (JSON body, form or query {@code container}) hold
   * {@code auth_uuid}.
   */
  static boolean carriesAuthUuid(
      byte[] body, @Nullable String contentType, @Nullable String rawQuery) {
    String text = new String(body, StandardCharsets.UTF_8);
    boolean form =
        contentType != null
            && contentType.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded");
    if (!form && !text.isBlank()) {
      try {
        JsonElement e = Json.parseStrict(text);
        if (e.isJsonObject()) {
          JsonObject o = e.getAsJsonObject();
          JsonElement c = o.get("container");
          if (c != null) {
            return attrsHaveAuthUuid(c);
          }
          return o.has("auth_uuid");
        }
      } catch (JsonParseException | IllegalStateException ignored) {
        // not JSON: look at form parameters below
      }
    }
    for (String source : new String[] {form ? text : null, rawQuery}) {
      if (source == null) {
        continue;
      }
      for (String pair : source.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0
            && URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8)
                .equals("container")) {
          String v = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
          try {
            if (attrsHaveAuthUuid(Json.parseStrict(v))) {
              return true;
            }
          } catch (JsonParseException | IllegalStateException ignored) {
            // not JSON attributes
          }
        }
      }
    }
    return false;
  }

  private static boolean attrsHaveAuthUuid(JsonElement c) {
    if (c.isJsonObject()) {
      return c.getAsJsonObject().has("auth_uuid");
    }
    if (c.isJsonPrimitive() && c.getAsJsonPrimitive().isString()) {
      JsonElement inner = Json.parseStrict(c.getAsString());
      return inner.isJsonObject() && inner.getAsJsonObject().has("auth_uuid");
    }
    return false;
  }

  private static @Nullable String uuidOf(byte[] answer) {
    try {
      JsonElement e = Json.parseStrict(new String(answer, StandardCharsets.UTF_8));
      if (e.isJsonObject()
          && e.getAsJsonObject().has("uuid")
          && e.getAsJsonObject().get("uuid").isJsonPrimitive()) {
        return e.getAsJsonObject().get("uuid").getAsString();
      }
    } catch (JsonParseException | IllegalStateException ignored) {
      // no uuid to log
    }
    return null;
  }

  private byte @Nullable [] readBody(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] b = in.readNBytes(maxBodyBytes + 1);
      if (b.length <= maxBodyBytes) {
        return b;
      }
      in.transferTo(OutputStream.nullOutputStream());
    }
    ex.getResponseHeaders().set("Connection", "close");
    return null;
  }

  private void handleControl(
      HttpExchange ex, String method, String what, byte[] body, String requestId)
      throws IOException {
    while (what.endsWith("/")) {
      what = what.substring(0, what.length() - 1);
    }
    String control = what;
    ControlEndpoints.answer(
        ex,
        requestId,
        () -> {
          JsonElement result;
          switch (method + " " + control) {
            case "GET faults":
              result = ControlEndpoints.faultsJson(faults);
              break;
            case "POST faults":
              ControlEndpoints.addFault(faults, ControlEndpoints.parseObject(body));
              result = Json.object("ok", true);
              break;
            case "DELETE faults":
              faults.clear();
              result = Json.object("ok", true);
              break;
            case "GET counts":
              {
                JsonObject o = new JsonObject();
                o.add("endpoints", Json.GSON.toJsonTree(counters.totals()));
                o.add("containers", Json.GSON.toJsonTree(counters.allContainers()));
                o.addProperty("total", total.sum());
                result = o;
                break;
              }
            case "DELETE counts":
              total.reset();
              counters.clear();
              writes.clear();
              result = Json.object("ok", true);
              break;
            case "GET writes":
              result = writes.json();
              break;
            default:
              throw ApiException.notFound();
          }
          return result;
        });
  }

  /** The write log. */
  private static final class WriteLog {
    private final AtomicLong sequence = new AtomicLong();
    private final List<ProxiedWrite> entries = new ArrayList<>();

    void add(
        String method,
        String path,
        @Nullable Endpoint endpoint,
        @Nullable String uuid,
        boolean authUuid,
        int status,
        @Nullable FaultKind fault) {
      synchronized (entries) {
        entries.add(
            new ProxiedWrite(
                sequence.incrementAndGet(), method, path, endpoint, uuid, authUuid, status, fault));
      }
    }

    List<ProxiedWrite> all() {
      synchronized (entries) {
        return List.copyOf(entries);
      }
    }

    List<ProxiedWrite> forContainer(String uuid) {
      synchronized (entries) {
        return entries.stream().filter(w -> uuid.equals(w.containerUuid())).toList();
      }
    }

    void clear() {
      synchronized (entries) {
        entries.clear();
      }
    }

    JsonObject json() {
      com.google.gson.JsonArray a = new com.google.gson.JsonArray();
      for (ProxiedWrite w : all()) {
        a.add(
            Json.object(
                "sequence",
                w.sequence(),
                "method",
                w.method(),
                "path",
                w.path(),
                "endpoint",
                w.endpoint() == null ? null : w.endpoint().action(),
                "container_uuid",
                w.containerUuid(),
                "auth_uuid",
                w.carriedAuthUuid(),
                "status",
                w.status(),
                "fault",
                w.fault() == null ? null : w.fault().name()));
      }
      return Json.object("writes", a);
    }
  }

  /** Builder of {@link FaultProxy}. */
  public static final class Builder {
    private final String upstreamUrl;
    private InetAddress bind = InetAddress.getLoopbackAddress();
    private int port;
    private int threads = 16;
    private boolean control;
    private boolean insecureUpstream;
    private Duration upstreamTimeout = Duration.ofSeconds(60);
    private int maxBodyBytes = 16 << 20;

    private Builder(String upstreamUrl) {
      this.upstreamUrl = Objects.requireNonNull(upstreamUrl, "upstreamBaseUrl");
    }

    /**
     * The port to listen on (default 0: any free port).
     *
     * @param port the TCP port, {@code 0..65535}
     * @return this builder
     * @throws IllegalArgumentException when {@code port} is out of range
     */
    public Builder port(int port) {
      this.port = ListenOptions.port(port);
      return this;
    }

    /**
     * The address to bind (default the loopback address).
     *
     * @param address an IP address or host name; must not be null
     * @return this builder
     * @throws IllegalArgumentException when the address cannot be resolved
     */
    public Builder bindAddress(String address) {
      this.bind = ListenOptions.bindAddress(address);
      return this;
    }

    /**
     * Handler threads, that is concurrent requests (default 16).
     *
     * @param n the number of handler threads, {@code >= 1}
     * @return this builder
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public Builder threads(int n) {
      this.threads = ListenOptions.threads(n);
      return this;
    }

    /**
     * Accept a self-signed certificate from an https upstream (default false).
     *
     * @param insecure true to skip certificate verification towards the upstream
     * @return this builder
     */
    public Builder insecureUpstream(boolean insecure) {
      this.insecureUpstream = insecure;
      return this;
    }

    /**
     * Connect, read and write timeout towards the upstream (default 60 s).
     *
     * @param timeout the timeout; must be positive
     * @return this builder
     * @throws IllegalArgumentException when {@code timeout} is zero or negative
     */
    public Builder upstreamTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("upstreamTimeout must be positive");
      }
      this.upstreamTimeout = timeout;
      return this;
    }

    /**
     * Serve the {@code /_proxy/...} control endpoints (default false).
     *
     * @param on true to serve the control endpoints
     * @return this builder
     */
    public Builder enableControlEndpoints(boolean on) {
      this.control = on;
      return this;
    }

    /**
     * Largest accepted request body (default 16 MiB; larger ones get 413).
     *
     * @param n the limit in bytes, {@code >= 0}
     * @return this builder
     * @throws IllegalArgumentException when {@code n} is negative
     */
    public Builder maxBodyBytes(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxBodyBytes must not be negative");
      }
      this.maxBodyBytes = n;
      return this;
    }

    /**
     * Builds the proxy (not yet listening: call {@link FaultProxy#start()}).
     *
     * @return a new proxy for the upstream URL, with a trailing slash added when missing
     * @throws IllegalArgumentException when the upstream URL is not an http(s) base URL
     */
    public FaultProxy build() {
      String u = upstreamUrl.endsWith("/") ? upstreamUrl : upstreamUrl + "/";
      HttpUrl url = HttpUrl.parse(u);
      if (url == null
          || url.query() != null
          || url.fragment() != null
          || !url.username().isEmpty()) {
        throw new IllegalArgumentException(
            "upstream must be an http(s) base URL without query, fragment or user info");
      }
      return new FaultProxy(this, url);
    }
  }
}
