package dev.crunchguard.benchmarks;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A minimal JDK HttpServer that reads any request and answers 200 with a fixed JSON body: with it,
 * a benchmark measures the client, not the server's work.
 */
final class FixedResponder implements AutoCloseable {
  static {
    // Also when used without BenchmarksMain (JMH forks): no Nagle, no ~40 ms per request.
    dev.crunchguard.examples.cli.Cli.serveWithoutNagleUnlessSet();
  }

  private final HttpServer server;
  private final ExecutorService executor;

  FixedResponder(byte[] body, int threads) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    executor =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "fixed-responder");
              t.setDaemon(true);
              return t;
            });
    server.createContext(
        "/",
        ex -> {
          try (InputStream in = ex.getRequestBody()) {
            in.transferTo(OutputStream.nullOutputStream());
          }
          ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
          }
        });
    server.setExecutor(executor);
    server.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
