package dev.crunchguard.examples;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.examples.cli.Cli;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import okhttp3.OkHttpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code demo-worker}: one {@link DemoDispatcher} of the race demo in its own JVM, started by the
 * demo. It prints {@code READY}, serves until a line {@code stop} (or end of input) arrives on
 * stdin, then prints its {@link DemoDispatcher.WorkerReport} as one JSON line; nothing else goes to
 * stdout. Its token comes in {@code ARVADOS_API_TOKEN}, never on the command line.
 */
@Command(
    name = "demo-worker",
    hidden = true,
    description = "Internal: a dispatcher of the race demo in another JVM (started by demo).")
final class DemoWorkerCommand implements Callable<Integer> {
  /** Which updates the worker's runners send. */
  enum Mode {
    GUARDED,
    PLAIN
  }

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Option(names = "--base-url", defaultValue = "http://127.0.0.1:8000/")
  String baseUrl;

  @Option(names = "--id", defaultValue = "worker")
  String id;

  @Option(names = "--mode", defaultValue = "guarded")
  Mode mode;

  @Option(paramLabel = "<n>", names = "--concurrency", defaultValue = "8")
  int concurrency;

  @Option(paramLabel = "<duration>", names = "--poll-interval", defaultValue = "100ms")
  Duration poll;

  @Option(paramLabel = "<duration>", names = "--orphan-grace", defaultValue = "10s")
  Duration orphanGrace;

  @Option(paramLabel = "<rate>", names = "--relock-rate", defaultValue = "0")
  double relockRate;

  @Option(paramLabel = "<rate>", names = "--cancel-rate", defaultValue = "0")
  double cancelRate;

  @Option(names = "--events", description = "dispatch on the event stream too (events(true))")
  boolean events;

  @Override
  public Integer call() throws Exception {
    Cli.inRange(spec, "--concurrency", concurrency, 1, 1000);
    Cli.rate(spec, "--relock-rate", relockRate);
    Cli.rate(spec, "--cancel-rate", cancelRate);
    String token = System.getenv(ArvadosClient.ENV_API_TOKEN);
    if (token == null || token.isBlank()) {
      throw Cli.usageError(spec, ArvadosClient.ENV_API_TOKEN + " must hold the worker's token");
    }
    PrintStream out = main.out;
    OkHttpClient shared = new OkHttpClient();
    try (DemoDispatcher d =
        new DemoDispatcher(
            shared,
            baseUrl,
            token,
            id,
            mode == Mode.GUARDED,
            concurrency,
            poll,
            orphanGrace,
            relockRate,
            cancelRate,
            events)) {
      d.start();
      out.println("READY");
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.trim().equals("stop")) {
        // wait for the parent's stop
      }
      d.dispatcher.close();
      long busy =
          shared.connectionPool().connectionCount() - shared.connectionPool().idleConnectionCount();
      out.println(DemoDispatcher.WorkerReport.of(d.stats(), d.runner.falseLosses(), busy).toJson());
      out.flush();
    } finally {
      shared.dispatcher().executorService().shutdown();
      shared.connectionPool().evictAll();
    }
    return Cli.OK;
  }
}
