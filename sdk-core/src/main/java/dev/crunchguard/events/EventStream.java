package dev.crunchguard.events;

import com.google.gson.JsonElement;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.internal.Checks;
import dev.crunchguard.internal.ClientTransport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okio.BufferedSource;
import okio.ByteString;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live subscription to the Arvados websocket event service (arvados-ws, protocol v0 at {@code
 * /websocket}), on OkHttp's websocket client. Thread-safe; close it to stop its threads and its
 * connection.
 *
 * <pre>{@code
 * try (EventStream events = EventStream.builder(client)
 *         .subscribe(EventFilter.eventTypeIn(ArvadosEvent.CREATE, ArvadosEvent.UPDATE))
 *         .objectKinds(ArvadosEvent.KIND_CONTAINER)     // the server cannot filter by kind
 *         .listener(new EventStreamListener() {
 *           public void onEvent(ArvadosEvent e) { poller.nudge(); }
 *           public void onGap(GapReason why) { poller.nudge(); }
 *         })
 *         .start()) {
 *   ...                                                  // keep polling too: events are hints
 * }
 * }</pre>
 *
 * <p>What it does:
 *
 * <ul>
 *   <li><b>URL.</b> The discovery document's {@code websocketUrl} ({@code GET
 *       /discovery/v1/apis/arvados/v1/rest}), unless {@link Builder#websocketUrl(String)} sets it.
 *       The token goes in the upgrade request's {@code api_token} query parameter, as arvados-ws
 *       requires; it is added inside {@link ArvadosClient}, so the URL this class holds, logs and
 *       reports never contains it.
 *   <li><b>Liveness.</b> The server sends {@code {}} after each idle keepalive period (60 s by
 *       default). Silence longer than about two periods ({@link Builder#keepalive(Duration)}) is
 *       taken as a dead socket: it is cancelled and the stream reconnects. A connection attempt
 *       that has not opened within the same limit is abandoned the same way.
 *   <li><b>Reconnection.</b> After any disconnect, with a jittered exponential back-off ({@link
 *       Builder#reconnectBackoff}); every subscription is sent again with a {@code last_log_id}
 *       {@link Builder#reorderMargin(long) a margin} below the highest id seen, because ids are not
 *       delivered strictly in order. Replayed events already delivered are dropped (de-duplication
 *       by id over the most recent ids). The server replays in id order while live events
 *       interleave, so a connection that ends before its replay is complete (the stream knows from
 *       the answer to a probe it sends behind the subscribes, which the server gives only after
 *       replaying) does not move the resume point past live events: the next connection replays
 *       from the same point again.
 *   <li><b>Gaps.</b> {@link EventStreamListener#onGap} when the stream cannot vouch for what it may
 *       have missed: see {@link GapReason}. Silent loss on the server side cannot be detected by
 *       any client; only polling repairs it.
 *   <li><b>Delivery.</b> The socket's reader only decodes and queues; the listener runs on one
 *       delivery thread with a bounded queue ({@link Builder#deliveryQueueCapacity(int)}). When the
 *       queue is full the new event is dropped, counted in {@link Stats#droppedEvents()}, and one
 *       {@link GapReason#DELIVERY_OVERFLOW} is queued behind the waiting events. The reader never
 *       waits for the listener, so a slow listener cannot make the server drop the connection.
 * </ul>
 *
 * <p>Threads: {@code crunchguard-events-N-timer} (connecting, discovery, the silence watchdog) and
 * {@code crunchguard-events-N-delivery}; the socket reader is one of the client's OkHttp threads.
 */
public final class EventStream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventStream.class);
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  static final String DISCOVERY_PATH = "discovery/v1/apis/arvados/v1/rest";
  private static final long MAX_DISCOVERY_BYTES = 32L << 20;
  private static final int MAX_WARNINGS_PER_CONNECTION = 5;
  private static final long CLOSE_GRACE_MILLIS = 1000;

  /** The {@code pendingAcks} entry of {@link Frames#endOfReplayProbe()}. */
  private static final String END_OF_REPLAY = "end-of-replay probe";

  private final ClientTransport transport;
  private final String name;
  private final Set<String> objectKinds;
  private final long silenceLimitNanos;
  private final long backoffBaseNanos;
  private final long backoffCapNanos;
  private final long replayWindowNanos;
  private final long resumeAfter;
  private final long noServiceRecheckNanos;
  private final Dedup dedup;
  private final Delivery delivery;
  private final ScheduledThreadPoolExecutor timer;

  private final Object lock = new Object();
  // Guarded by lock.
  private final List<List<EventFilter>> subscriptions = new ArrayList<>();
  private @Nullable HttpUrl url;
  private @Nullable Connection current;
  private int failures;
  private long lastLiveNanos;

  /**
   * When the last connection ended before its replay was known to be complete: the resume point it
   * had replayed from, so the next connection replays from there again instead of from past the
   * live events that arrived in between (0 when none is owed).
   */
  private long owedReplayFrom;

  /** For {@link #owedReplayFrom}: when the stream was last known to be current up to it. */
  private long owedReplaySinceNanos;

  /** Whether the discovery document has announced no websocket service (logged once). */
  private boolean noServiceSeen;

  private @Nullable ScheduledFuture<?> pendingConnect;
  private @Nullable Call discoveryCall;
  private boolean closed;

  private final AtomicBoolean overflowPending = new AtomicBoolean();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong undecodable = new AtomicLong();
  private final AtomicLong gaps = new AtomicLong();

  private EventStream(Builder b, ClientTransport transport) {
    this.transport = transport;
    this.name = "crunchguard-events-" + SEQUENCE.incrementAndGet();
    this.objectKinds = Set.copyOf(b.objectKinds);
    long keepalive = b.keepalive.toNanos();
    this.silenceLimitNanos = 2 * keepalive + keepalive / 4;
    this.backoffBaseNanos = b.backoffBase.toNanos();
    this.backoffCapNanos = b.backoffCap.toNanos();
    this.replayWindowNanos = b.replayWindow.toNanos();
    this.resumeAfter = b.resumeAfter;
    this.noServiceRecheckNanos = b.noServiceRecheck.toNanos();
    this.url = b.websocketUrl;
    this.dedup =
        new Dedup(b.reorderMargin, (int) Math.min(1 << 20, Math.max(4096, 4 * b.reorderMargin)));
    this.subscriptions.addAll(b.subscriptions);
    EventStreamListener listener = Objects.requireNonNull(b.listener, "listener");
    this.delivery =
        new Delivery(
            name + "-delivery",
            b.queueCapacity,
            listener,
            transport::redact,
            delivered::incrementAndGet);
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name + "-timer");
              t.setDaemon(true);
              return t;
            });
    this.timer.setRemoveOnCancelPolicy(true);
    this.timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    long check =
        Math.max(
            TimeUnit.MILLISECONDS.toNanos(10),
            Math.min(keepalive / 4, TimeUnit.SECONDS.toNanos(1)));
    delivery.start();
    // The watchdog catches everything; close() shuts the timer down.
    ScheduledFuture<?> unused =
        timer.scheduleWithFixedDelay(this::watchdog, check, check, TimeUnit.NANOSECONDS);
    timer.execute(this::connect);
  }

  /**
   * A builder for a stream that authenticates as {@code client}'s token and shares its OkHttp
   * connection pool and threads.
   *
   * @param client the client; the stream does not close it, and stops working once it is closed
   * @return a new builder
   */
  public static Builder builder(ArvadosClient client) {
    return new Builder(ClientTransport.of(client));
  }

  /**
   * Adds a subscription. On an open connection it is sent at once, without {@code last_log_id}
   * (only new events); after a reconnection it is resent with the stream's resume point like the
   * others. Filters the server ignores are logged as a warning (see {@link EventFilter}).
   *
   * @param filters the subscription's filters; empty means every event the token may read
   */
  public void subscribe(List<EventFilter> filters) {
    List<EventFilter> f = List.copyOf(filters);
    warnIgnored(f);
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("event stream is closed");
      }
      subscriptions.add(f);
      Connection c = current;
      if (c != null && c.isOpen()) {
        c.send(Frames.subscribe(f, 0), "subscribe " + f);
      }
    }
  }

  /**
   * Removes the first subscription equal to {@code filters}, and on an open connection asks the
   * server to drop it too (it removes its first deep-equal one).
   *
   * @param filters the filters as given to {@link #subscribe}
   * @return whether such a subscription existed
   */
  public boolean unsubscribe(List<EventFilter> filters) {
    List<EventFilter> f = List.copyOf(filters);
    synchronized (lock) {
      if (!subscriptions.remove(f)) {
        return false;
      }
      Connection c = current;
      if (c != null && c.isOpen()) {
        c.send(Frames.unsubscribe(f), "unsubscribe " + f);
      }
      return true;
    }
  }

  /**
   * @return whether a connection is open now
   */
  public boolean isConnected() {
    synchronized (lock) {
      return current != null && current.isOpen();
    }
  }

  /**
   * The websocket URL as used, without any query (the token is never part of it).
   *
   * @return the URL, for example {@code wss://ws.zzzzz.example.org/websocket}; empty until
   *     discovery succeeded
   */
  public Optional<String> websocketUrl() {
    synchronized (lock) {
      return Optional.ofNullable(url).map(EventStream::display);
    }
  }

  /**
   * @return counters since the stream started
   */
  public Stats stats() {
    return new Stats(
        isConnected(),
        connections.get(),
        received.get(),
        delivered.get(),
        duplicates.get(),
        dropped.get(),
        undecodable.get(),
        gaps.get(),
        dedup.highest());
  }

  /**
   * Stops the stream: cancels a pending reconnection, closes the socket (waiting up to a second for
   * the server's close), drops events not yet delivered, and stops its threads (waiting up to a
   * second for a listener call in progress). Idempotent; may be called from the listener.
   */
  @Override
  public void close() {
    Connection c;
    Call call;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      c = current;
      current = null;
      if (pendingConnect != null) {
        pendingConnect.cancel(false);
      }
      call = discoveryCall;
    }
    if (call != null) {
      call.cancel();
    }
    timer.shutdownNow();
    if (c != null && c.socket != null) {
      if (c.isOpen() && c.socket.close(1000, "client closing")) {
        try {
          c.finished.await(CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      c.socket.cancel();
    }
    delivery.stop(CLOSE_GRACE_MILLIS);
    try {
      if (!timer.awaitTermination(CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
        log.warn("{}: timer thread still running {} ms after close()", name, CLOSE_GRACE_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("{} closed", name);
  }

  @Override
  public String toString() {
    return "EventStream{"
        + name
        + ", url="
        + websocketUrl().orElse("(not discovered)")
        + ", connected="
        + isConnected()
        + '}';
  }

  // ---- connection life cycle -------------------------------------------------------------------

  private void connect() {
    HttpUrl u;
    synchronized (lock) {
      if (closed) {
        return;
      }
      pendingConnect = null;
      u = url;
    }
    if (transport.isClosed()) {
      log.warn("{}: the ArvadosClient is closed; the event stream stays down until close()", name);
      return;
    }
    if (u == null) {
      try {
        u = discover();
      } catch (DiscoveryException e) {
        synchronized (lock) {
          if (closed) {
            return;
          }
          if (e.noService) {
            // Not a fault: the cluster has no arvados-ws. Check again now and then, quietly.
            boolean first = !noServiceSeen;
            noServiceSeen = true;
            long delay = scheduleLocked(noServiceRecheckNanos);
            String msg = "{}: {}; checking the discovery document again in {} s";
            if (first) {
              log.info(msg, name, e.getMessage(), TimeUnit.NANOSECONDS.toSeconds(delay));
            } else {
              log.debug(msg, name, e.getMessage(), TimeUnit.NANOSECONDS.toSeconds(delay));
            }
            String why = String.valueOf(e.getMessage());
            delivery.notice(l -> l.onNoWebsocketService(why));
          } else {
            long delay = scheduleReconnectLocked(false, 0);
            logFailure(
                "{}: cannot find the websocket URL: {}; retrying in {} ms",
                name,
                e.getMessage(),
                TimeUnit.NANOSECONDS.toMillis(delay));
            String why = "cannot find the websocket URL: " + e.getMessage();
            delivery.notice(l -> l.onConnectFailed(why));
          }
        }
        return;
      }
      log.info("{}: websocket URL from the discovery document: {}", name, display(u));
    }
    Request request = new Request.Builder().url(u).build();
    synchronized (lock) {
      if (closed) {
        return;
      }
      url = u;
      Connection c = new Connection(connections.incrementAndGet());
      current = c;
      log.debug("{}: connecting to {} (attempt after {} failure(s))", name, display(u), failures);
      c.socket = transport.http().newWebSocket(request, c);
    }
  }

  /** Schedules the next connection attempt; returns its delay. Call with {@code lock} held. */
  private long scheduleReconnectLocked(boolean wasOpen, long openedNanos) {
    if (wasOpen && System.nanoTime() - openedNanos >= backoffCapNanos) {
      failures = 0; // that connection was healthy: start the back-off afresh
    }
    failures++;
    return scheduleLocked(Checks.exponentialNanos(backoffBaseNanos, backoffCapNanos, failures));
  }

  /**
   * Schedules a connection attempt after a random delay between half of {@code bound} and {@code
   * bound}; returns the delay. Call with {@code lock} held.
   */
  private long scheduleLocked(long bound) {
    long half = bound / 2;
    long delay = half + ThreadLocalRandom.current().nextLong(bound - half + 1);
    try {
      pendingConnect = timer.schedule(this::connect, delay, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
    return delay;
  }

  /**
   * The end of connection {@code c}, from whichever side noticed it first; later calls do nothing.
   */
  private void end(Connection c, String reason, boolean cancel) {
    boolean wasOpen;
    long delay;
    synchronized (lock) {
      if (c.ended) {
        return;
      }
      c.ended = true;
      if (current != c) {
        return;
      }
      current = null;
      wasOpen = c.openedNanos != 0;
      if (wasOpen) {
        lastLiveNanos = c.lastFrameNanos;
        if (c.replayFrom > 0) {
          owedReplayFrom = c.replayFrom;
          owedReplaySinceNanos = c.replaySinceNanos;
        } else {
          owedReplayFrom = 0;
        }
      }
      if (closed) {
        return;
      }
      delay = scheduleReconnectLocked(wasOpen, c.openedNanos);
    }
    if (cancel && c.socket != null) {
      c.socket.cancel();
    }
    if (wasOpen) {
      log.warn(
          "{}: connection lost: {}; reconnecting in {} ms",
          name,
          reason,
          TimeUnit.NANOSECONDS.toMillis(delay));
    } else {
      logFailure(
          "{}: cannot connect: {}; retrying in {} ms",
          name,
          reason,
          TimeUnit.NANOSECONDS.toMillis(delay));
    }
    if (wasOpen) {
      delivery.notice(l -> l.onDisconnected(reason));
    } else {
      delivery.notice(l -> l.onConnectFailed(reason));
    }
  }

  /** A failed attempt: a warning for the first after a success and every tenth, debug otherwise. */
  private void logFailure(String format, @Nullable Object... args) {
    int n;
    synchronized (lock) {
      n = failures;
    }
    if (n <= 1 || n % 10 == 0) {
      log.warn(format + " (failure {} in a row)", appendArg(args, n));
    } else {
      log.debug(format, args);
    }
  }

  private static Object[] appendArg(Object[] args, Object more) {
    Object[] out = Arrays.copyOf(args, args.length + 1);
    out[args.length] = more;
    return out;
  }

  private void watchdog() {
    Connection c;
    synchronized (lock) {
      c = current;
    }
    if (c != null) {
      long silent = System.nanoTime() - c.lastFrameNanos;
      if (silent > silenceLimitNanos) {
        end(
            c,
            "no frame for "
                + TimeUnit.NANOSECONDS.toMillis(silent)
                + " ms (more than two keepalive periods): the socket is taken as dead",
            true);
      }
    }
  }

  private void gap(GapReason reason) {
    gaps.incrementAndGet();
    log.info("{}: events may have been missed ({}); the listener should re-read", name, reason);
    delivery.notice(l -> l.onGap(reason));
  }

  /** One websocket connection and what belongs to it. OkHttp calls it on its reader thread. */
  private final class Connection extends WebSocketListener {
    final long number;
    final CountDownLatch finished = new CountDownLatch(1);
    volatile long lastFrameNanos = System.nanoTime();
    // Guarded by lock.
    @Nullable WebSocket socket;
    long openedNanos;
    boolean ended;
    final java.util.ArrayDeque<String> pendingAcks = new java.util.ArrayDeque<>();

    /** The resume point this connection replays from while its replay is running, else 0. */
    long replayFrom;

    long replaySinceNanos;
    @Nullable GapReason gapOnAck;
    int warnings;

    Connection(long number) {
      this.number = number;
    }

    boolean isOpen() {
      return openedNanos != 0 && !ended;
    }

    /** Sends a control message. Call with {@code lock} held. */
    void send(String text, String what) {
      WebSocket s = socket;
      if (s != null && s.send(text)) {
        pendingAcks.add(what);
        log.trace("{}: sent {}", name, text);
      }
    }

    @Override
    public void onOpen(WebSocket webSocket, Response response) {
      GapReason immediateGap = null;
      long resume;
      int subscriptionCount;
      String where;
      synchronized (lock) {
        if (closed || current != this || ended) {
          webSocket.cancel();
          return;
        }
        socket = webSocket;
        // Never response.request().url(): that is the upgrade URL, with the token in its query.
        where = url == null ? "?" : display(url);
        long now = System.nanoTime();
        openedNanos = now;
        lastFrameNanos = now;
        resume = Math.max(dedup.resumePoint(), resumeAfter);
        long since = lastLiveNanos;
        if (owedReplayFrom > 0 && owedReplayFrom < resume) {
          // The last connection ended mid-replay: the ids it had not replayed yet may lie below
          // live ones it saw, so replay again from where it started (duplicates are dropped).
          resume = owedReplayFrom;
          since = owedReplaySinceNanos;
        }
        GapReason gap = null;
        if (resume == 0) {
          gap = GapReason.NOT_RESUMED;
        } else if (since != 0
            && now - since
                > replayWindowNanos
                    - Math.min(TimeUnit.SECONDS.toNanos(30), replayWindowNanos / 10)) {
          gap = GapReason.REPLAY_WINDOW_EXCEEDED;
        }
        subscriptionCount = subscriptions.size();
        for (List<EventFilter> f : subscriptions) {
          send(Frames.subscribe(f, resume), "subscribe " + f);
        }
        if (resume > 0 && subscriptionCount > 0) {
          replayFrom = resume;
          replaySinceNanos = since;
          send(Frames.endOfReplayProbe(), END_OF_REPLAY);
        }
        if (pendingAcks.isEmpty()) {
          immediateGap = gap;
        } else {
          gapOnAck = gap;
        }
      }
      log.info(
          "{}: connected to {} with {} subscription(s){}",
          name,
          where,
          subscriptionCount,
          resume > 0 ? ", resuming after event " + resume : "");
      delivery.notice(EventStreamListener::onConnected);
      if (immediateGap != null) {
        gap(immediateGap);
      }
    }

    @Override
    public void onMessage(WebSocket webSocket, String text) {
      lastFrameNanos = System.nanoTime();
      synchronized (lock) {
        if (ended || current != this) {
          return;
        }
      }
      Frames.Frame frame = Frames.decode(text);
      if (frame instanceof Frames.Heartbeat) {
        log.trace("{}: keepalive", name);
      } else if (frame instanceof Frames.Ack ack) {
        onAck(ack.status());
      } else if (frame instanceof Frames.Event e) {
        onEvent(e.event());
      } else if (frame instanceof Frames.Undecodable u) {
        onUndecodable(u.reason(), u.id(), text);
      }
    }

    @Override
    public void onMessage(WebSocket webSocket, ByteString bytes) {
      lastFrameNanos = System.nanoTime();
      onUndecodable("a binary frame (" + bytes.size() + " bytes)", 0, "");
    }

    private void onAck(int status) {
      String what;
      GapReason gap = null;
      synchronized (lock) {
        what = pendingAcks.poll();
        if (status == 200 && gapOnAck != null) {
          gap = gapOnAck;
          gapOnAck = null;
        }
        if (END_OF_REPLAY.equals(what)) {
          replayFrom = 0; // every replayed event was queued before this answer
          if (current == this) {
            owedReplayFrom = 0;
          }
        }
      }
      if (END_OF_REPLAY.equals(what)) {
        log.debug("{}: replay complete", name);
      } else if (status != 200) {
        log.warn(
            "{}: arvados-ws answered status {} to {}",
            name,
            status,
            what == null ? "nothing we sent" : what);
      } else {
        log.debug("{}: acknowledged: {}", name, what);
      }
      if (gap != null) {
        gap(gap);
      }
    }

    private void onEvent(ArvadosEvent event) {
      received.incrementAndGet();
      if (!dedup.firstSighting(event.id())) {
        duplicates.incrementAndGet();
        return;
      }
      if (!objectKinds.isEmpty() && !objectKinds.contains(event.objectKind())) {
        return;
      }
      if (!delivery.offerEvent(event)) {
        dropped.incrementAndGet();
        if (overflowPending.compareAndSet(false, true)) {
          log.warn(
              "{}: delivery queue full: the listener is slower than the stream; dropping events",
              name);
          gaps.incrementAndGet();
          delivery.notice(
              l -> {
                overflowPending.set(false);
                l.onGap(GapReason.DELIVERY_OVERFLOW);
              });
        }
      }
    }

    private void onUndecodable(String reason, long id, String text) {
      undecodable.incrementAndGet();
      boolean warn;
      synchronized (lock) {
        warn = warnings++ < MAX_WARNINGS_PER_CONNECTION;
      }
      if (warn) {
        String flat = transport.redact(text.replaceAll("\\s+", " "));
        log.warn(
            "{}: ignoring a frame: {}: {}",
            name,
            transport.redact(reason),
            flat.length() > 200 ? flat.substring(0, 200) + "…" : flat);
      }
      if (id > 0 && dedup.firstSighting(id)) {
        gap(GapReason.UNDECODABLE_EVENT);
      }
    }

    @Override
    public void onClosing(WebSocket webSocket, int code, String reason) {
      webSocket.close(1000, null);
      end(
          this,
          "the server closed the connection (code "
              + code
              + (reason.isEmpty() ? "" : ", " + transport.redact(reason))
              + ")",
          false);
    }

    @Override
    public void onClosed(WebSocket webSocket, int code, String reason) {
      finished.countDown();
      end(this, "closed (code " + code + ")", false);
    }

    @Override
    public void onFailure(WebSocket webSocket, Throwable t, @Nullable Response response) {
      finished.countDown();
      String msg = t.getMessage();
      // Never the Response's toString: it shows the upgrade URL, which carries the token.
      String reason =
          t.getClass().getSimpleName()
              + (msg == null ? "" : ": " + transport.redact(msg))
              + (response == null ? "" : " (HTTP " + response.code() + ")");
      if (response != null) {
        response.close();
      }
      end(this, reason, true);
    }
  }

  // ---- discovery and URLs ----------------------------------------------------------------------

  private static final class DiscoveryException extends Exception {
    private static final long serialVersionUID = 1L;

    /** The discovery document answered, and announces no websocket service. */
    final boolean noService;

    DiscoveryException(String message) {
      this(message, false);
    }

    DiscoveryException(String message, boolean noService) {
      super(message, null, false, false);
      this.noService = noService;
    }
  }

  private HttpUrl discover() throws DiscoveryException {
    HttpUrl doc = transport.baseUrl().resolve(DISCOVERY_PATH);
    if (doc == null) {
      throw new DiscoveryException("cannot build the discovery URL");
    }
    Call call = transport.http().newCall(new Request.Builder().url(doc).get().build());
    call.timeout().timeout(30, TimeUnit.SECONDS);
    synchronized (lock) {
      if (closed) {
        throw new DiscoveryException("closed");
      }
      discoveryCall = call;
    }
    try (Response r = call.execute()) {
      if (!r.isSuccessful()) {
        throw new DiscoveryException("GET /" + DISCOVERY_PATH + " answered HTTP " + r.code());
      }
      ResponseBody body = r.body();
      if (body == null) {
        throw new DiscoveryException("the discovery document is empty");
      }
      BufferedSource src = body.source();
      if (src.request(MAX_DISCOVERY_BYTES + 1)) {
        throw new DiscoveryException(
            "the discovery document is larger than " + MAX_DISCOVERY_BYTES + " bytes");
      }
      String text = src.readString(StandardCharsets.UTF_8);
      JsonElement ws;
      try {
        ws = com.google.gson.JsonParser.parseString(text).getAsJsonObject().get("websocketUrl");
      } catch (RuntimeException e) {
        throw new DiscoveryException("the discovery document is not a JSON object");
      }
      if (ws == null || ws.isJsonNull() || !ws.isJsonPrimitive() || ws.getAsString().isBlank()) {
        throw new DiscoveryException(
            "the discovery document has no websocketUrl: the cluster runs no websocket service",
            true);
      }
      try {
        return parseUrl(ws.getAsString());
      } catch (IllegalArgumentException e) {
        throw new DiscoveryException(
            "the discovery document's websocketUrl is unusable: " + e.getMessage());
      }
    } catch (IOException e) {
      String msg = e.getMessage();
      throw new DiscoveryException(
          e.getClass().getSimpleName() + (msg == null ? "" : ": " + transport.redact(msg)));
    } finally {
      synchronized (lock) {
        discoveryCall = null;
      }
    }
  }

  /**
   * A websocket URL as OkHttp takes it (http/https scheme), path {@code /websocket} when none is
   * given. Messages never repeat the URL: a caller may have put a token in it.
   */
  static HttpUrl parseUrl(String raw) {
    String s = raw == null ? "" : raw.trim();
    String lower = s.toLowerCase(Locale.ROOT);
    if (lower.startsWith("ws://")) {
      s = "http://" + s.substring(5);
    } else if (lower.startsWith("wss://")) {
      s = "https://" + s.substring(6);
    } else if (!lower.startsWith("http://") && !lower.startsWith("https://")) {
      throw new IllegalArgumentException(
          "a websocket URL must start with ws://, wss://, http:// or https://");
    }
    HttpUrl u = HttpUrl.parse(s);
    if (u == null) {
      throw new IllegalArgumentException("not a valid URL");
    }
    if (u.query() != null || !u.username().isEmpty() || !u.password().isEmpty()) {
      throw new IllegalArgumentException(
          "a websocket URL must carry no query and no user info (the SDK adds the token)");
    }
    if (u.encodedPath().equals("/")) {
      u = u.newBuilder().encodedPath("/websocket").build();
    }
    return u.newBuilder().fragment(null).build();
  }

  /** The URL with a ws/wss scheme and never a query. */
  static String display(HttpUrl u) {
    String plain =
        u.newBuilder().query(null).fragment(null).username("").password("").build().toString();
    return (u.isHttps() ? "wss" : "ws") + plain.substring(u.scheme().length());
  }

  private static void warnIgnored(List<EventFilter> filters) {
    for (EventFilter f : filters) {
      if (!f.isHonouredByServer()) {
        log.warn(
            "arvados-ws ignores the filter [{}, {}, {}] (it applies only event_type in [...] and created_at):"
                + " this subscription receives more than it asks for",
            f.attribute(),
            f.operator(),
            f.operand());
      }
    }
  }

  /**
   * Counters of one stream, a snapshot. Immutable.
   *
   * <pre>{@code
   * EventStream.Stats st = events.stats();
   * if (!st.connected()) log.info("events down after {} connection(s)", st.connections());
   * }</pre>
   *
   * @param connected whether a connection is open
   * @param connections connection attempts so far
   * @param eventsReceived events decoded, duplicates included
   * @param eventsDelivered events handed to {@link EventStreamListener#onEvent}
   * @param duplicateEvents events dropped because their id had been seen (replays)
   * @param droppedEvents events dropped because the delivery queue was full
   * @param undecodableFrames frames that were not an event, an acknowledgement or a keepalive
   * @param gaps gaps reported
   * @param highestEventId the highest event id seen, 0 if none
   */
  public record Stats(
      boolean connected,
      long connections,
      long eventsReceived,
      long eventsDelivered,
      long duplicateEvents,
      long droppedEvents,
      long undecodableFrames,
      long gaps,
      long highestEventId) {}

  /**
   * Builds and starts an {@link EventStream}. Each setter validates at once; not thread-safe.
   *
   * <pre>{@code
   * EventStream events = EventStream.builder(client)
   *     .subscribe(EventFilter.eventTypeIn("create", "update"))
   *     .keepalive(Duration.ofSeconds(60))             // the server's API.SendTimeout
   *     .reconnectBackoff(Duration.ofMillis(500), Duration.ofSeconds(30))
   *     .listener(listener)
   *     .start();
   * }</pre>
   */
  public static final class Builder {
    private final ClientTransport transport;
    private final List<List<EventFilter>> subscriptions = new ArrayList<>();
    private Set<String> objectKinds = Set.of();
    private @Nullable EventStreamListener listener;
    private @Nullable HttpUrl websocketUrl;
    private Duration keepalive = Duration.ofSeconds(60);
    private Duration backoffBase = Duration.ofMillis(500);
    private Duration backoffCap = Duration.ofSeconds(30);
    private Duration replayWindow = Duration.ofMinutes(10);
    private long reorderMargin = 1000;
    private long resumeAfter;
    private Duration noServiceRecheck = Duration.ofMinutes(5);
    private int queueCapacity = 4096;

    private Builder(ClientTransport transport) {
      this.transport = transport;
    }

    /**
     * Receives the events, gaps and connection changes. Required.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(EventStreamListener listener) {
      if (listener == null) {
        throw new IllegalArgumentException("listener must not be null");
      }
      this.listener = listener;
      return this;
    }

    /**
     * Adds a subscription, sent on every connection (several combine with OR; the server sends an
     * event matching several only once). With none, the stream connects but receives no events.
     *
     * @param filters its filters; none means every event the token may read
     * @return this builder
     */
    public Builder subscribe(EventFilter... filters) {
      return subscribe(Arrays.asList(filters));
    }

    /**
     * @param filters a subscription's filters, see {@link #subscribe(EventFilter...)}
     * @return this builder
     */
    public Builder subscribe(List<EventFilter> filters) {
      List<EventFilter> f = List.copyOf(filters);
      warnIgnored(f);
      subscriptions.add(f);
      return this;
    }

    /**
     * Delivers only events whose {@code object_kind} is one of these (the server cannot filter by
     * kind). Default: every kind.
     *
     * @param kinds for example {@link ArvadosEvent#KIND_CONTAINER}
     * @return this builder
     */
    public Builder objectKinds(String... kinds) {
      if (Arrays.stream(kinds).anyMatch(k -> k == null || k.isBlank())) {
        throw new IllegalArgumentException("object kinds must not be blank");
      }
      this.objectKinds = Set.of(kinds);
      return this;
    }

    /**
     * Uses this URL instead of the discovery document's {@code websocketUrl}.
     *
     * @param url {@code wss://host/websocket} (or ws, http, https); path {@code /websocket} if
     *     none; no query: the SDK adds the token itself
     * @return this builder
     */
    public Builder websocketUrl(String url) {
      this.websocketUrl = parseUrl(url);
      return this;
    }

    /**
     * The server's keepalive period ({@code API.SendTimeout}, 60 s by default). Silence longer than
     * two and a quarter periods is taken as a dead socket.
     *
     * @param period positive
     * @return this builder
     */
    public Builder keepalive(Duration period) {
      this.keepalive = Checks.positive(period, "keepalive");
      return this;
    }

    /**
     * The reconnection back-off: {@code base} after the first failure, doubled after each further
     * one up to {@code cap}, each wait a random point between half and all of that bound; it starts
     * afresh after a connection stayed up for {@code cap}. Default 500 ms and 30 s.
     *
     * @param base the first wait, positive
     * @param cap the largest wait, at least {@code base}
     * @return this builder
     */
    public Builder reconnectBackoff(Duration base, Duration cap) {
      Checks.positive(base, "reconnect base");
      Checks.positive(cap, "reconnect cap");
      if (cap.compareTo(base) < 0) {
        throw new IllegalArgumentException("reconnect cap must be at least the base");
      }
      this.backoffBase = base;
      this.backoffCap = cap;
      return this;
    }

    /**
     * How often the discovery document is read again while it announces no websocket service (a
     * cluster without arvados-ws), each wait a random point between half and all of it. Default 5
     * minutes. This is no fault: it is logged once at INFO and reported to {@link
     * EventStreamListener#onNoWebsocketService}, not retried with the back-off.
     *
     * @param interval the interval, positive
     * @return this builder
     */
    public Builder noServiceRecheck(Duration interval) {
      this.noServiceRecheck = Checks.positive(interval, "noServiceRecheck");
      return this;
    }

    /**
     * How far back the server replays on {@code last_log_id}: 10 minutes in arvados-ws
     * (hard-coded). An outage longer than this (less a safety margin of a tenth, at most 30 s) is
     * reported as {@link GapReason#REPLAY_WINDOW_EXCEEDED}.
     *
     * @param window positive
     * @return this builder
     */
    public Builder replayWindow(Duration window) {
      this.replayWindow = Checks.positive(window, "replayWindow");
      return this;
    }

    /**
     * How far below the highest id seen a reconnection resumes ({@code last_log_id}), because an
     * event with a lower id can still arrive after it (overlapping transactions). Replayed events
     * already delivered are dropped. Default 1000.
     *
     * @param ids at least 0
     * @return this builder
     */
    public Builder reorderMargin(long ids) {
      if (ids < 0) {
        throw new IllegalArgumentException("reorderMargin must be at least 0");
      }
      this.reorderMargin = ids;
      return this;
    }

    /**
     * Resumes after this event id on the first connection (its subscriptions carry {@code
     * last_log_id} = {@code id}), for example the highest id a previous stream delivered. The
     * server replays at most the last 10 minutes, and this stream cannot tell whether {@code id} is
     * older. Default: not resumed ({@link GapReason#NOT_RESUMED} once subscribed).
     *
     * @param id a positive event id
     * @return this builder
     */
    public Builder resumeAfter(long id) {
      if (id <= 0) {
        throw new IllegalArgumentException("resumeAfter needs a positive event id");
      }
      this.resumeAfter = id;
      return this;
    }

    /**
     * How many events may wait for the listener; when full, new events are dropped and {@link
     * GapReason#DELIVERY_OVERFLOW} is reported. Default 4096.
     *
     * @param capacity positive
     * @return this builder
     */
    public Builder deliveryQueueCapacity(int capacity) {
      if (capacity <= 0) {
        throw new IllegalArgumentException("deliveryQueueCapacity must be positive");
      }
      this.queueCapacity = capacity;
      return this;
    }

    /**
     * Starts the stream: it connects in the background and keeps reconnecting until closed.
     *
     * @return the running stream
     * @throws IllegalStateException if no listener is set or the client is closed
     */
    public EventStream start() {
      if (listener == null) {
        throw new IllegalStateException("set listener(...) before start()");
      }
      if (transport.isClosed()) {
        throw new IllegalStateException("the ArvadosClient is closed");
      }
      return new EventStream(this, transport);
    }

    @Override
    public String toString() {
      return "EventStream.Builder{" + subscriptions.size() + " subscription(s)}";
    }
  }
}
