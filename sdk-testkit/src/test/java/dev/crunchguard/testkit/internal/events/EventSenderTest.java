package dev.crunchguard.testkit.internal.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * The per-connection sender's write rule, at the TCP level: a frame must reach the socket within
 * {@code SendTimeout} after the previous one, so a client that stops reading is closed ("write
 * timeout") instead of having its frames pile up in memory.
 */
class EventSenderTest {
  private static final String SUBSCRIBE = "{\"method\":\"subscribe\"}";

  /** Sends a masked text frame (clients must mask, RFC 6455 5.3). */
  private static void sendText(OutputStream out, String text) throws Exception {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] mask = {1, 2, 3, 4};
    out.write(0x81);
    out.write(0x80 | payload.length); // short frames only
    out.write(mask);
    for (int i = 0; i < payload.length; i++) {
      out.write(payload[i] ^ mask[i % 4]);
    }
    out.flush();
  }

  /** Reads until {@code marker} has been seen; returns everything read. */
  private static String readUntil(InputStream in, String marker) throws Exception {
    StringBuilder seen = new StringBuilder();
    byte[] buf = new byte[512];
    while (seen.indexOf(marker) < 0) {
      int n = in.read(buf);
      if (n < 0) {
        break;
      }
      seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
    }
    return seen.toString();
  }

  @Test
  void aClientThatStopsReadingIsClosedWhenAWriteDoesNotFinishWithinTheSendTimeout()
      throws Exception {
    EventLog log = new EventLog("zzzzz", Duration.ofMinutes(5));
    EventServer server =
        new EventServer(
            log,
            (token, uuid) -> true,
            new EventServer.Options(
                InetAddress.getLoopbackAddress(),
                0,
                Duration.ofMillis(300),
                1_000_000, // the queue never fills: only the write deadline can end the session
                Duration.ofMinutes(5),
                null));
    server.start();
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      String key = Base64.getEncoder().encodeToString(new byte[16]);
      out.write(
          ("GET /websocket?api_token=t HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  + "Connection: Upgrade\r\nSec-WebSocket-Key: "
                  + key
                  + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(readUntil(s.getInputStream(), "\r\n\r\n")).startsWith("HTTP/1.1 101");
      sendText(out, SUBSCRIBE);
      assertThat(readUntil(s.getInputStream(), "\"status\":200")).contains("\"status\":200");

      // From here on the client reads nothing: the socket buffers (a few MiB at most on
      // loopback) fill, then a write stalls. 4,000 events of 16 KiB are far more than they hold.
      String big = "x".repeat(16 * 1024); // a free-text row's properties are sent whole
      int written = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (server.writeTimeouts.get() == 0 && System.nanoTime() < deadline) {
        for (int i = 0; i < 50 && written < 4000; i++) {
          log.appendText("zzzzz-dz642-" + String.format("%015d", written++), "", "dispatch", big);
        }
        Thread.sleep(5);
      }
      assertThat(server.writeTimeouts.get()).isEqualTo(1);
      long sent = server.eventsSent();
      assertThat(sent).isPositive().isLessThan(written);
      long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (server.openConnections() > 0 && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertThat(server.openConnections()).isZero();
      assertThat(server.queueFullDisconnects()).isZero();
    } finally {
      server.close();
    }
  }
}
