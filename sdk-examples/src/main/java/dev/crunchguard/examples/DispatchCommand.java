package dev.crunchguard.examples;

import dev.crunchguard.AmbiguousLockPolicy;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherMetrics;
import dev.crunchguard.dispatch.DispatcherStats;
import dev.crunchguard.dispatch.RecoveryPolicy;
import dev.crunchguard.examples.cli.Cli;
import dev.crunchguard.examples.cli.Durations;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dispatch}: the command line of the {@link LocalDispatcher}. */
@Command(
    name = "dispatch",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:stopped (--timeout), or idle (--until-idle)",
      "1:--until-idle timed out, or the dispatcher failed",
      "2:usage error",
      "130:interrupted"
    },
    description = {
      "A local dispatcher (like crunch-dispatch-local): runs each locked container's command"
          + " through the example runner in a separate JVM. Reads ARVADOS_API_HOST,"
          + " ARVADOS_API_TOKEN (admin) and ARVADOS_API_HOST_INSECURE.",
      "With --until-idle: exits 0 once nothing is Queued and every run has finished (a progress"
          + " line on stderr every 10 s), 1 if --timeout passes first."
    })
final class DispatchCommand implements Callable<Integer> {
  @ParentCommand Main main;
  @Spec CommandSpec spec;
  @Mixin DispatchOptions run;

  @Option(
      paramLabel = "<n>",
      names = "--concurrency",
      defaultValue = "4",
      description = "runners at once (default ${DEFAULT-VALUE})")
  int concurrency;

  @Option(
      paramLabel = "<duration>",
      names = "--poll-interval",
      defaultValue = "5s",
      description = "how often the queue is read (default ${DEFAULT-VALUE})")
  Duration poll;

  @Option(
      names = "--recovery",
      defaultValue = "unlock",
      paramLabel = "unlock|adopt|ignore",
      description =
          "what to do at start-up with containers Locked by this token (default"
              + " ${DEFAULT-VALUE}; adopt is only for a token no other dispatcher uses)")
  RecoveryPolicy recovery;

  @Option(
      names = "--ambiguous-lock",
      defaultValue = "refuse",
      paramLabel = "refuse|adopt",
      description =
          "a lock whose answer was lost and that the server then refused as already Locked"
              + " (default ${DEFAULT-VALUE}; adopt only for a token no other dispatcher uses)")
  AmbiguousLockPolicy ambiguousLock;

  @Option(
      names = "--metrics-port",
      paramLabel = "<port>",
      description = "serve Prometheus text on http://127.0.0.1:<port>/metrics (0: any free port)")
  @Nullable Integer metricsPort;

  @Option(
      names = "--events",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "follow the event stream (arvados-ws), on by default: a new container is locked within"
              + " milliseconds; the periodic poll stays (src/docs/guide.md, 6.1). --no-events"
              + " finds work by polling only")
  boolean events = true;

  @Option(
      names = "--events-url",
      paramLabel = "<url>",
      description =
          "the stream's URL (wss://host/websocket) instead of the discovery"
              + " document's websocketUrl")
  @Nullable String eventsUrl;

  @Option(
      names = "--event-poll-delay",
      paramLabel = "<duration>",
      description =
          "how long a poll triggered by an event waits for more events (default"
              + " 5ms, at most 1s)")
  @Nullable Duration eventPollDelay;

  /** The counters of the progress and summary lines, with the event stream's when it is used. */
  static String status(DispatcherStats s, boolean events) {
    String line = DemoDispatcher.format(s);
    return events
        ? line + " eventStream=" + s.eventStream() + " eventPolls=" + s.eventPolls()
        : line;
  }

  @Override
  @SuppressWarnings("try") // the metrics endpoint is only held open for the run
  public Integer call() throws InterruptedException {
    Cli.inRange(spec, "--concurrency", concurrency, 1, 1000);
    if (metricsPort != null) {
      Cli.inRange(spec, "--metrics-port", metricsPort, 0, 65535);
    }
    if (!events && (eventsUrl != null || eventPollDelay != null)) {
      throw Cli.usageError(
          spec,
          (eventsUrl != null ? "--events-url" : "--event-poll-delay")
              + " conflicts with --no-events");
    }
    if (eventPollDelay != null && eventPollDelay.compareTo(Duration.ofSeconds(1)) > 0) {
      throw Cli.usageError(
          spec, "--event-poll-delay must be at most 1s, got " + Durations.format(eventPollDelay));
    }
    PrintStream err = main.err;
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (LocalDispatcher.MetricsEndpoint metrics =
            metricsPort == null
                ? null
                : LocalDispatcher.MetricsEndpoint.start(registry, metricsPort, err);
        ArvadosClient client =
            ArvadosClient.builderFromEnvironment()
                .userAgent("crunchguard-local-dispatcher")
                .ambiguousLockPolicy(ambiguousLock)
                .build()) {
      Dispatcher.Builder builder =
          Dispatcher.builder(client, ctx -> LocalDispatcher.launchRunner(ctx, run.watch, err))
              .maxConcurrentRuns(concurrency)
              .pollInterval(poll)
              .lockRetryInterval(poll)
              .orphanGrace(run.orphanGrace)
              .recoveryPolicy(recovery)
              .listener(new DispatcherMetrics(registry, "dispatcher", "local"))
              .events(events);
      if (eventsUrl != null) {
        try {
          builder.eventsWebsocketUrl(eventsUrl);
        } catch (IllegalArgumentException e) {
          throw Cli.usageError(spec, "--events-url: " + e.getMessage());
        }
      }
      if (eventPollDelay != null) {
        builder.eventPollDelay(eventPollDelay);
      }
      try (Dispatcher dispatcher = builder.build()) {
        Runtime.getRuntime().addShutdownHook(new Thread(dispatcher::close));
        err.println(
            "dispatching from "
                + client.baseUrl()
                + " with up to "
                + concurrency
                + " runners"
                + (events ? ", following the event stream" : ""));
        dispatcher.start();
        return run.run(dispatcher::awaitIdle, () -> status(dispatcher.stats(), events), err);
      }
    }
  }
}
