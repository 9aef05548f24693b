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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

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
   * One cell: latency from the end of the epoch-ending call(s) ({@code latencyMs}) and from before
   * the first of them; per trial, the round trip of the watch's read that saw the change, the time
   * from that read's answer to the child's exit, how late that read started against the fixed-rate
   * schedule, and the trial's margin to its bound (interval + that read's round trip).
   */
  record Interval(
      Scenario scenario,
      Duration watch,
      Summary latencyMs,
      Summary fromFirstRequestMs,
      Summary seenRttMs,
      Summary afterReadMs,
      Summary reactionMs,
      Summary lateMs,
      Summary marginMs,
      int trials,
      int stopped,
      @Nullable Trial worst) {
    boolean met() {
      return stopped == trials && marginMs.min() >= 0;
    }
  }

  /** One trial's figures, in ms; null fields when the child was not stopped in time. */
  record Trial(
      double latency,
      double fromFirst,
      double readStart,
      double seenRtt,
      double afterRead,
      double reaction,
      double late) {
    double margin(Duration watch) {
      return watch.toNanos() / 1e6 + seenRtt - latency;
    }
  }

  /**
   * The runner client's container reads ({@code GET}), in order of their start: OkHttp's callStart,
   * responseHeadersEnd (the answer's arrival) and callEnd, in {@link System#nanoTime()}.
   */
  static final class ReadLog {
    private final java.util.concurrent.ConcurrentLinkedDeque<AtomicLongArray> reads =
        new java.util.concurrent.ConcurrentLinkedDeque<>();

    EventListener.Factory factory() {
      return call -> {
        if (!call.request().method().equals("GET")) {
          return EventListener.NONE;
        }
        AtomicLongArray times = new AtomicLongArray(3);
        return new EventListener() {
          @Override
          public void callStart(Call c) {
            times.set(0, System.nanoTime());
            reads.add(times);
          }

          @Override
          public void responseHeadersEnd(Call c, okhttp3.Response response) {
            times.set(1, System.nanoTime());
          }

          @Override
          public void callEnd(Call c) {
            times.set(2, System.nanoTime());
          }
        };
      };
    }

    void clear() {
      reads.clear();
    }

    /** {start, answer, end} of the reads that started before {@code t}, oldest first. */
    List<long[]> startedBefore(long t) {
      List<long[]> out = new ArrayList<>();
      for (AtomicLongArray r : reads) {
        if (r.get(0) <= t) {
          out.add(new long[] {r.get(0), r.get(1), r.get(2)});
        }
      }
      return out;
    }
  }

  static void run(Report rep, List<Duration> intervals, int trials, PrintStream progress)
      throws Exception {
    List<Interval> out = new ArrayList<>();
    ReadLog readLog = new ReadLog();
    OkHttpClient runnerHttp =
        new OkHttpClient.Builder().eventListenerFactory(readLog.factory()).build();
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
                .okHttpClient(runnerHttp)
                .build()) {
      Random rnd = new Random(7);
      int[] marker = {0};
      warmUp(sim, dispatcher, runner);
      for (Duration w : intervals) {
        for (Scenario sc : Scenario.values()) {
          progress.printf(
              "[bench] 4. loss detection: %s, watch interval %s, %d trials%n",
              sc.name().toLowerCase(java.util.Locale.ROOT), Durations.format(w), trials);
          double[] lat = new double[trials];
          double[] conservative = new double[trials];
          double[] seen = new double[trials];
          double[] after = new double[trials];
          double[] reaction = new double[trials];
          double[] late = new double[trials];
          double[] margin = new double[trials];
          int stopped = 0;
          Trial worst = null;
          for (int t = 0; t < trials; t++) {
            marker[0]++;
            Trial tr =
                trial(
                    sim,
                    dispatcher,
                    runner,
                    readLog,
                    sc,
                    w,
                    rnd,
                    Integer.toString(100_000 + marker[0]));
            if (tr != null) {
              stopped++;
              lat[t] = tr.latency();
              conservative[t] = tr.fromFirst();
              seen[t] = tr.seenRtt();
              after[t] = tr.afterRead();
              reaction[t] = tr.reaction();
              late[t] = tr.late();
              margin[t] = tr.margin(w);
              if (worst == null || tr.margin(w) < worst.margin(w)) {
                worst = tr;
              }
            } else {
              lat[t] = conservative[t] = seen[t] = after[t] = Double.POSITIVE_INFINITY;
              reaction[t] = late[t] = Double.POSITIVE_INFINITY;
              margin[t] = Double.NEGATIVE_INFINITY;
            }
          }
          out.add(
              new Interval(
                  sc,
                  w,
                  Summary.of(lat),
                  Summary.of(conservative),
                  Summary.of(seen),
                  Summary.of(after),
                  Summary.of(reaction),
                  Summary.of(late),
                  Summary.of(margin),
                  trials,
                  stopped,
                  worst));
        }
      }
    } finally {
      runnerHttp.dispatcher().executorService().shutdown();
      runnerHttp.connectionPool().evictAll();
    }
    report(rep, out);
  }

  /**
   * One trial; returns the child's exit time in ms after the epoch-ending call(s) returned and
   * after the first of them was sent, with the read that saw the change, or null when the child was
   * not stopped in time.
   */
  private static @Nullable Trial trial(
      ArvadosSimulator sim,
      ArvadosClient dispatcher,
      ArvadosClient runner,
      ReadLog readLog,
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
      // The watch's schedule: a check at scheduled + k * w (k >= 1); its reads start there.
      long scheduled = System.nanoTime();
      readLog.clear();
      // When the SIGTERM goes out: re-lock, in this trial's own cancellation callback; cancel, an
      // upper bound: a loss listener registered after the context's own, which runs once the
      // context's stop (SIGTERM, then its scan for descendants) has returned.
      AtomicLong sigtermAt = new AtomicLong();
      AtomicLong lostAt = new AtomicLong();
      ctx.onLost(e -> lostAt.set(System.nanoTime()));
      if (sc == Scenario.CANCEL) {
        th =
            new Thread(
                () -> result.set(ctx.runCommand(new ProcessBuilder("sleep", seconds))), "runner");
        th.start();
      } else {
        Process p = new ProcessBuilder("sleep", seconds).start();
        own = p;
        ctx.cancellation()
            .onCancel(
                reason -> {
                  sigtermAt.set(System.nanoTime());
                  p.destroy();
                });
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
      Trial ms;
      try {
        long t1 = exited.get(w.toMillis() * 3 + 20_000, TimeUnit.MILLISECONDS);
        // After the loss the watch reads no more, so the last read that started before the loss
        // fired is the one that saw the change.
        long lost = lostAt.get() == 0 ? t1 : lostAt.get();
        long sigterm = sigtermAt.get() != 0 ? sigtermAt.get() : lost;
        List<long[]> reads = readLog.startedBefore(lost);
        if (reads.isEmpty()) {
          throw new IllegalStateException("no watch read before the child of " + uuid + " exited");
        }
        long[] seen = reads.get(reads.size() - 1);
        // The first check the schedule puts after the end; a read that started later than that
        // waited for a CPU (negative: a check that started before the end already saw it).
        long w0 = w.toNanos();
        // The schedule's phase: `scheduled` was taken just after start() returned, a little after
        // the executor fixed its time base. Every watch read starts at a tick or after it, so the
        // read nearest before its tick gives the phase.
        long base = scheduled;
        for (long[] r : reads) {
          long since = r[0] - scheduled;
          long offset = since - Math.round((double) since / w0) * w0;
          base = Math.min(base, scheduled + offset);
        }
        long firstTickAfterEnd = base + Math.floorDiv(ended - base + w0 - 1, w0) * w0;
        double late = (seen[0] - firstTickAfterEnd) / 1e6;
        ms =
            new Trial(
                (t1 - ended) / 1e6,
                (t1 - t0) / 1e6,
                (seen[0] - ended) / 1e6,
                (seen[1] - seen[0]) / 1e6,
                (t1 - seen[1]) / 1e6,
                (sigterm - seen[1]) / 1e6,
                late);
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

  /** Warms the runner client's connection and the JIT of the watch's read path. */
  private static void warmUp(ArvadosSimulator sim, ArvadosClient dispatcher, ArvadosClient runner) {
    String probe = sim.createContainer(ContainerSpec.builder().priority(1).build());
    ContainerLock pl = dispatcher.containers().lock(probe);
    ContainerLock resumed = runner.containers().resume(pl.epoch());
    for (int i = 0; i < 300; i++) {
      resumed.verify();
    }
    pl.unlock();
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
            + "(for the re-lock: before the unlock, the earliest moment the runner could notice). The watch runs at "
            + "a fixed rate (`scheduleAtFixedRate`, period = interval), and the runner's client records the start and "
            + "answer of each of its reads (OkHttp callStart / responseHeadersEnd). The SIGTERM's moment is taken in "
            + "the re-lock's own cancellation callback; for cancel (runCommand's child) it is an upper bound, a loss "
            + "listener registered after the context's own that runs once the context's stop has returned (the "
            + "SIGTERM, then its scan for the child's descendants). Once the epoch "
            + "has ended, a read that starts after the ending call returned sees it, and the previous read started "
            + "before it returned, so the read that sees the change starts within one interval of that return. "
            + "Bound, per trial = interval + the round trip of the read that saw the change (the last read started before "
            + "the loss fired: after it the watch reads no more); nothing else is added, so the SDK's "
            + "reaction, the SIGTERM, the child's exit and the JDK noticing it must fit in the time between the "
            + "previous read's start and the ending call's return. Columns: that read's round trip, the time from "
            + "its answer to the child's exit (the SDK's reaction + SIGTERM + exit), how late it started after "
            + "the first check the fixed-rate schedule puts after the end (thread scheduling; negative when a check "
            + "that started before the end already saw it), and the smallest margin to the bound.");
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
              Summary.f("%.2f", i.seenRttMs().median())
                  + " / "
                  + Summary.f("%.2f", i.seenRttMs().max()),
              Summary.f("%.2f", i.afterReadMs().median())
                  + " / "
                  + Summary.f("%.2f", i.afterReadMs().max()),
              Summary.f("%.2f", i.reactionMs().median())
                  + " / "
                  + Summary.f("%.2f", i.reactionMs().max()),
              Summary.f("%.2f", i.lateMs().max()),
              Summary.f("%.2f", i.marginMs().min()),
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
            "seeing read RTT median / max ms",
            "read answer → child exit median / max ms",
            "of which answer → SIGTERM median / max ms",
            "max read lateness ms",
            "min margin to bound ms",
            "max / interval",
            "children stopped"),
        t);
    rep.sub("The trial nearest its bound in each cell");
    rep.para(
        "Latency = (start of the read that saw the change − return of the ending call) + that read's round trip "
            + "+ (its answer → the child's exit); bound = interval + that read's round trip, so the margin is "
            + "interval − the first term − the last. The first term is the wait for the schedule's next check "
            + "(below one interval) + its lateness (the watch thread waiting for a CPU).");
    List<List<String>> wt = new ArrayList<>();
    for (Interval i : rows) {
      Trial w = i.worst();
      if (w == null) {
        continue;
      }
      wt.add(
          List.of(
              i.scenario().name().toLowerCase(java.util.Locale.ROOT),
              Durations.format(i.watch()),
              Summary.f("%.1f", w.latency()),
              Summary.f("%.1f", w.readStart()),
              Summary.f("%.2f", w.seenRtt()),
              Summary.f("%.2f", w.afterRead()),
              Summary.f("%.2f", w.reaction()),
              Summary.f("%.2f", w.late()),
              Summary.f("%.2f", w.margin(i.watch()))));
    }
    rep.table(
        List.of(
            "epoch ended by",
            "watch interval",
            "latency ms",
            "read start after the end ms",
            "read RTT ms",
            "answer → exit ms",
            "of which answer → SIGTERM ms",
            "lateness ms",
            "margin ms"),
        wt);
    for (Interval i : rows) {
      rep.target(
          "4",
          "child stopped within one interval + the round trip of the read that saw the change ("
              + i.scenario().name().toLowerCase(java.util.Locale.ROOT)
              + ", "
              + Durations.format(i.watch())
              + ")",
          "max "
              + Summary.f("%.1f", i.latencyMs().max())
              + " ms, median "
              + Summary.f("%.1f", i.latencyMs().median())
              + " ms; smallest margin to interval + that read's RTT: "
              + Summary.f("%.2f", i.marginMs().min())
              + " ms",
          i.met());
    }
  }
}
