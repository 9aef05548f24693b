package dev.crunchguard.examples;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.RetryPolicy;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherStats;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import okhttp3.OkHttpClient;

/**
 * One dispatcher of the race demo: a {@link Dispatcher} with the {@link DemoRunner}, guarded or
 * plain. {@link #main} runs one in its own JVM ({@code demo-worker}): it serves until a line {@code
 * stop} (or end of input) arrives on stdin, then prints {@code STATS <counters>} on stdout.
 */
final class DemoDispatcher implements AutoCloseable {
  final String id;
  final ArvadosClient client;
  final Dispatcher dispatcher;
  final DemoRunner runner;

  DemoDispatcher(
      OkHttpClient shared,
      String baseUrl,
      String token,
      String id,
      boolean guarded,
      int concurrency,
      Duration poll,
      Duration orphanGrace,
      double relockRate,
      double cancelRate) {
    this.id = id;
    this.client =
        ArvadosClient.builder()
            .baseUrl(baseUrl)
            .token(token)
            .okHttpClient(shared)
            .clientId(id)
            .userAgent("crunchguard-demo/" + id)
            .retryPolicy(
                RetryPolicy.builder()
                    .initialBackoff(Duration.ofMillis(20))
                    .maxBackoff(Duration.ofMillis(500))
                    .maxAttempts(8)
                    .maxElapsed(Duration.ofSeconds(20))
                    .build())
            .build();
    this.runner =
        new DemoRunner(client, shared, baseUrl, token, id, guarded, relockRate, cancelRate);
    this.dispatcher =
        Dispatcher.builder(client, runner)
            .maxConcurrentRuns(concurrency)
            .pollInterval(poll)
            .lockRetryInterval(poll)
            .maxFailureBackoff(Duration.ofSeconds(2))
            .shutdownTimeout(Duration.ofSeconds(10))
            .orphanGrace(orphanGrace)
            .build();
  }

  void start() {
    dispatcher.start();
  }

  DispatcherStats stats() {
    return dispatcher.stats();
  }

  @Override
  public void close() {
    dispatcher.close();
    client.close();
  }

  static String format(DispatcherStats s) {
    return "locksWon="
        + s.locksWon()
        + " lockConflicts="
        + s.lockConflicts()
        + " relocksDetected="
        + s.relocksDetected()
        + " lostOwnership="
        + s.lostOwnership()
        + " staleWritesBlocked="
        + s.staleWritesBlocked()
        + " runnersStarted="
        + s.runnersStarted()
        + " unlocks="
        + s.unlocks();
  }

  static double rate(Flags f, String name) {
    return rate(f, name, 0);
  }

  static double rate(Flags f, String name, double dflt) {
    try {
      double r = Double.parseDouble(f.string(name, Double.toString(dflt)));
      if (r < 0 || r > 1) {
        throw new Flags.UsageException("--" + name + " must be between 0 and 1");
      }
      return r;
    } catch (NumberFormatException e) {
      throw new Flags.UsageException("--" + name + " must be a number between 0 and 1");
    }
  }

  /**
   * {@code demo-worker --base-url URL --id NAME --mode guarded|plain [--concurrency N]
   * [--poll-interval D] [--relock-rate R] [--cancel-rate R]}; token in ARVADOS_API_TOKEN.
   */
  static int main(List<String> args) throws Exception {
    Flags f =
        Flags.parse(
            args,
            Set.of(),
            Set.of(
                "base-url",
                "id",
                "mode",
                "concurrency",
                "poll-interval",
                "relock-rate",
                "cancel-rate",
                "orphan-grace"));
    String token = System.getenv(ArvadosClient.ENV_API_TOKEN);
    if (token == null || token.isBlank()) {
      throw new Flags.UsageException(ArvadosClient.ENV_API_TOKEN + " must hold the worker's token");
    }
    String mode = f.string("mode", "guarded");
    if (!mode.equals("guarded") && !mode.equals("plain")) {
      throw new Flags.UsageException("--mode must be guarded or plain");
    }
    OkHttpClient shared = new OkHttpClient();
    try (DemoDispatcher d =
        new DemoDispatcher(
            shared,
            f.string("base-url", "http://127.0.0.1:8000/"),
            token,
            f.string("id", "worker"),
            mode.equals("guarded"),
            f.integer("concurrency", 8, 1, 1000),
            f.duration("poll-interval", Duration.ofMillis(100)),
            f.duration("orphan-grace", Duration.ofSeconds(10)),
            rate(f, "relock-rate"),
            rate(f, "cancel-rate"))) {
      d.start();
      System.out.println("READY");
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.trim().equals("stop")) {
        // wait for the parent's stop
      }
      d.dispatcher.close();
      System.out.println(
          "STATS "
              + format(d.stats())
              + " falseLosses="
              + d.runner.falseLosses()
              + " leakedConnections="
              + (shared.connectionPool().connectionCount()
                  - shared.connectionPool().idleConnectionCount()));
      System.out.flush();
    } finally {
      shared.dispatcher().executorService().shutdown();
      shared.connectionPool().evictAll();
    }
    return 0;
  }
}
