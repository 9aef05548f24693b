package dev.crunchguard.examples;

import com.sun.net.httpserver.HttpServer;
import dev.crunchguard.AmbiguousLockPolicy;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.StopReason;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherMetrics;
import dev.crunchguard.dispatch.RecoveryPolicy;
import dev.crunchguard.dispatch.RunContext;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A dispatcher like Arvados' crunch-dispatch-local ({@code dispatch}): it locks queued containers
 * and runs each one through {@link ExampleRunner} in a separate JVM, handing the lock over through
 * the environment. Reads {@code ARVADOS_API_HOST}, {@code ARVADOS_API_TOKEN} (an admin token) and
 * {@code ARVADOS_API_HOST_INSECURE}, so it runs against the simulator or a real cluster.
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
        throw new Flags.UsageException("--metrics-port " + port + ": " + e.getMessage());
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /** Parses an enum flag by its lower-case name ({@code --recovery unlock}). */
  static <E extends Enum<E>> E choice(Flags f, String name, Class<E> type, E dflt) {
    String v = f.string(name, dflt.name().toLowerCase(Locale.ROOT));
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(v)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name().toLowerCase(Locale.ROOT));
    }
    throw new Flags.UsageException(
        "--" + name + " must be one of " + String.join(", ", names) + ", got " + v);
  }

  @SuppressWarnings("try") // the metrics endpoint is only held open for the run
  static int main(List<String> args, PrintStream err) throws InterruptedException {
    Flags f =
        Flags.parse(
            args,
            Set.of("until-idle"),
            Set.of(
                "concurrency",
                "poll-interval",
                "watch-interval",
                "timeout",
                "orphan-grace",
                "recovery",
                "ambiguous-lock",
                "metrics-port"));
    int concurrency = f.integer("concurrency", 4, 1, 1000);
    Duration poll = f.duration("poll-interval", Duration.ofSeconds(5));
    Duration watch = f.duration("watch-interval", Duration.ofSeconds(2));
    Duration timeout = f.duration("timeout", Duration.ofDays(3650));
    Duration orphanGrace = f.duration("orphan-grace", Duration.ofMinutes(5));
    RecoveryPolicy recovery = choice(f, "recovery", RecoveryPolicy.class, RecoveryPolicy.UNLOCK);
    AmbiguousLockPolicy ambiguous =
        choice(f, "ambiguous-lock", AmbiguousLockPolicy.class, AmbiguousLockPolicy.REFUSE);
    boolean untilIdle = f.bool("until-idle");
    int metricsPort = f.integer("metrics-port", -1, -1, 65535);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (MetricsEndpoint metrics =
            metricsPort < 0 ? null : MetricsEndpoint.start(registry, metricsPort, err);
        ArvadosClient client =
            ArvadosClient.builderFromEnvironment()
                .userAgent("crunchguard-local-dispatcher")
                .ambiguousLockPolicy(ambiguous)
                .build();
        Dispatcher dispatcher =
            Dispatcher.builder(client, ctx -> launchRunner(ctx, watch, err))
                .maxConcurrentRuns(concurrency)
                .pollInterval(poll)
                .lockRetryInterval(poll)
                .orphanGrace(orphanGrace)
                .recoveryPolicy(recovery)
                .listener(new DispatcherMetrics(registry, "dispatcher", "local"))
                .build()) {
      Runtime.getRuntime().addShutdownHook(new Thread(dispatcher::close));
      err.println(
          "dispatching from " + client.baseUrl() + " with up to " + concurrency + " runners");
      dispatcher.start();
      if (untilIdle) {
        boolean idle = dispatcher.awaitIdle(timeout);
        err.println(
            "dispatcher "
                + (idle ? "idle" : "timed out")
                + ": "
                + DemoDispatcher.format(dispatcher.stats()));
        return idle ? 0 : 1;
      }
      Thread.sleep(timeout.toMillis());
      return 0;
    }
  }

  private static void launchRunner(RunContext ctx, Duration watch, PrintStream err)
      throws Exception {
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
    if (exit != 0 && exit != 3 && exit != 4) {
      throw new IllegalStateException(
          "runner for " + ctx.containerUuid() + " exited with status " + exit);
    }
    if (ctx.cancellation().reason() == StopReason.SHUTDOWN && p.isAlive()) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
