package dev.crunchguard.events;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * A real websocket server in-process (OkHttp's MockWebServer), scripted like arvados-ws v0: serves
 * the discovery document and upgrades {@code /websocket}; each connection records what the client
 * sent and lets the test send frames, close, or stay silent.
 */
final class FakeEventServer implements AutoCloseable {
  final MockWebServer server = new MockWebServer();
  final BlockingQueue<Conn> opened = new LinkedBlockingQueue<>();
  final List<Conn> all = new ArrayList<>();
  final AtomicInteger discoveryRequests = new AtomicInteger();
  final AtomicInteger upgradeRequests = new AtomicInteger();
  final List<String> discoveryPaths = java.util.Collections.synchronizedList(new ArrayList<>());
  volatile String discoveryAuthorization;

  /**
   * What the discovery document says; null: the server's own /websocket. "" : no websocket service.
   */
  volatile String discoveredUrl;

  /** Acknowledge each subscribe/unsubscribe with {"status":200}, as arvados-ws does. */
  volatile boolean autoAck = true;

  /** When set, upgrade requests get this HTTP status instead of a websocket. */
  volatile int refuseWithStatus;

  /**
   * Runs on each connection once it is open (after the client's onOpen may have sent subscribes).
   */
  volatile Consumer<Conn> onOpen = c -> {};

  FakeEventServer() throws IOException {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath() == null ? "" : request.getPath();
            if (path.startsWith("/discovery/v1/apis/arvados/v1/rest")) {
              discoveryRequests.incrementAndGet();
              discoveryPaths.add(path);
              discoveryAuthorization = request.getHeader("Authorization");
              String ws = discoveredUrl != null ? discoveredUrl : wsUrl();
              return new MockResponse()
                  .setHeader("Content-Type", "application/json")
                  .setBody(
                      "{\"kind\":\"discovery#restDescription\",\"rootUrl\":\""
                          + server.url("/")
                          + "\",\"websocketUrl\":\""
                          + ws
                          + "\",\"resources\":{}}");
            }
            if (path.startsWith("/websocket")) {
              upgradeRequests.incrementAndGet();
              int refuse = refuseWithStatus;
              if (refuse != 0) {
                return new MockResponse().setResponseCode(refuse).setBody("{\"errors\":[\"no\"]}");
              }
              Conn c = new Conn(path, request.getHeader("Authorization"));
              synchronized (all) {
                all.add(c);
              }
              return new MockResponse().withWebSocketUpgrade(c);
            }
            return new MockResponse().setResponseCode(404);
          }
        });
    server.start();
  }

  String wsUrl() {
    return "ws://" + server.getHostName() + ":" + server.getPort() + "/websocket";
  }

  String baseUrl() {
    return server.url("/").toString();
  }

  Conn nextConnection() throws InterruptedException {
    Conn c = opened.poll(10, TimeUnit.SECONDS);
    if (c == null) {
      throw new AssertionError("no websocket connection within 10 s");
    }
    return c;
  }

  int connectionCount() {
    synchronized (all) {
      return all.size();
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (all) {
      all.forEach(
          c -> {
            if (c.ws != null) {
              c.ws.close(1001, "server shutting down"); // (cancel() is for client sockets only)
            }
          });
    }
    server.shutdown();
  }

  /** The server side of one connection. */
  final class Conn extends WebSocketListener {
    final String requestPath;
    final String authorization;
    final long openedNanos = System.nanoTime();
    final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    final CountDownLatch ended = new CountDownLatch(1);
    volatile WebSocket ws;

    Conn(String requestPath, String authorization) {
      this.requestPath = requestPath;
      this.authorization = authorization;
    }

    @Override
    public void onOpen(WebSocket webSocket, Response response) {
      ws = webSocket;
      onOpen.accept(this);
      opened.add(this);
    }

    @Override
    public void onMessage(WebSocket webSocket, String text) {
      received.add(text);
      if (autoAck) {
        webSocket.send("{\"status\":200}");
      }
    }

    @Override
    public void onClosing(WebSocket webSocket, int code, String reason) {
      webSocket.close(1000, null);
      ended.countDown();
    }

    @Override
    public void onClosed(WebSocket webSocket, int code, String reason) {
      ended.countDown();
    }

    @Override
    public void onFailure(WebSocket webSocket, Throwable t, Response response) {
      ended.countDown();
    }

    void send(String frame) {
      ws.send(frame);
    }

    /** The next text frame the client sent. */
    String nextMessage() throws InterruptedException {
      String m = received.poll(10, TimeUnit.SECONDS);
      if (m == null) {
        throw new AssertionError("the client sent nothing within 10 s");
      }
      return m;
    }

    boolean awaitEnd(long millis) throws InterruptedException {
      return ended.await(millis, TimeUnit.MILLISECONDS);
    }
  }
}
