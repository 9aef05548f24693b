package dev.crunchguard.testkit;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.crunchguard.testkit.internal.events.AuditLog;
import dev.crunchguard.testkit.internal.events.EventLog;
import dev.crunchguard.testkit.internal.events.EventServer;
import dev.crunchguard.testkit.internal.http.ControlEndpoints;
import dev.crunchguard.testkit.internal.http.HttpApi;
import dev.crunchguard.testkit.internal.http.ListenOptions;
import dev.crunchguard.testkit.internal.http.RequestCounters;
import dev.crunchguard.testkit.internal.http.Tls;
import dev.crunchguard.testkit.internal.model.ApiException;
import dev.crunchguard.testkit.internal.model.ContainerRecord;
import dev.crunchguard.testkit.internal.model.ContainerRequests;
import dev.crunchguard.testkit.internal.model.ContainerRules;
import dev.crunchguard.testkit.internal.model.ContainersService;
import dev.crunchguard.testkit.internal.model.EventPermissions;
import dev.crunchguard.testkit.internal.model.History;
import dev.crunchguard.testkit.internal.model.Ids;
import dev.crunchguard.testkit.internal.model.Json;
import dev.crunchguard.testkit.internal.model.RequestContext;
import dev.crunchguard.testkit.internal.model.TokenRecord;
import dev.crunchguard.testkit.internal.model.TokenRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory simulator of the Arvados containers HTTP API (RailsAPI behind arvados-controller),
 * written from the wire specification. Start one with {@link #builder()}, point an HTTP client at
 * {@link #baseUrl()}, and use the Java methods to create containers, read records, inject faults
 * and check the write history.
 *
 * <pre>{@code
 * try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken("secret").build().start()) {
 *   String uuid = sim.createContainer(ContainerSpec.builder().priority(1).build());
 *   // POST sim.baseUrl() + "arvados/v1/containers/" + uuid + "/lock" with "Authorization: Bearer secret"
 * }
 * }</pre>
 *
 * <p>Thread-safe. Each container's check-and-write is atomic under its own lock.
 *
 * <p>Latency: the simulator serves with the JDK's {@code com.sun.net.httpserver}, which writes with
 * Nagle's algorithm on unless the JVM-wide system property {@code sun.net.httpserver.nodelay} is
 * {@code true} when the JVM's first such server starts; against a client's delayed ACKs that costs
 * about 40 ms per request. The testkit does not set the property for you (it would change every JDK
 * HTTP server in your JVM): set it for your test JVM, e.g. in Surefire's {@code
 * systemPropertyVariables}, as this project's build does. Without it, the first simulator started
 * in a JVM logs one warning saying so.
 */
public final class ArvadosSimulator implements AutoCloseable {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(ArvadosSimulator.class);
  private static final String NODELAY = "sun.net.httpserver.nodelay";
  private static final java.util.concurrent.atomic.AtomicBoolean NODELAY_ADVISED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** The default cluster id. */
  public static final String DEFAULT_CLUSTER_ID = "zzzzz";

  private final Config config;
  private final TokenRegistry tokens;
  private final History history = new History();
  private final RequestCounters counters = new RequestCounters();
  private final FaultInjector faults = new FaultInjector();
  private final ContainersService containers;
  private final HttpApi api;
  private final @Nullable Tls tls;
  private final Map<String, String> tokenUuids = new LinkedHashMap<>();
  private @Nullable HttpServer server;
  private @Nullable ExecutorService executor;
  private final @Nullable EventLog eventLog;
  private @Nullable EventServer eventServer;
  private volatile @Nullable SimulatorEvents events;
  private volatile boolean closed;

  private ArvadosSimulator(Config b) {
    this.config = b;
    this.tokens = new TokenRegistry(b.clusterId());
    String root = b.systemRootToken();
    if (root != null) {
      tokenUuids.put(root, tokens.addConfigured(root, true, true).uuid);
    }
    for (String t : b.adminTokens()) {
      tokenUuids.put(t, tokens.addConfigured(t, true, false).uuid);
    }
    for (String t : b.userTokens()) {
      tokenUuids.put(t, tokens.addConfigured(t, false, false).uuid);
    }
    ContainerRequests requests = new ContainerRequests(b.clusterId());
    ContainerRules rules =
        new ContainerRules(tokens, b.maxDispatchAttempts(), requests::highestPriorityRequester);
    this.containers = new ContainersService(b.clusterId(), tokens, rules, history, requests);
    containers.setRaceWindow(b.raceWindow());
    history.setEnabled(b.recordHistory());
    ControlEndpoints control =
        b.controlEndpoints() ? new ControlEndpoints(this, containers, counters) : null;
    this.api = new HttpApi(containers, tokens, faults::decide, counters, control, b.maxBodyBytes());
    api.disabled().addAll(b.disabled());
    this.tls = b.https() ? new Tls(b.bindAddress()) : null;
    this.eventLog = b.events() ? new EventLog(b.clusterId(), b.eventsReplayWindow()) : null;
    if (eventLog != null) {
      containers.setAudit(new AuditLog(eventLog));
    }
    api.setDiscovery(this::discoveryDocument);
  }

  /**
   * A new builder with the defaults: 127.0.0.1, port 0, cluster zzzzz, no tokens.
   *
   * @return a new builder; call {@link Builder#build()} then {@link #start()}
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds and starts serving.
   *
   * @return this
   * @throws UncheckedIOException when the port cannot be bound
   * @throws IllegalStateException when already started or closed
   */
  public synchronized ArvadosSimulator start() {
    if (server != null || closed) {
      throw new IllegalStateException("simulator already started or closed");
    }
    String advice = nodelayAdvice(System.getProperty(NODELAY));
    if (advice != null && NODELAY_ADVISED.compareAndSet(false, true)) {
      LOG.warn(advice);
    }
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor ex =
        new ThreadPoolExecutor(
            config.threads(),
            config.threads(),
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "arvados-simulator-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    try {
      InetSocketAddress addr = new InetSocketAddress(config.bindAddress(), config.port());
      HttpServer s;
      if (tls != null) {
        HttpsServer hs = HttpsServer.create(addr, 128);
        hs.setHttpsConfigurator(new HttpsConfigurator(tls.serverContext));
        s = hs;
      } else {
        s = HttpServer.create(addr, 128);
      }
      s.createContext("/", api);
      s.setExecutor(ex);
      s.start();
      this.server = s;
      this.executor = ex;
    } catch (IOException e) {
      ex.shutdownNow();
      throw new UncheckedIOException(
          "cannot bind " + config.bindAddress().getHostAddress() + ":" + config.port(), e);
    }
    if (eventLog != null) {
      startEvents(eventLog);
    }
    return this;
  }

  private void startEvents(EventLog log) {
    EventServer ws =
        new EventServer(
            log,
            new EventPermissions(tokens, containers),
            new EventServer.Options(
                config.bindAddress(),
                config.eventsPort(),
                config.eventsKeepalive(),
                config.eventsClientQueue(),
                config.eventsReplayWindow(),
                tls == null ? null : tls.serverContext));
    try {
      ws.start();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    this.eventServer = ws;
    this.events =
        new SimulatorEvents(
            log,
            ws,
            (tls != null ? "wss" : "ws") + "://" + host() + ":" + ws.port() + "/websocket");
  }

  /** Stops serving immediately and releases the port. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    if (server != null) {
      server.stop(0);
      server = null;
    }
    if (executor != null) {
      executor.shutdownNow();
      executor = null;
    }
    if (eventServer != null) {
      eventServer.close();
      eventServer = null;
    }
  }

  /**
   * The bound port.
   *
   * @return the TCP port the server listens on (the chosen one when configured as 0)
   * @throws IllegalStateException when the simulator is not started
   */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("simulator not started");
    }
    return server.getAddress().getPort();
  }

  /**
   * The base URL with a trailing slash, e.g. {@code http://127.0.0.1:41234/}.
   *
   * @return the {@code http} or (with {@link Builder#https(boolean)}) {@code https} URL of the
   *     bound address; {@code 127.0.0.1} when bound to the wildcard address
   * @throws IllegalStateException when the simulator is not started
   */
  public String baseUrl() {
    return (tls != null ? "https" : "http") + "://" + host() + ":" + port() + "/";
  }

  private String host() {
    InetAddress a = config.bindAddress();
    String host = a.isAnyLocalAddress() ? "127.0.0.1" : a.getHostAddress();
    return host.contains(":") ? "[" + host + "]" : host;
  }

  /**
   * The event stream (arvados-ws) of a simulator built with {@link Builder#events(boolean)
   * events(true)}: its URL, counters and fault controls. The stream has its own port, and the
   * discovery document ({@code GET /discovery/v1/apis/arvados/v1/rest}) announces it as {@code
   * websocketUrl}.
   *
   * @return the running stream
   * @throws IllegalStateException when events are off or the simulator is not started
   */
  public SimulatorEvents events() {
    SimulatorEvents e = events;
    if (e == null) {
      throw new IllegalStateException(
          eventLog == null ? "events are off: build with events(true)" : "simulator not started");
    }
    return e;
  }

  /**
   * The discovery document: the few keys clients read; {@code websocketUrl} empty without events.
   */
  private JsonObject discoveryDocument() {
    String base = baseUrl();
    JsonObject d = new JsonObject();
    d.addProperty("kind", "discovery#restDescription");
    d.addProperty("discoveryVersion", "v1");
    d.addProperty("id", "arvados:v1");
    d.addProperty("name", "arvados");
    d.addProperty("version", "v1");
    d.addProperty("protocol", "rest");
    d.addProperty("rootUrl", base);
    d.addProperty("servicePath", "arvados/v1/");
    d.addProperty("baseUrl", base + "arvados/v1/");
    d.addProperty("batchPath", "batch");
    d.addProperty("uuidPrefix", config.clusterId());
    SimulatorEvents e = events;
    d.addProperty("websocketUrl", e == null ? "" : e.websocketUrl());
    return d;
  }

  /**
   * The cluster id (uuid prefix).
   *
   * @return the five-character cluster id, {@value #DEFAULT_CLUSTER_ID} unless configured
   */
  public String clusterId() {
    return config.clusterId();
  }

  /**
   * The configured MaxDispatchAttempts.
   *
   * @return the {@code lock_count} at which an unlock cancels the container instead of requeueing
   *     it
   */
  public int maxDispatchAttempts() {
    return config.maxDispatchAttempts();
  }

  /**
   * The token uuid ({@code <cluster>-gj3su-...}) of a configured token.
   *
   * @param secret the token as configured on the builder
   * @return the uuid of the token's {@code api_client_authorization}
   * @throws IllegalArgumentException when the token was not configured (the secret is not echoed)
   */
  public String tokenUuid(String secret) {
    String u = tokenUuids.get(secret);
    if (u == null) {
      throw new IllegalArgumentException("not a configured token");
    }
    return u;
  }

  /**
   * The uuid of the user a configured token belongs to (each configured token has its own user; the
   * system root token belongs to the system user {@code <cluster>-tpzed-000000000000000}).
   *
   * @param secret the token as configured on the builder
   * @return the owner's user uuid ({@code <cluster>-tpzed-...})
   * @throws IllegalArgumentException when the token was not configured (the secret is not echoed)
   */
  public String userUuid(String secret) {
    TokenRecord t = tokens.byUuid(tokenUuid(secret));
    if (t == null) {
      throw new IllegalArgumentException("not a configured token");
    }
    return t.ownerUuid;
  }

  /**
   * Creates an Uncommitted container request for {@code containerUuid}, owned by {@code ownerUuid},
   * as an admin would: this is what lets that (non-admin) user read the container. Like the real
   * server, it recomputes the container's priority from its Committed requests, which is 0 here
   * (call {@link #setPriority} afterwards to raise it again).
   *
   * @param containerUuid the uuid of an existing container
   * @param ownerUuid the uuid of the user who will own the request and so may read the container
   * @return the container request's uuid
   * @throws IllegalArgumentException when there is no such container
   */
  public String createContainerRequest(String containerUuid, String ownerUuid) {
    Map<String, JsonElement> attrs = new LinkedHashMap<>();
    attrs.put("owner_uuid", new JsonPrimitive(ownerUuid));
    attrs.put("container_uuid", new JsonPrimitive(containerUuid));
    attrs.put("priority", new JsonPrimitive(1));
    try {
      return containers.createRequest(attrs, containers.systemCaller()).get("uuid").getAsString();
    } catch (ApiException e) {
      throw new IllegalArgumentException("cannot create the container request: " + e.messages);
    }
  }

  /**
   * Creates a Queued container with the given attributes, as an admin would; returns its uuid.
   *
   * @param spec the creation attributes; without a runtime token or user, the container runs as the
   *     system user so that it can be locked
   * @return the new container's uuid
   * @throws IllegalArgumentException when the server rejects the attributes
   */
  public String createContainer(ContainerSpec spec) {
    Map<String, JsonElement> attrs = new LinkedHashMap<>(spec.toAttributes().asMap());
    if (!attrs.containsKey("runtime_user_uuid") && !attrs.containsKey("runtime_token")) {
      // Lockable by default: the real server needs a user for the container token.
      attrs.put("runtime_user_uuid", new JsonPrimitive(Ids.systemUserUuid(config.clusterId())));
    }
    if (!attrs.containsKey("runtime_auth_scopes")) {
      attrs.put("runtime_auth_scopes", Json.stringArray(List.of("all")));
    }
    try {
      return containers.create(attrs, containers.systemCaller(), RequestContext.direct()).uuid();
    } catch (ApiException e) {
      throw new IllegalArgumentException("invalid container spec: " + e.messages);
    }
  }

  /**
   * Creates a Queued container with priority 1 and default attributes; returns its uuid.
   *
   * @return the new container's uuid
   */
  public String createContainer() {
    return createContainer(ContainerSpec.builder().build());
  }

  /**
   * Reads a container record directly (no HTTP, not counted, not faulted).
   *
   * @param uuid the container uuid
   * @return an immutable snapshot of the record as it is now
   * @throws NoSuchElementException when there is no such container
   */
  public ContainerSnapshot container(String uuid) {
    return findContainer(uuid)
        .orElseThrow(() -> new NoSuchElementException("no container " + uuid));
  }

  /**
   * Reads a container record directly, if it exists.
   *
   * @param uuid the container uuid
   * @return a snapshot of the record, or empty when there is no such container
   */
  public Optional<ContainerSnapshot> findContainer(String uuid) {
    ContainerRecord r = containers.find(uuid);
    return r == null ? Optional.empty() : Optional.of(new ContainerSnapshot(r));
  }

  /**
   * Snapshots of all containers.
   *
   * @return a new list with one snapshot per container, empty when there is none
   */
  public List<ContainerSnapshot> containers() {
    List<ContainerSnapshot> l = new ArrayList<>();
    for (ContainerRecord r : containers.all()) {
      l.add(new ContainerSnapshot(r));
    }
    return l;
  }

  /**
   * The container's own token ({@code v2/<auth_uuid>/<secret>}), as crunch-run builds it from the
   * {@code auth} endpoint; empty when the container has no {@code auth_uuid} (not Locked/Running,
   * or a runtime_token container). Append {@code "/" + uuid} for the 4-part form.
   *
   * @param uuid the container uuid
   * @return the container token (a secret), or empty also when there is no such container
   */
  public Optional<String> containerToken(String uuid) {
    ContainerRecord r = containers.find(uuid);
    String auth = r == null ? null : r.authUuid();
    TokenRecord t = auth == null ? null : tokens.byUuid(auth);
    return t == null ? Optional.empty() : Optional.of(t.v2());
  }

  /**
   * Sets a container's priority the way the controller's background priority fixer does
   * (lib/controller/localdb/container.go, containerPriorityUpdate): raw, without callbacks, without
   * touching {@code modified_at}, without history.
   *
   * @param uuid the container uuid
   * @param priority the new priority, {@code >= 0}
   * @return a snapshot of the record after the change
   * @throws IllegalArgumentException when {@code priority} is negative or there is no such
   *     container
   */
  public ContainerSnapshot setPriority(String uuid, long priority) {
    return new ContainerSnapshot(containers.setPriorityDirect(uuid, priority));
  }

  /**
   * How many requests the simulator is handling now: received and not yet done (a request held by a
   * {@link FaultKind#DELAY} fault or an update race window included; the count drops just after the
   * answer is written, so a client may see its answer a moment before). Zero when no client is
   * waiting on it; {@link LeakCheckExtension} checks it after each test.
   *
   * @return the number of requests in flight
   */
  public int requestsInFlight() {
    return api.inFlight();
  }

  /**
   * Every API request received, on any path: those of every {@link Endpoint}, faulted or not, and
   * those that match none (answered 404); the {@code /_simulator/} control endpoints and bodies
   * over the size limit excluded. The same count as {@link FaultProxy#totalRequestCount()}.
   *
   * @return the number of requests since start or the last {@link #resetRequestCounts()}
   */
  public long totalRequestCount() {
    return counters.total();
  }

  /**
   * How many requests reached an endpoint (faulted ones included).
   *
   * @param endpoint the endpoint
   * @return the number of requests since start or the last {@link #resetRequestCounts()}
   */
  public long requestCount(Endpoint endpoint) {
    return counters.get(endpoint);
  }

  /**
   * How many requests about one container reached an endpoint.
   *
   * @param endpoint the endpoint
   * @param containerUuid the container the requests were about
   * @return the number of such requests since start or the last {@link #resetRequestCounts()}
   */
  public long requestCount(Endpoint endpoint, String containerUuid) {
    return counters.get(endpoint, containerUuid);
  }

  /**
   * All request counts by action name ({@code containers.lock}).
   *
   * @return a new map sorted by action name; endpoints never requested are absent
   */
  public Map<String, Long> requestCounts() {
    return counters.totals();
  }

  /**
   * The request counts of one container by action name.
   *
   * @param containerUuid the container uuid
   * @return a new map sorted by action name; empty when no request was about the container
   */
  public Map<String, Long> requestCounts(String containerUuid) {
    return counters.forContainer(containerUuid);
  }

  /** Resets all request counters. */
  public void resetRequestCounts() {
    counters.clear();
  }

  /**
   * A snapshot copy of the write history, in sequence order.
   *
   * @return an immutable list of the events recorded while recording was on
   */
  public List<HistoryEvent> history() {
    return history.snapshot();
  }

  /**
   * The history events of one container.
   *
   * @param containerUuid the container uuid
   * @return an immutable list of that container's events in sequence order, empty when there are
   *     none
   */
  public List<HistoryEvent> history(String containerUuid) {
    return history.snapshot().stream()
        .filter(e -> e.containerUuid().equals(containerUuid))
        .toList();
  }

  /**
   * Turns history recording on or off (for long benchmarks); on by default.
   *
   * @param on true to record the writes that follow, false to stop recording (recorded events stay)
   */
  public void setRecordHistory(boolean on) {
    history.setEnabled(on);
  }

  /** Clears the write history. */
  public void clearHistory() {
    history.clear();
  }

  /**
   * Runs the {@link SafetyChecker} over the current history.
   *
   * @return the checker's report on {@link #history()}
   */
  public SafetyReport checkSafety() {
    return SafetyChecker.check(history.snapshot());
  }

  /**
   * The fault injector.
   *
   * @return this simulator's injector, live: rules added to it apply to the next requests
   */
  public FaultInjector faults() {
    return faults;
  }

  /**
   * Makes an endpoint answer 404 {@code Disabled} (like {@code API.DisabledAPIs}).
   *
   * @param endpoint the endpoint to disable; must not be null
   */
  public void disableApi(Endpoint endpoint) {
    api.disabled().add(Objects.requireNonNull(endpoint));
  }

  /**
   * Re-enables an endpoint.
   *
   * @param endpoint the endpoint to serve again; no effect when it was not disabled
   */
  public void enableApi(Endpoint endpoint) {
    api.disabled().remove(endpoint);
  }

  /**
   * Switches the real server's update window (src/docs/simulator.md, section 5) on (non-null pause,
   * may be zero) or off (null) at run time.
   *
   * @param pause the sleep between validation and write, or null for atomic check-and-write
   */
  public void setUpdateRaceWindow(@Nullable Duration pause) {
    containers.setRaceWindow(pause);
  }

  /**
   * Whether https mode is on.
   *
   * @return true when built with {@link Builder#https(boolean) https(true)}
   */
  public boolean isHttps() {
    return tls != null;
  }

  /**
   * An SSL context that trusts this simulator's self-signed certificate (https mode only).
   *
   * @return a TLS client context trusting only this simulator's certificate
   * @throws IllegalStateException in http mode
   */
  public SSLContext clientSslContext() {
    return requireTls().clientContext;
  }

  /**
   * A trust manager that trusts this simulator's certificate (https mode only).
   *
   * @return a trust manager accepting only this simulator's certificate
   * @throws IllegalStateException in http mode
   */
  public X509TrustManager clientTrustManager() {
    return requireTls().clientTrustManager;
  }

  /**
   * The self-signed certificate in PEM form (https mode only).
   *
   * @return the certificate as {@code -----BEGIN CERTIFICATE-----} text
   * @throws IllegalStateException in http mode
   */
  public String certificatePem() {
    return requireTls().certificatePem;
  }

  private Tls requireTls() {
    if (tls == null) {
      throw new IllegalStateException("https is not enabled");
    }
    return tls;
  }

  /**
   * Clears history, counters and faults (containers and tokens stay), and the event stream's
   * pending drops and delivery delay (its connections and event ids stay).
   */
  public void reset() {
    history.clear();
    counters.clear();
    faults.clear();
    SimulatorEvents e = events;
    if (e != null) {
      e.clearFaults();
    }
  }

  ContainersService service() {
    return containers;
  }

  @Override
  public String toString() {
    return "ArvadosSimulator["
        + config.clusterId()
        + (server == null ? ", not started" : ", " + baseUrl())
        + "]";
  }

  /**
   * The warning for a JVM whose JDK HTTP servers keep Nagle's algorithm on, or null when the
   * property is set to true.
   */
  static @Nullable String nodelayAdvice(@Nullable String nodelayProperty) {
    if ("true".equalsIgnoreCase(nodelayProperty)) {
      return null;
    }
    return "System property "
        + NODELAY
        + " is not true: the simulator's JDK HTTP server then keeps Nagle's algorithm on, which costs"
        + " about 40 ms per request against delayed ACKs. Set -D"
        + NODELAY
        + "=true for the test JVM (for example in Surefire's systemPropertyVariables).";
  }

  /**
   * The builder's settings as {@link Builder#build()} found them: a running simulator reads only
   * this copy, so changing the builder afterwards (to build another simulator) leaves it alone. Its
   * {@code toString} names no token.
   */
  private record Config(
      int port,
      InetAddress bindAddress,
      String clusterId,
      List<String> adminTokens,
      List<String> userTokens,
      @Nullable String systemRootToken,
      int maxDispatchAttempts,
      boolean https,
      boolean controlEndpoints,
      @Nullable Duration raceWindow,
      int threads,
      int maxBodyBytes,
      boolean recordHistory,
      Set<Endpoint> disabled,
      boolean events,
      int eventsPort,
      Duration eventsKeepalive,
      int eventsClientQueue,
      Duration eventsReplayWindow) {
    @Override
    public String toString() {
      return "Config[" + clusterId + ", " + bindAddress.getHostAddress() + ":" + port + "]";
    }
  }

  /**
   * Builder of {@link ArvadosSimulator}. Not thread-safe. {@link #build()} copies the settings, so
   * one builder can build several simulators, and changing it after {@code build()} does not change
   * a simulator already built.
   */
  public static final class Builder {
    private int port = 0;
    private InetAddress bindAddress = loopback();
    private String clusterId = DEFAULT_CLUSTER_ID;
    private final List<String> adminTokens = new ArrayList<>();
    private final List<String> userTokens = new ArrayList<>();
    private @Nullable String systemRootToken;
    private int maxDispatchAttempts = 10;
    private boolean https;
    private boolean controlEndpoints;
    private @Nullable Duration raceWindow;
    private int threads = 16;
    private int maxBodyBytes = 1 << 20;
    private boolean recordHistory = true;
    private final Set<Endpoint> disabled = EnumSet.noneOf(Endpoint.class);
    private boolean events;
    private int eventsPort = 0;
    private Duration eventsKeepalive = Duration.ofSeconds(60);
    private int eventsClientQueue = 64;
    private Duration eventsReplayWindow = Duration.ofMinutes(10);

    private Builder() {}

    /**
     * Serve the event stream (arvados-ws, protocol v0 at {@code /websocket}) on its own port,
     * announced as the discovery document's {@code websocketUrl} (default false). See {@link
     * ArvadosSimulator#events()} for its controls.
     *
     * @param on true to serve events
     * @return this builder
     */
    public Builder events(boolean on) {
      this.events = on;
      return this;
    }

    /**
     * The event stream's port (default 0: any free port). Implies nothing unless {@link
     * #events(boolean) events(true)}.
     *
     * @param port the TCP port, {@code 0..65535}
     * @return this builder
     * @throws IllegalArgumentException when {@code port} is out of range
     */
    public Builder eventsPort(int port) {
      this.eventsPort = ListenOptions.port(port);
      return this;
    }

    /**
     * The stream's {@code API.SendTimeout} (default 60 s, as arvados-ws): a {@code {}} keepalive at
     * each such tick while a client's queue is empty, and the limit on one write to a client.
     *
     * @param period positive
     * @return this builder
     * @throws IllegalArgumentException when {@code period} is not positive
     */
    public Builder eventsKeepalive(Duration period) {
      if (period.isNegative() || period.isZero()) {
        throw new IllegalArgumentException("eventsKeepalive must be positive");
      }
      this.eventsKeepalive = period;
      return this;
    }

    /**
     * The stream's per-client queue ({@code API.WebsocketClientEventQueue}, default 64): an event
     * for a client whose queue is full closes that client's connection.
     *
     * @param size at least 1
     * @return this builder
     * @throws IllegalArgumentException when {@code size < 1}
     */
    public Builder eventsClientQueue(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("eventsClientQueue must be at least 1");
      }
      this.eventsClientQueue = size;
      return this;
    }

    /**
     * How far back a {@code last_log_id} subscription replays (default 10 minutes, hard-coded in
     * arvados-ws); older events are also forgotten.
     *
     * @param window positive
     * @return this builder
     * @throws IllegalArgumentException when {@code window} is not positive
     */
    public Builder eventsReplayWindow(Duration window) {
      if (window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException("eventsReplayWindow must be positive");
      }
      this.eventsReplayWindow = window;
      return this;
    }

    /**
     * The port (default 0: any free port).
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
     * The address to bind (default 127.0.0.1).
     *
     * @param address an IP address or host name; must not be null
     * @return this builder
     * @throws IllegalArgumentException when the address cannot be resolved
     */
    public Builder bindAddress(String address) {
      this.bindAddress = ListenOptions.bindAddress(address);
      return this;
    }

    /**
     * The cluster id: five lowercase letters or digits (default zzzzz).
     *
     * @param id the cluster id, the prefix of every uuid
     * @return this builder
     * @throws IllegalArgumentException when {@code id} is not five lowercase letters or digits
     */
    public Builder clusterId(String id) {
      if (!id.matches("[a-z0-9]{5}")) {
        throw new IllegalArgumentException("cluster id must be 5 lowercase letters or digits");
      }
      this.clusterId = id;
      return this;
    }

    /**
     * Adds an admin (dispatcher) token; a bare secret or {@code v2/<uuid>/<secret>}. Repeatable.
     *
     * @param secret the token; must be non-empty printable ASCII without spaces
     * @return this builder
     * @throws IllegalArgumentException when the token is empty or holds spaces or non-ASCII
     *     characters
     * @throws NullPointerException when {@code secret} is null
     */
    public Builder adminToken(String secret) {
      adminTokens.add(requireToken(secret));
      return this;
    }

    /**
     * Adds a non-admin user token. Repeatable.
     *
     * @param secret the token; must be non-empty printable ASCII without spaces; a bare secret or
     *     {@code v2/<uuid>/<secret>}
     * @return this builder
     * @throws IllegalArgumentException when the token is empty or holds spaces or non-ASCII
     *     characters
     * @throws NullPointerException when {@code secret} is null
     */
    public Builder userToken(String secret) {
      userTokens.add(requireToken(secret));
      return this;
    }

    /**
     * Sets the SystemRootToken: an admin token whose uuid is {@code
     * <cluster>-gj3su-000000000000000}.
     *
     * @param secret the token; must be non-empty printable ASCII without spaces
     * @return this builder
     * @throws IllegalArgumentException when the token is empty or holds spaces or non-ASCII
     *     characters
     * @throws NullPointerException when {@code secret} is null
     */
    public Builder systemRootToken(String secret) {
      this.systemRootToken = requireToken(secret);
      return this;
    }

    /**
     * Containers.MaxDispatchAttempts (default 10).
     *
     * @param n the {@code lock_count} at which an unlock cancels the container instead of
     *     requeueing it, {@code >= 1}
     * @return this builder
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public Builder maxDispatchAttempts(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxDispatchAttempts must be >= 1");
      }
      this.maxDispatchAttempts = n;
      return this;
    }

    /**
     * Serve https with a fresh self-signed certificate (default false).
     *
     * @param on true for https, false for plain http
     * @return this builder
     */
    public Builder https(boolean on) {
      this.https = on;
      return this;
    }

    /**
     * Serve the {@code /_simulator/...} control endpoints (default false: they are 404).
     *
     * @param on true to serve the control endpoints
     * @return this builder
     */
    public Builder enableControlEndpoints(boolean on) {
      this.controlEndpoints = on;
      return this;
    }

    /**
     * Reproduce the real server's update window (src/docs/simulator.md, section 5): updates
     * validate against a record read without the row lock, sleep {@code pause}, then write the
     * changed columns without re-validating. Null (the default) means atomic check-and-write.
     *
     * @param pause the sleep between validation and write (may be zero), or null
     * @return this builder
     * @throws IllegalArgumentException when {@code pause} is negative
     */
    public Builder updateRaceWindow(@Nullable Duration pause) {
      if (pause != null && pause.isNegative()) {
        throw new IllegalArgumentException("pause must not be negative");
      }
      this.raceWindow = pause;
      return this;
    }

    /**
     * Handler threads (default 16).
     *
     * @param n the number of request handler threads, {@code >= 1}
     * @return this builder
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public Builder threads(int n) {
      this.threads = ListenOptions.threads(n);
      return this;
    }

    /**
     * Largest accepted request body (default 1 MiB); larger bodies get 413.
     *
     * @param n the limit in bytes, {@code >= 1024}
     * @return this builder
     * @throws IllegalArgumentException when {@code n < 1024}
     */
    public Builder maxBodyBytes(int n) {
      if (n < 1024) {
        throw new IllegalArgumentException("maxBodyBytes must be >= 1024");
      }
      this.maxBodyBytes = n;
      return this;
    }

    /**
     * Record the write history (default true; turn off for long benchmarks).
     *
     * @param on true to record every container write attempt
     * @return this builder
     */
    public Builder recordHistory(boolean on) {
      this.recordHistory = on;
      return this;
    }

    /**
     * Disables an endpoint from the start (404 {@code Disabled}).
     *
     * @param e the endpoint to disable; must not be null
     * @return this builder
     */
    public Builder disableApi(Endpoint e) {
      disabled.add(Objects.requireNonNull(e));
      return this;
    }

    /**
     * Builds a simulator (not started) from a copy of the current settings.
     *
     * @return a new simulator; call {@link ArvadosSimulator#start()} to serve
     */
    public ArvadosSimulator build() {
      return new ArvadosSimulator(
          new Config(
              port,
              bindAddress,
              clusterId,
              List.copyOf(adminTokens),
              List.copyOf(userTokens),
              systemRootToken,
              maxDispatchAttempts,
              https,
              controlEndpoints,
              raceWindow,
              threads,
              maxBodyBytes,
              recordHistory,
              Set.copyOf(disabled),
              events,
              eventsPort,
              eventsKeepalive,
              eventsClientQueue,
              eventsReplayWindow));
    }

    private static InetAddress loopback() {
      try {
        return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
      } catch (UnknownHostException e) {
        throw new IllegalStateException(e);
      }
    }

    private static String requireToken(String t) {
      Objects.requireNonNull(t, "token");
      if (t.isEmpty() || t.chars().anyMatch(c -> c <= ' ' || c > '~')) {
        throw new IllegalArgumentException(
            "a token must be non-empty printable ASCII without spaces");
      }
      return t;
    }
  }
}
