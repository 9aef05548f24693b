package dev.crunchguard.testkit.internal.events;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.DefaultSSLWebSocketServerFactory;
import org.java_websocket.server.DefaultWebSocketServerFactory;
import org.java_websocket.server.WebSocketServer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The simulator's arvados-ws: a websocket server (Java-WebSocket) on its own port that serves the
 * v0 protocol at {@code /websocket} from an {@link EventLog}. What it models, with the arvados-ws
 * source it follows ({@code services/ws}):
 *
 * <ul>
 *   <li>any origin and any token may connect; the token ({@code api_token} query parameter) is not
 *       checked at connect time, every event is checked against it instead (a bad token receives
 *       acknowledgements and keepalives only); {@code /arvados/v1/events.ws} (v1) upgrades and
 *       closes at once; other paths are refused;
 *   <li>{@code subscribe}/{@code unsubscribe} as session_v0.go {@code Receive}: acknowledgement
 *       {@code {"status":200}} queued before the subscription is added, {@code {"status":400}} for
 *       bad JSON, an unknown method or an unsubscribe matching nothing, the connection kept;
 *   <li>filters: see {@link Subscription}; several subscriptions OR together, an event is sent
 *       once;
 *   <li>one outgoing queue per connection ({@code API.WebsocketClientEventQueue}, 64): an event
 *       that matches when the queue is full closes the connection ("client queue full");
 *   <li>the sender checks each event's permission as the connection's token (the object's uuid; the
 *       owner's for a delete), cached per connection for an hour, denials included; {@code msgID}
 *       counts the messages actually sent on the connection from 1;
 *   <li>keepalive: {@code {}} queued at every {@code SendTimeout} tick when the queue is empty; a
 *       write the client does not take within {@code SendTimeout} closes the connection;
 *   <li>{@code last_log_id}: after the acknowledgement, the rows with a greater id created within
 *       the replay window (10 minutes in arvados-ws), in id order, through this subscription's
 *       filters, never filling more than half the queue; live events interleave, duplicates are
 *       possible;
 *   <li>client frames of 2 MiB or more close the connection.
 * </ul>
 *
 * <p>Fault controls: {@link #setDeliveryDelay}, {@link #restart}, {@link #stallClients}, and the
 * log's {@link EventLog#dropNext}.
 *
 * <p>Threads: the library's selector and decoder threads (which only hand messages over), and per
 * connection one reader thread (subscriptions and replays, as the server's reader goroutine) and
 * one sender thread; one timer for keepalives.
 */
public final class EventServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventServer.class);
  private static final AtomicInteger SERVERS = new AtomicInteger();
  static final String ACK_OK = "{\"status\":200}";
  static final String ACK_FAIL = "{\"status\":400}";
  static final String KEEPALIVE = "{}";
  static final long PERMISSION_CACHE_NANOS = TimeUnit.HOURS.toNanos(1);
  static final int MAX_FRAME_BYTES = 2 << 20;

  /** Whether a token may read an object, as arvados-ws asks the API with a GET as that token. */
  @FunctionalInterface
  public interface Permissions {
    /**
     * Whether the token may read the object.
     *
     * @param token the connection's {@code api_token}, null when it sent none; a secret
     * @param uuid the object's uuid
     * @return true when a GET as the token would succeed; false for 401/403/404
     */
    boolean canRead(@Nullable String token, String uuid);
  }

  /**
   * The server's settings.
   *
   * @param bindAddress the address to listen on
   * @param port the port, 0 for any free one
   * @param sendTimeout {@code API.SendTimeout}: the keepalive period and the write deadline
   * @param queueSize {@code API.WebsocketClientEventQueue}
   * @param replayWindow how far back {@code last_log_id} replays
   * @param ssl serve wss with this context, or null for ws
   */
  public record Options(
      InetAddress bindAddress,
      int port,
      Duration sendTimeout,
      int queueSize,
      Duration replayWindow,
      @Nullable SSLContext ssl) {
    /**
     * Validates the settings.
     *
     * @param bindAddress see the record
     * @param port see the record
     * @param sendTimeout see the record
     * @param queueSize see the record
     * @param replayWindow see the record
     * @param ssl see the record
     */
    public Options {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535");
      }
      if (sendTimeout.isNegative() || sendTimeout.isZero()) {
        throw new IllegalArgumentException("sendTimeout must be positive");
      }
      if (queueSize < 1) {
        throw new IllegalArgumentException("queueSize must be at least 1");
      }
      if (replayWindow.isNegative()) {
        throw new IllegalArgumentException("replayWindow must not be negative");
      }
    }
  }

  private final EventLog log;
  private final Permissions permissions;
  private final Options options;
  private final String name;
  private final Server server;
  private final ScheduledThreadPoolExecutor timer;
  private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
  private final CountDownLatch started = new CountDownLatch(1);
  private volatile @Nullable Exception startError;
  private volatile long deliveryDelayNanos;
  private volatile long refuseUntilNanos;
  private volatile boolean closed;
  final AtomicLong connections = new AtomicLong();
  final AtomicLong queueFullCloses = new AtomicLong();
  final AtomicLong writeTimeouts = new AtomicLong();
  final AtomicLong eventsSent = new AtomicLong();

  /**
   * A server (not started) for a log.
   *
   * @param log the log it serves
   * @param permissions the per-event permission check
   * @param options the settings
   */
  public EventServer(EventLog log, Permissions permissions, Options options) {
    this.log = log;
    this.permissions = permissions;
    this.options = options;
    this.name = "arvados-simulator-ws-" + SERVERS.incrementAndGet();
    this.server =
        new Server(
            new InetSocketAddress(options.bindAddress(), options.port()),
            List.of(new Draft_6455(List.of(), MAX_FRAME_BYTES - 1)));
    server.setReuseAddr(true);
    server.setTcpNoDelay(true);
    server.setConnectionLostTimeout(0); // arvados-ws sends no pings; {} keepalives only
    server.setDaemon(true);
    SSLContext ssl = options.ssl();
    server.setWebSocketFactory(
        new DrainSignal.Factory(
            ssl == null
                ? new DefaultWebSocketServerFactory()
                : new DefaultSSLWebSocketServerFactory(ssl)));
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name + "-timer");
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
  }

  /**
   * Binds and starts serving; returns once bound.
   *
   * @throws UncheckedIOException when the port cannot be bound
   */
  public void start() {
    server.start();
    try {
      if (!started.await(30, TimeUnit.SECONDS)) {
        throw new UncheckedIOException(new IOException("event server did not start in 30 s"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the event server", e);
    }
    Exception e = startError;
    if (e != null) {
      throw new UncheckedIOException(
          new IOException(
              "cannot bind " + options.bindAddress().getHostAddress() + ":" + options.port(), e));
    }
  }

  /**
   * @return the bound port
   */
  public int port() {
    return server.getPort();
  }

  /**
   * @return the settings
   */
  public Options options() {
    return options;
  }

  /**
   * Delays every event's delivery until {@code delay} after it was written (zero: no delay). Events
   * wait in the connection's queue meanwhile, so a burst longer than the queue closes the
   * connection, as a slow arvados-ws would.
   *
   * @param delay not negative
   */
  public void setDeliveryDelay(Duration delay) {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative");
    }
    this.deliveryDelayNanos = delay.toNanos();
  }

  /**
   * A restart of arvados-ws: every connection is dropped at once (the TCP connection closed without
   * a close frame, as when the process exits), and upgrades are refused for {@code downtime}.
   *
   * @param downtime how long new connections are refused (zero: not at all)
   * @return the number of connections dropped
   */
  public int restart(Duration downtime) {
    refuseUntilNanos = System.nanoTime() + downtime.toNanos();
    int n = 0;
    for (Session s : List.copyOf(sessions)) {
      if (s.end("server restart", true)) {
        n++;
      }
    }
    LOG.info("{}: restart: dropped {} connection(s)", name, n);
    return n;
  }

  /**
   * Makes every connection open now a slow client: its sender stops taking messages, so its queue
   * fills and the next matching event after that closes it ("client queue full"). Connections
   * opened later are not affected.
   *
   * @return the number of connections stalled
   */
  public int stallClients() {
    List<Session> now = List.copyOf(sessions);
    for (Session s : now) {
      s.stalled = true;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    for (Session s : now) {
      while (!s.parked && !s.ended.get() && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
    }
    return now.size();
  }

  /**
   * @return connections open now
   */
  public int openConnections() {
    return sessions.size();
  }

  /**
   * @return connections accepted since start
   */
  public long connectionsAccepted() {
    return connections.get();
  }

  /**
   * @return connections closed because their queue was full
   */
  public long queueFullDisconnects() {
    return queueFullCloses.get();
  }

  /**
   * @return events sent (all connections, keepalives and acknowledgements not counted)
   */
  public long eventsSent() {
    return eventsSent.get();
  }

  /** Stops serving and closes every connection. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Session s : List.copyOf(sessions)) {
      s.end("server closing", true);
    }
    try {
      server.stop(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    timer.shutdownNow();
  }

  @Override
  public String toString() {
    return "EventServer[" + name + ", " + sessions.size() + " connection(s)]";
  }

  // ---- connections ---------------------------------------------------------------------------

  private static @Nullable String token(String resource) {
    int q = resource.indexOf('?');
    if (q < 0) {
      return null;
    }
    for (String pair : resource.substring(q + 1).split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      if (decode(k).equals("api_token")) {
        return eq < 0 ? "" : decode(pair.substring(eq + 1));
      }
    }
    return null;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  private static String path(String resource) {
    int q = resource.indexOf('?');
    return q < 0 ? resource : resource.substring(0, q);
  }

  /** One client connection: its queue, subscriptions, reader and sender. */
  final class Session implements EventLog.Sink {
    final WebSocket ws;
    final long number;
    private final @Nullable String token; // a secret: never logged
    final java.util.concurrent.ArrayBlockingQueue<Object> queue;
    private final List<Subscription> subscriptions = new java.util.ArrayList<>(); // guarded by this
    private final java.util.concurrent.ExecutorService reader;
    private final Thread sender;
    private final java.util.Map<String, long[]> permissionCache = new java.util.HashMap<>();
    private java.util.concurrent.@Nullable ScheduledFuture<?> keepalive;
    volatile boolean stalled;
    volatile boolean parked; // the sender saw stalled and takes nothing more
    private final java.util.concurrent.atomic.AtomicBoolean overflowed =
        new java.util.concurrent.atomic.AtomicBoolean();
    final java.util.concurrent.atomic.AtomicBoolean ended =
        new java.util.concurrent.atomic.AtomicBoolean();
    private long msgId; // sender thread only
    private final java.util.Queue<java.nio.ByteBuffer> outQueue; // the library's, for drain checks
    private final DrainSignal drain;

    Session(WebSocket ws, long number, @Nullable String token) {
      this.ws = ws;
      WebSocketImpl impl = (WebSocketImpl) ws;
      this.outQueue = impl.outQueue;
      if (!(impl.getChannel() instanceof DrainSignal d)) {
        throw new IllegalStateException("connection without a drain signal");
      }
      this.drain = d;
      this.number = number;
      this.token = token;
      this.queue = new java.util.concurrent.ArrayBlockingQueue<>(options.queueSize());
      String prefix = name + "-conn-" + number;
      this.reader =
          java.util.concurrent.Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, prefix + "-reader");
                t.setDaemon(true);
                return t;
              });
      this.sender = new Thread(this::sendLoop, prefix + "-sender");
      sender.setDaemon(true);
    }

    void open() {
      sessions.add(this);
      log.addSink(this);
      sender.start();
      long period = options.sendTimeout().toNanos();
      keepalive =
          timer.scheduleAtFixedRate(
              () -> {
                if (queue.isEmpty()) {
                  queue.offer(KEEPALIVE);
                }
              },
              period,
              period,
              TimeUnit.NANOSECONDS);
    }

    /** The filter loop's step for one live event; runs under the log's lock. */
    @Override
    public void notify(LogEntry e) {
      if (ended.get()) {
        return;
      }
      boolean full;
      synchronized (this) {
        full = matchesAny(e) && !queue.offer(e);
      }
      if (full && overflowed.compareAndSet(false, true)) {
        queueFullCloses.incrementAndGet();
        try {
          timer.execute(() -> end("client queue full", false)); // not under the log's lock
        } catch (java.util.concurrent.RejectedExecutionException closing) {
          end("client queue full", true);
        }
      }
    }

    /** Call with this session's monitor held. */
    private boolean matchesAny(LogEntry e) {
      for (Subscription s : subscriptions) {
        if (s.matches(e)) {
          return true;
        }
      }
      return false;
    }

    /**
     * Queues the acknowledgement and adds the subscription in one step with respect to live events:
     * none matched by it can precede its acknowledgement, none after it is missed.
     */
    private boolean ackAndAdd(Subscription sub) {
      while (!ended.get()) {
        synchronized (this) {
          if (queue.offer(ACK_OK)) {
            subscriptions.add(sub);
            return true;
          }
        }
        if (!sleep(10)) {
          return false;
        }
      }
      return false;
    }

    void received(String text) {
      try {
        reader.execute(() -> receive(text));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // ended
      }
    }

    private void receive(String text) {
      Subscription.Message m = Subscription.decode(text);
      if ("subscribe".equals(m.method())) {
        Subscription sub = new Subscription(m.filters());
        if (!ackAndAdd(sub)) {
          return;
        }
        if (m.lastLogId() != 0) {
          replay(sub, m.lastLogId());
        }
        return;
      }
      if ("unsubscribe".equals(m.method())) {
        boolean found = false;
        synchronized (this) {
          for (int i = 0; i < subscriptions.size(); i++) {
            if (subscriptions.get(i).filters().equals(m.filters())) {
              subscriptions.remove(i);
              found = true;
              break;
            }
          }
        }
        if (found) {
          put(ACK_OK);
          return;
        }
      }
      put(ACK_FAIL);
    }

    private void replay(Subscription sub, long after) {
      java.time.Instant from = java.time.Instant.now().minus(options.replayWindow());
      for (LogEntry e : log.since(after, from)) {
        while (queue.size() * 2 > options.queueSize()) {
          if (!sleep(100)) {
            return;
          }
        }
        if (sub.matches(e) && !put(e)) {
          return;
        }
      }
    }

    /** A blocking send to the queue, as Go's {@code sendq <- v}; false once the session ended. */
    private boolean put(Object item) {
      try {
        while (!ended.get()) {
          if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
            return true;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return false;
    }

    private void sendLoop() {
      try {
        while (!ended.get()) {
          if (stalled) {
            parked = true;
            Thread.sleep(20);
            continue;
          }
          Object item = queue.poll(100, TimeUnit.MILLISECONDS);
          if (item == null) {
            continue;
          }
          String frame;
          if (item instanceof LogEntry e) {
            long due = e.publishedNanos() + deliveryDelayNanos;
            long wait;
            while ((wait = due - System.nanoTime()) > 0 && !ended.get()) {
              TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(50)));
            }
            String target = "delete".equals(e.eventType()) ? e.objectOwnerUuid() : e.objectUuid();
            boolean allowed;
            try {
              allowed = allowed(target);
            } catch (RuntimeException ex) {
              end("permission check failed: " + ex.getClass().getSimpleName(), false);
              return;
            }
            if (!allowed) {
              continue;
            }
            frame = e.frame(++msgId);
          } else {
            frame = (String) item;
          }
          // Like arvados-ws's blocking write with a SendTimeout deadline: the previous frame must
          // have gone to the socket first, so a client that stops reading fills the queue.
          if (!drain.awaitDrained(outQueue, options.sendTimeout().toNanos(), this::rearm)) {
            writeTimeouts.incrementAndGet();
            end("write timeout", false);
            return;
          }
          try {
            ws.send(frame);
          } catch (org.java_websocket.exceptions.WebsocketNotConnectedException ex) {
            end("client gone", true);
            return;
          }
          if (item instanceof LogEntry) {
            eventsSent.incrementAndGet();
          }
        }
      } catch (InterruptedException e) {
        // ended
      }
    }

    /** Re-asserts the write demand the library's selector may have dropped (DrainSignal). */
    private void rearm() {
      try {
        java.nio.channels.SelectionKey k = ((WebSocketImpl) ws).getSelectionKey();
        if (k != null
            && k.isValid()
            && (k.interestOps() & java.nio.channels.SelectionKey.OP_WRITE) == 0
            && !outQueue.isEmpty()) {
          server.onWriteDemand(ws);
        }
      } catch (java.nio.channels.CancelledKeyException e) {
        // closed meanwhile: the session ends
      }
    }

    private boolean allowed(String uuid) {
      long now = System.nanoTime();
      long[] c = permissionCache.get(uuid);
      if (c != null && now - c[1] < PERMISSION_CACHE_NANOS) {
        return c[0] == 1;
      }
      boolean ok = !uuid.isEmpty() && permissions.canRead(token, uuid);
      permissionCache.put(uuid, new long[] {ok ? 1 : 0, now});
      return ok;
    }

    private boolean sleep(long millis) {
      try {
        Thread.sleep(millis);
        return !ended.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    /**
     * Ends the session once: abrupt closes the TCP connection without a close frame; otherwise a
     * close frame (1000) is sent and the connection closed a second later if the client has not
     * answered.
     *
     * @return whether this call ended it
     */
    boolean end(String reason, boolean abrupt) {
      if (!ended.compareAndSet(false, true)) {
        return false;
      }
      log.removeSink(this);
      sessions.remove(this);
      java.util.concurrent.ScheduledFuture<?> k = keepalive;
      if (k != null) {
        k.cancel(false);
      }
      reader.shutdownNow();
      sender.interrupt();
      LOG.debug("{}: connection {} ended: {}", name, number, reason);
      if (abrupt) {
        ws.closeConnection(1006, reason);
      } else {
        ws.close(1000, "");
        try {
          // A forced close one second later if the client has not closed: nothing to report.
          java.util.concurrent.ScheduledFuture<?> unused =
              timer.schedule(
                  () -> {
                    if (!ws.isClosed()) {
                      ws.closeConnection(1000, reason);
                    }
                  },
                  1,
                  TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          ws.closeConnection(1000, reason);
        }
      }
      return true;
    }
  }

  private final class Server extends WebSocketServer {
    Server(InetSocketAddress address, List<Draft> drafts) {
      super(address, 2, drafts);
    }

    @Override
    public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(
        WebSocket conn, Draft draft, ClientHandshake request) throws InvalidDataException {
      String p = path(request.getResourceDescriptor());
      if (!p.equals("/websocket") && !p.equals("/arvados/v1/events.ws")) {
        throw new InvalidDataException(404, "404 page not found");
      }
      if (System.nanoTime() - refuseUntilNanos < 0 || closed) {
        // Nobody listens while arvados-ws restarts: drop the TCP connection without an answer. (An
        // HTTP error answer would leave the connection open for the client to reuse.)
        conn.closeConnection(1006, "restarting");
        throw new InvalidDataException(1006, "restarting");
      }
      return super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
      String resource = handshake.getResourceDescriptor();
      if (path(resource).equals("/arvados/v1/events.ws")) {
        conn.close(1000, ""); // v1: "Not implemented", the handler returns at once
        return;
      }
      Session s = new Session(conn, connections.incrementAndGet(), token(resource));
      conn.setAttachment(s);
      if (closed) {
        conn.closeConnection(1006, "server closing");
        return;
      }
      s.open();
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
      Session s = conn.getAttachment();
      if (s != null) {
        s.end("closed (" + code + ")", false);
      }
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
      Session s = conn.getAttachment();
      if (s != null) {
        s.received(message);
      }
    }

    @Override
    public void onMessage(WebSocket conn, ByteBuffer message) {
      Session s = conn.getAttachment();
      if (s != null) {
        s.received(StandardCharsets.UTF_8.decode(message).toString());
      }
    }

    @Override
    public void onError(@Nullable WebSocket conn, Exception ex) {
      if (conn == null) {
        if (started.getCount() > 0) {
          startError = ex;
          started.countDown();
        } else {
          LOG.warn("{}: server error: {}", name, ex.toString());
        }
        return;
      }
      LOG.debug("{}: connection error: {}", name, ex.toString());
    }

    @Override
    public void onStart() {
      started.countDown();
    }
  }
}
