package dev.crunchguard.examples;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.RetryPolicy;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherStats;
import java.time.Duration;
import okhttp3.OkHttpClient;

/**
 * One dispatcher of the race demo: a {@link Dispatcher} with the {@link DemoRunner}, guarded or
 * plain. {@link DemoWorkerCommand} runs one in its own JVM ({@code demo-worker}): it prints {@code
 * READY}, serves until a line {@code stop} (or end of input) arrives on stdin, then prints its
 * {@link WorkerReport} as one JSON line on stdout.
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
      double cancelRate,
      boolean events) {
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
            .events(events)
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

  /**
   * What a {@code demo-worker} reports to the demo when it stops: one JSON line on stdout, written
   * and read by Gson with these field names in snake case.
   */
  record WorkerReport(
      long locksWon,
      long lockConflicts,
      long relocksDetected,
      long lostOwnership,
      long staleWritesBlocked,
      long runnersStarted,
      long unlocks,
      long falseLosses,
      long leakedConnections) {
    private static final Gson GSON =
        new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .create();

    static WorkerReport of(DispatcherStats s, long falseLosses, long leakedConnections) {
      return new WorkerReport(
          s.locksWon(),
          s.lockConflicts(),
          s.relocksDetected(),
          s.lostOwnership(),
          s.staleWritesBlocked(),
          s.runnersStarted(),
          s.unlocks(),
          falseLosses,
          leakedConnections);
    }

    /**
     * @throws com.google.gson.JsonParseException if {@code line} is not a report
     */
    static WorkerReport parse(String line) {
      WorkerReport r = GSON.fromJson(line, WorkerReport.class);
      if (r == null) {
        throw new com.google.gson.JsonParseException("not a worker report: " + line);
      }
      return r;
    }

    String toJson() {
      return GSON.toJson(this);
    }

    String describe() {
      return "locksWon="
          + locksWon
          + " lockConflicts="
          + lockConflicts
          + " relocksDetected="
          + relocksDetected
          + " lostOwnership="
          + lostOwnership
          + " staleWritesBlocked="
          + staleWritesBlocked
          + " runnersStarted="
          + runnersStarted
          + " unlocks="
          + unlocks
          + " falseLosses="
          + falseLosses
          + " leakedConnections="
          + leakedConnections;
    }
  }
}
