package dev.crunchguard.testkit;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;

/** A raw websocket test client (OkHttp): records every text frame and how the connection ended. */
final class WsClient extends WebSocketListener implements AutoCloseable {
  static final OkHttpClient HTTP =
      new OkHttpClient.Builder().readTimeout(Duration.ZERO).retryOnConnectionFailure(false).build();

  final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
  final CountDownLatch opened = new CountDownLatch(1);
  final CountDownLatch ended = new CountDownLatch(1);
  volatile String endReason;
  volatile int openStatus;
  final WebSocket socket;

  WsClient(String url, String token) {
    String http = url.replaceFirst("^ws", "http");
    String full = token == null ? http : http + "?api_token=" + Http.enc(token);
    this.socket = HTTP.newWebSocket(new Request.Builder().url(full).build(), this);
  }

  static WsClient open(ArvadosSimulator sim, String token) throws InterruptedException {
    WsClient c = new WsClient(sim.events().websocketUrl(), token);
    if (!c.opened.await(5, TimeUnit.SECONDS) || c.openStatus != 101) {
      throw new AssertionError("websocket did not open: " + c.endReason);
    }
    return c;
  }

  void send(String text) {
    if (!socket.send(text)) {
      throw new AssertionError("send refused");
    }
  }

  /** Sends a subscribe and waits for its acknowledgement. */
  void subscribe(String json) throws InterruptedException {
    send(json);
    String ack = next();
    if (!ack.equals("{\"status\":200}")) {
      throw new AssertionError("expected the ack, got " + ack);
    }
  }

  String next() throws InterruptedException {
    return next(Duration.ofSeconds(5));
  }

  String next(Duration timeout) throws InterruptedException {
    String f = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (f == null) {
      throw new AssertionError("no frame within " + timeout + " (ended: " + endReason + ")");
    }
    return f;
  }

  /** The next frame that is not a keepalive, parsed. */
  JsonObject nextEvent() throws InterruptedException {
    while (true) {
      String f = next();
      if (!f.equals("{}")) {
        return JsonParser.parseString(f).getAsJsonObject();
      }
    }
  }

  /** Frames that arrive within {@code d}, keepalives left out. */
  List<String> drain(Duration d) throws InterruptedException {
    List<String> out = new ArrayList<>();
    long end = System.nanoTime() + d.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return out;
      }
      String f = frames.poll(left, TimeUnit.NANOSECONDS);
      if (f != null && !f.equals("{}")) {
        out.add(f);
      }
    }
  }

  boolean awaitEnd(Duration d) throws InterruptedException {
    return ended.await(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void onOpen(WebSocket webSocket, Response response) {
    openStatus = response.code();
    opened.countDown();
  }

  @Override
  public void onMessage(WebSocket webSocket, String text) {
    frames.add(text);
  }

  @Override
  public void onClosing(WebSocket webSocket, int code, String reason) {
    webSocket.close(1000, null);
    endReason = "closing " + code;
    ended.countDown();
  }

  @Override
  public void onClosed(WebSocket webSocket, int code, String reason) {
    endReason = "closed " + code;
    ended.countDown();
  }

  @Override
  public void onFailure(WebSocket webSocket, Throwable t, Response response) {
    endReason = "failure " + t + (response == null ? "" : " HTTP " + response.code());
    if (response != null) {
      openStatus = response.code();
      response.close();
    }
    ended.countDown();
    opened.countDown();
  }

  @Override
  public void close() {
    socket.cancel();
  }
}
