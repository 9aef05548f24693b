package dev.crunchguard.examples;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.crunchguard.examples.cli.Cli;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code demo}: the command line of the {@link RaceDemo}. */
@Command(
    name = "demo",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:the guarded half was safe",
      "1:the guarded half was not safe (the report says why), or the demo failed",
      "2:usage error",
      "130:interrupted"
    },
    description = {
      "The race demo: dispatchers race over containers on the embedded simulator, with faults and"
          + " forced re-locks, first with the guard, then with plain updates; both reports side by"
          + " side. Progress on stderr, the report on stdout (--json: one JSON object).",
      "Exits 0 when the guarded half was safe (no stale write accepted, no epoch run twice, every"
          + " container final, no false loss, nothing leaked), 1 otherwise."
    })
final class DemoCommand implements Callable<Integer> {
  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Option(
      paramLabel = "<n>",
      names = "--containers",
      defaultValue = "300",
      description = "containers to dispatch (default ${DEFAULT-VALUE})")
  int containers;

  @Option(
      paramLabel = "<n>",
      names = "--dispatchers",
      defaultValue = "3",
      description = "dispatchers in this JVM (default ${DEFAULT-VALUE})")
  int dispatchers;

  @Option(
      paramLabel = "<n>",
      names = "--jvms",
      defaultValue = "1",
      description = "further dispatchers, each in its own JVM (default ${DEFAULT-VALUE})")
  int jvms;

  @Option(
      paramLabel = "<n>",
      names = "--concurrency",
      defaultValue = "8",
      description = "runner threads per dispatcher (default ${DEFAULT-VALUE})")
  int concurrency;

  @Option(
      paramLabel = "<seed>",
      names = "--seed",
      description = "the faults' and the priorities' seed (default random)")
  @Nullable Long seed;

  @Option(
      paramLabel = "<duration>",
      names = "--timeout",
      defaultValue = "3m",
      description = "the longest a half may take (default ${DEFAULT-VALUE})")
  Duration timeout;

  @Option(
      paramLabel = "<duration>",
      names = "--poll-interval",
      defaultValue = "100ms",
      description = "the dispatchers' poll interval (default ${DEFAULT-VALUE})")
  Duration poll;

  @Option(names = "--guarded-only", description = "run only the guarded half")
  boolean guardedOnly;

  @Option(
      names = "--race-window",
      paramLabel = "<duration>",
      description = "simulate the real server's update window, pausing this long (e.g. 2ms)")
  @Nullable Duration raceWindow;

  @Option(
      paramLabel = "<seed>",
      names = "--soak-requests",
      defaultValue = "0",
      description = "repeat guarded rounds with consecutive seeds until N requests (the soak)")
  long soakRequests;

  @Option(
      names = "--shared-token",
      description = "every dispatcher uses one token, as with the SystemRootToken")
  boolean sharedToken;

  @Option(
      paramLabel = "<rate>",
      names = "--lost-rate",
      defaultValue = "0.02",
      description =
          "share of answers lost after the server applied the request (default ${DEFAULT-VALUE})")
  double lostRate;

  @Option(
      names = "--json",
      description = "print the report as one JSON object (src/docs/cli.md) instead of a table")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Cli.inRange(spec, "--containers", containers, 1, 1_000_000);
    Cli.inRange(spec, "--dispatchers", dispatchers, 1, 64);
    Cli.inRange(spec, "--jvms", jvms, 0, 8);
    Cli.inRange(spec, "--concurrency", concurrency, 1, 1000);
    Cli.inRange(spec, "--soak-requests", soakRequests, 0, Long.MAX_VALUE);
    Cli.rate(spec, "--lost-rate", lostRate);
    PrintStream out = main.out;
    PrintStream err = main.err;
    long s = seed != null ? seed : new SecureRandom().nextLong() & 0xffffffffL;
    RaceDemo demo =
        new RaceDemo(containers, dispatchers, jvms, concurrency, s, timeout, poll, err)
            .withRaceWindow(raceWindow)
            .withSharedToken(sharedToken)
            .withLostResponseRate(lostRate);
    err.printf(
        "race demo: %d containers, %d dispatchers in this JVM + %d in other JVMs%s, seed %d%s%n",
        containers,
        dispatchers,
        jvms,
        sharedToken ? ", all sharing one token" : "",
        s,
        raceWindow == null ? "" : ", server update window " + raceWindow.toMillis() + " ms");
    if (soakRequests > 0) {
      RaceDemo.Soak soak = demo.soak(soakRequests, json ? err : out);
      if (json) {
        print(out, RaceDemo.json(soak));
      } else {
        out.print(soak.summary());
      }
      return soak.ok() ? Cli.OK : Cli.FAILED;
    }
    RaceDemo.Result guarded = demo.run(true);
    RaceDemo.Result plain = guardedOnly ? null : demo.run(false);
    if (json) {
      print(out, RaceDemo.json(demo, guarded, plain));
    } else {
      out.print(RaceDemo.report(guarded, plain));
      if (!guarded.ok()) {
        out.println();
        out.println("FAILED: " + guarded.failure());
        out.println(guarded.safety().summary());
      }
    }
    return guarded.ok() ? Cli.OK : Cli.FAILED;
  }

  static void print(PrintStream out, JsonObject report) {
    out.println(new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(report));
    out.flush();
  }
}
