package dev.crunchguard.examples;

import com.sun.net.httpserver.HttpServer;
import dev.crunchguard.StopReason;
import dev.crunchguard.dispatch.RunContext;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A dispatcher like Arvados' crunch-dispatch-local ({@code dispatch}, {@link DispatchCommand}): it
 * locks queued containers and runs each one through {@link ExampleRunner} in a separate JVM,
 * handing the lock over through the environment. Reads {@code ARVADOS_API_HOST}, {@code
 * ARVADOS_API_TOKEN} (an admin token) and {@code ARVADOS_API_HOST_INSECURE}, so it runs against the
 * simulator or a real cluster.
 */
final class LocalDispatcher {
  private LocalDispatcher() {}

  /** {@code GET /metrics} in Prometheus' text format, on the JDK's HTTP server, loopback only. */
  static final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer server;

    private MetricsEndpoint(HttpServer server) {
      this.server = server;
    }

    static MetricsEndpoint start(PrometheusMeterRegistry registry, int port, PrintStream err) {
      try {
        HttpServer server =
            HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        server.createContext(
            "/metrics",
            ex -> {
              try (ex) {
                if (!ex.getRequestMethod().equals("GET")) {
                  ex.sendResponseHeaders(405, -1);
                  return;
                }
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders()
                    .set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
              }
            });
        server.start();
        err.println("metrics on http://127.0.0.1:" + server.getAddress().getPort() + "/metrics");
        return new MetricsEndpoint(server);
      } catch (IOException e) {
        throw new UncheckedIOException("--metrics-port " + port + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  static void launchRunner(RunContext ctx, Duration watch, PrintStream err) throws Exception {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx128m",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "run",
                "--watch-interval",
                watch.toMillis() + "ms"));
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    pb.environment().putAll(ctx.lock().epoch().toEnvironment());
    Process p = pb.start();
    ctx.cancellation()
        .onCancel(
            reason -> {
              err.println("stopping the runner of " + ctx.containerUuid() + ": " + reason);
              p.destroy();
            });
    int exit = p.waitFor();
    if (exit != ExampleRunner.REFUSED_TO_START) {
      // the runner got past its start-up check: a container it left Running is this run's to clean
      // up
      ctx.reportStarted();
    }
    if (exit != ExampleRunner.COMPLETED
        && exit != ExampleRunner.CANCELLED
        && exit != ExampleRunner.LOST) {
      throw new IllegalStateException(
          "runner for " + ctx.containerUuid() + " exited with status " + exit);
    }
    if (ctx.cancellation().reason() == StopReason.SHUTDOWN && p.isAlive()) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
