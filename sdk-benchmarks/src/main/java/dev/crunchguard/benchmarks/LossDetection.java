package dev.crunchguard.benchmarks;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.examples.cli.Durations;
import dev.crunchguard.runner.RunResult;
import dev.crunchguard.runner.RunnerContext;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Benchmark 4: how long a stale runner's child process lives after its epoch ends. A RunnerContext
 * runs {@code sleep} as a real child; at a random phase of the watch, the dispatcher's client
 * unlocks the container with the plain {@code POST .../unlock} and locks it again with the same
 * token; the clock runs from just before that unlock until the child process has exited.
 */
final class LossDetection {
  static final String TOKEN = "benchlossdetectiontoken01234";

  private LossDetection() {}

  /** How the epoch ends under the runner. */
  enum Scenario {
    /**
     * The runner is still setting up (Locked; its own child process, stopped through {@code
     * cancellation().onCancel}); the dispatcher's client unlocks and locks again.
     */
    RELOCK(
        "re-lock (plain unlock + lock, same token) while Locked; child started by the runner, stopped via cancellation()"),
    /**
     * {@code runCommand} runs the child (Running); the dispatcher's own lock cancels the container.
     */
    CANCEL("cancel through the dispatcher's lock while Running; child run by runCommand");

    final String description;

    Scenario(String description) {
      this.description = description;
    }
  }

  /**
   * Latency from the end of the epoch-ending call(s) ({@code latencyMs}) and from before the first
   * of them.
   */
  record Interval(
      Scenario scenario,
      Duration watch,
      Summary latencyMs,
      Summary fromFirstRequestMs,
      Summary rttMs,
      int trials,
      int stopped) {
    double boundMs() {
      return watch.toNanos() / 1e6 + rttMs.median();
    }
  }

  static void run(Report rep, List<Duration> intervals, int trials, PrintStream progress)
      throws Exception {
    List<Interval> out = new ArrayList<>();
    try (ArvadosSimulator sim =
            ArvadosSimulator.builder()
                .adminToken(TOKEN)
                .maxDispatchAttempts(1_000_000)
                .build()
                .start();
        ArvadosClient dispatcher =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(TOKEN)
                .clientId("dispatcher")
                .build();
        ArvadosClient runner =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(TOKEN)
                .clientId("runner")
                .build()) {
      Random rnd = new Random(7);
      int[] marker = {0};
      for (Duration w : intervals) {
        Summary rtt = roundTrip(sim, dispatcher, runner);
        for (Scenario sc : Scenario.values()) {
          progress.printf(
              "[bench] 4. loss detection: %s, watch interval %s, %d trials%n",
              sc.name().toLowerCase(java.util.Locale.ROOT), Durations.format(w), trials);
          double[] lat = new double[trials];
          double[] conservative = new double[trials];
          int stopped = 0;
          for (int t = 0; t < trials; t++) {
            marker[0]++;
            double[] ms =
                trial(sim, dispatcher, runner, sc, w, rnd, Integer.toString(100_000 + marker[0]));
            if (ms != null) {
              stopped++;
            }
            lat[t] = ms == null ? Double.POSITIVE_INFINITY : ms[0];
            conservative[t] = ms == null ? Double.POSITIVE_INFINITY : ms[1];
          }
          out.add(
              new Interval(sc, w, Summary.of(lat), Summary.of(conservative), rtt, trials, stopped));
        }
      }
    }
    report(rep, out);
  }

  /**
   * One trial; returns the child's exit time in ms after the epoch-ending call(s) returned and
   * after the first of them was sent, or null when the child was not stopped in time.
   */
  private static double[] trial(
      ArvadosSimulator sim,
      ArvadosClient dispatcher,
      ArvadosClient runner,
      Scenario sc,
      Duration w,
      Random rnd,
      String seconds)
      throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().priority(1).build());
    ContainerLock lock = dispatcher.containers().lock(uuid);
    AtomicReference<RunResult> result = new AtomicReference<>();
    Thread th = null;
    Process own = null;
    try (RunnerContext ctx =
        RunnerContext.builder(runner, lock.epoch())
            .watchInterval(w)
            .killGrace(Duration.ofSeconds(5))
            .start()) {
      if (sc == Scenario.CANCEL) {
        th =
            new Thread(
                () -> result.set(ctx.runCommand(new ProcessBuilder("sleep", seconds))), "runner");
        th.start();
      } else {
        Process p = new ProcessBuilder("sleep", seconds).start();
        own = p;
        ctx.cancellation().onCancel(reason -> p.destroy());
      }
      ProcessHandle child = awaitChild(seconds, Duration.ofSeconds(20));
      if (sc == Scenario.CANCEL) {
        awaitState(sim, uuid, "Running");
      }
      CompletableFuture<Long> exited = child.onExit().thenApply(h -> System.nanoTime());
      // A random phase of the watch cycle.
      Thread.sleep((long) (rnd.nextDouble() * w.toMillis()));
      long t0 = System.nanoTime();
      if (sc == Scenario.RELOCK) {
        dispatcher.containers().unlock(uuid);
        dispatcher.containers().lock(uuid);
      } else {
        lock.cancel();
      }
      long ended = System.nanoTime();
      double[] ms;
      try {
        long t1 = exited.get(w.toMillis() * 3 + 20_000, TimeUnit.MILLISECONDS);
        ms = new double[] {(t1 - ended) / 1e6, (t1 - t0) / 1e6};
      } catch (java.util.concurrent.TimeoutException e) {
        child.destroyForcibly();
        ms = null;
      }
      if (th != null) {
        // Let runCommand record its outcome, and the watch finish stopping the child (it schedules
        // a
        // SIGKILL follow-up on its own executor), before the context closes.
        th.join(30_000);
        Thread.sleep(100);
      }
      return ms;
    } finally {
      if (own != null) {
        own.destroyForcibly();
      }
      if (sc == Scenario.RELOCK) {
        dispatcher.containers().unlock(uuid);
      }
    }
  }

  private static void awaitState(ArvadosSimulator sim, String uuid, String state)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!sim.container(uuid).state().equals(state)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(uuid + " did not reach " + state);
      }
      Thread.sleep(1);
    }
  }

  /**
   * One round trip of the watch's read ({@code verify()}), measured on the same client and server.
   */
  private static Summary roundTrip(
      ArvadosSimulator sim, ArvadosClient dispatcher, ArvadosClient runner) {
    String probe = sim.createContainer(ContainerSpec.builder().priority(1).build());
    ContainerLock pl = dispatcher.containers().lock(probe);
    ContainerLock resumed = runner.containers().resume(pl.epoch());
    for (int i = 0; i < 100; i++) {
      resumed.verify();
    }
    double[] rtt = new double[200];
    for (int i = 0; i < rtt.length; i++) {
      long a = System.nanoTime();
      resumed.verify();
      rtt[i] = (System.nanoTime() - a) / 1e6;
    }
    pl.unlock();
    return Summary.of(rtt);
  }

  private static ProcessHandle awaitChild(String marker, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<ProcessHandle> h =
          ProcessHandle.current()
              .children()
              .filter(
                  p ->
                      p.info()
                          .arguments()
                          .map(a -> a.length > 0 && a[a.length - 1].equals(marker))
                          .orElse(false))
              .findFirst();
      if (h.isPresent()) {
        return h.get();
      }
      Thread.sleep(2);
    }
    throw new IllegalStateException(
        "the runner's child process (sleep " + marker + ") did not start");
  }

  static void report(Report rep, List<Interval> rows) {
    rep.heading("4. Loss detection: epoch end to the stale runner's child stopped");
    rep.para(
        "A RunnerContext (its own ArvadosClient with the dispatcher's token, as crunch-run uses) holds the "
            + "handed-off epoch while a real child process (`sleep`) runs. After a random delay in [0, interval), the "
            + "dispatcher's client ends the epoch. Two ways: **re-lock**: the plain `POST .../unlock` then `POST .../lock` "
            + "with the same token (a new epoch). Arvados allows unlock only from Locked (services/api/app/models/container.rb, State_transitions: Running → Queued is "
            + "not a transition), so a re-lock can only hit a runner still setting up; here the runner started the child "
            + "itself before marking Running and stops it from `cancellation().onCancel` (the context fires it on loss). "
            + "**cancel**: the child runs under `runCommand` (Running) and the dispatcher's own lock cancels the container. "
            + "Latency = from the return of the call that ended the epoch (the re-lock's `lock`, or the `cancel`) to "
            + "the child's exit (ProcessHandle.onExit); the conservative column counts from before the first request "
            + "(for the re-lock: before the unlock, the earliest moment the runner could notice). Bound = interval + one "
            + "round trip (median of 200 `verify()` reads on the same "
            + "client, measured before each interval). The watch uses fixed-delay scheduling (one check, then "
            + "`watchInterval` of sleep), so its period is the interval plus a round trip.");
    List<List<String>> t = new ArrayList<>();
    for (Interval i : rows) {
      t.add(
          List.of(
              i.scenario().name().toLowerCase(java.util.Locale.ROOT),
              Durations.format(i.watch()),
              Integer.toString(i.trials()),
              Summary.f("%.1f", i.latencyMs().min()),
              Summary.f("%.1f", i.latencyMs().median()),
              Summary.f("%.1f", i.latencyMs().p90()),
              Summary.f("%.1f", i.latencyMs().max()),
              Summary.f("%.1f", i.fromFirstRequestMs().median())
                  + " / "
                  + Summary.f("%.1f", i.fromFirstRequestMs().max()),
              Summary.f("%.2f", i.rttMs().median())
                  + " (p99 "
                  + Summary.f("%.2f", i.rttMs().p99())
                  + ")",
              Summary.f("%.1f", i.boundMs()),
              Summary.f("%.2f", i.latencyMs().max() / (i.watch().toNanos() / 1e6)),
              i.stopped() + "/" + i.trials()));
    }
    rep.table(
        List.of(
            "epoch ended by",
            "watch interval",
            "trials",
            "min ms",
            "median ms",
            "p90 ms",
            "max ms",
            "conservative median / max ms",
            "round trip ms",
            "bound (interval + RTT) ms",
            "max / interval",
            "children stopped"),
        t);
    for (Interval i : rows) {
      rep.target(
          "4",
          "child stopped within one interval + one round trip ("
              + i.scenario().name().toLowerCase(java.util.Locale.ROOT)
              + ", "
              + Durations.format(i.watch())
              + ")",
          "max "
              + Summary.f("%.1f", i.latencyMs().max())
              + " ms, median "
              + Summary.f("%.1f", i.latencyMs().median())
              + " ms (conservative max "
              + Summary.f("%.1f", i.fromFirstRequestMs().max())
              + " ms); bound "
              + Summary.f("%.1f", i.boundMs())
              + " ms",
          i.latencyMs().max() <= i.boundMs() && i.stopped() == i.trials());
    }
  }
}
