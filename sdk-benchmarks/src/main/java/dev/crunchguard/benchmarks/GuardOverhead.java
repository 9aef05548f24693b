package dev.crunchguard.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/** Benchmark 1: what a guarded update costs over a raw PUT of the same body, in one run. */
final class GuardOverhead {
  static final double TARGET_RATIO = 1.05;

  private GuardOverhead() {}

  record Interleaved(
      String server,
      int pairs,
      Summary ratio,
      Summary guardedMicros,
      Summary rawMicros,
      double guardedAllocBytes,
      double rawAllocBytes,
      double blockMin,
      double blockMax,
      int requestBytes,
      int responseBytes) {}

  /**
   * Interleaved guarded/raw pairs, alternating which goes first, with per-call latency and
   * allocation.
   */
  static Interleaved interleaved(
      String server, Child sim, int index, int warmup, int pairs, PrintStream progress)
      throws IOException {
    try (OverheadFixture fx = OverheadFixture.start(server, sim, index)) {
      progress.printf(
          "[bench] 1. overhead vs %s: %d warm-up pairs, %d measured pairs%n",
          server, warmup, pairs);
      for (int i = 0; i < warmup; i++) {
        fx.guarded();
        fx.raw();
      }
      double[] g = new double[pairs];
      double[] r = new double[pairs];
      double[] ga = new double[pairs];
      double[] ra = new double[pairs];
      for (int i = 0; i < pairs; i++) {
        if ((i & 1) == 0) {
          timeGuarded(fx, g, ga, i);
          timeRaw(fx, r, ra, i);
        } else {
          timeRaw(fx, r, ra, i);
          timeGuarded(fx, g, ga, i);
        }
      }
      double[] ratio = new double[pairs];
      for (int i = 0; i < pairs; i++) {
        ratio[i] = g[i] / r[i];
      }
      int blocks = Math.min(5, Math.max(1, pairs / 100));
      double bmin = Double.MAX_VALUE;
      double bmax = 0;
      int per = pairs / blocks;
      for (int b = 0; b < blocks; b++) {
        double[] part = java.util.Arrays.copyOfRange(ratio, b * per, (b + 1) * per);
        double m = Summary.of(part).median();
        bmin = Math.min(bmin, m);
        bmax = Math.max(bmax, m);
      }
      return new Interleaved(
          server,
          pairs,
          Summary.of(ratio),
          Summary.of(g).scaled(1e-3),
          Summary.of(r).scaled(1e-3),
          Summary.of(ga).median(),
          Summary.of(ra).median(),
          bmin,
          bmax,
          fx.body.length,
          fx.responseBytes);
    }
  }

  private static void timeGuarded(OverheadFixture fx, double[] lat, double[] alloc, int i) {
    long a0 = Heap.allocatedByThisThread();
    long t0 = System.nanoTime();
    fx.guarded();
    long t1 = System.nanoTime();
    alloc[i] = Heap.allocatedByThisThread() - a0;
    lat[i] = t1 - t0;
  }

  private static void timeRaw(OverheadFixture fx, double[] lat, double[] alloc, int i) {
    long a0 = Heap.allocatedByThisThread();
    long t0 = System.nanoTime();
    try {
      fx.raw();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    long t1 = System.nanoTime();
    alloc[i] = Heap.allocatedByThisThread() - a0;
    lat[i] = t1 - t0;
  }

  /** One JMH result row. */
  record JmhRow(
      String server, String benchmark, double score, double error, String unit, double allocNorm) {}

  static List<JmhRow> jmh(
      int forks,
      int warmupIterations,
      int iterations,
      String iterationTime,
      int warmCalls,
      List<String> servers,
      PrintStream progress)
      throws RunnerException {
    progress.printf(
        "[bench] 1. JMH: forks %d, %d warm-up + %d measured iterations of %s, -prof gc%n",
        forks, warmupIterations, iterations, iterationTime);
    Options opts =
        new OptionsBuilder()
            .include(GuardOverheadJmh.class.getName() + "\\.")
            .forks(forks)
            .warmupIterations(warmupIterations)
            .measurementIterations(iterations)
            .warmupTime(TimeValue.fromString(iterationTime))
            .measurementTime(TimeValue.fromString(iterationTime))
            .param("warmCalls", Integer.toString(warmCalls))
            .param("server", servers.toArray(new String[0]))
            .addProfiler(GCProfiler.class)
            .jvmArgsAppend(Child.QUIET_LOGS)
            .shouldFailOnError(true)
            .build();
    Collection<RunResult> results =
        new Runner(opts, OutputFormatFactory.createFormatInstance(progress, VerboseMode.NORMAL))
            .run();
    List<JmhRow> rows = new ArrayList<>();
    for (RunResult rr : results) {
      String bench = rr.getParams().getBenchmark();
      bench = bench.substring(bench.lastIndexOf('.') + 1);
      Result<?> primary = rr.getPrimaryResult();
      Map<String, Result> secondary = rr.getSecondaryResults();
      Result<?> alloc = secondary.get("·gc.alloc.rate.norm");
      if (alloc == null) {
        alloc = secondary.get("gc.alloc.rate.norm");
      }
      rows.add(
          new JmhRow(
              rr.getParams().getParam("server"),
              bench,
              primary.getScore(),
              primary.getScoreError(),
              primary.getScoreUnit(),
              alloc == null ? Double.NaN : alloc.getScore()));
    }
    return rows;
  }

  static void report(Report rep, List<Interleaved> runs, List<JmhRow> jmh, String jmhCommand) {
    rep.heading("1. Guard overhead: guarded ContainerLock.update vs raw OkHttp PUT");
    if (!runs.isEmpty()) {
      rep.para(
          "Each pair is one guarded `lock.update(progress 0.5)` and one raw OkHttp `PUT` of the same bytes with "
              + "the same headers, on an OkHttpClient with the SDK's settings (timeouts 10/60/60 s, no silent retry) that "
              + "shares the SDK's connection pool; the order alternates pair by pair to cancel drift. The server runs in "
              + "another JVM on 127.0.0.1: `simulator` is the Arvados simulator (realistic server work); `fixed` is a JDK "
              + "HttpServer answering the simulator's own 200 response bytes (isolates the client). Ratio = guarded "
              + "latency / raw latency of the same pair. Allocation = bytes allocated by the calling thread per call "
              + "(HotSpot per-thread counter).");
      List<List<String>> rows = new ArrayList<>();
      for (Interleaved r : runs) {
        rows.add(
            List.of(
                r.server(),
                Integer.toString(r.pairs()),
                Summary.f("%.3f", r.ratio().median()),
                Summary.f("%.3f", r.ratio().p10()) + " – " + Summary.f("%.3f", r.ratio().p90()),
                Summary.f("%.3f", r.blockMin()) + " – " + Summary.f("%.3f", r.blockMax()),
                r.guardedMicros().medianWithSpread("%.1f"),
                r.rawMicros().medianWithSpread("%.1f"),
                Summary.f("%.3f", r.guardedMicros().median() / r.rawMicros().median()),
                Summary.f("%.0f", r.guardedAllocBytes()),
                Summary.f("%.0f", r.rawAllocBytes()),
                r.requestBytes() + " / " + r.responseBytes()));
      }
      rep.table(
          List.of(
              "server",
              "pairs",
              "median ratio",
              "ratio p10 – p90",
              "median ratio per 1/5 of the run (min – max)",
              "guarded µs",
              "raw µs",
              "ratio of medians",
              "guarded B/call",
              "raw B/call",
              "request / response bytes"),
          rows);
    }
    if (!jmh.isEmpty()) {
      rep.sub("JMH (" + jmhCommand + ")");
      Map<String, JmhRow[]> byServer = new TreeMap<>();
      for (JmhRow r : jmh) {
        JmhRow[] pair = byServer.computeIfAbsent(r.server(), k -> new JmhRow[2]);
        pair[r.benchmark().equals("guardedUpdate") ? 0 : 1] = r;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Map.Entry<String, JmhRow[]> e : byServer.entrySet()) {
        JmhRow gr = e.getValue()[0];
        JmhRow rr = e.getValue()[1];
        if (gr == null || rr == null) {
          continue;
        }
        rows.add(
            List.of(
                e.getKey(),
                Summary.f("%.1f", gr.score()) + " ± " + Summary.f("%.1f", gr.error()),
                Summary.f("%.1f", rr.score()) + " ± " + Summary.f("%.1f", rr.error()),
                Summary.f("%.3f", gr.score() / rr.score()),
                Summary.f("%.0f", gr.allocNorm()),
                Summary.f("%.0f", rr.allocNorm()),
                Summary.f("%.0f", gr.allocNorm() - rr.allocNorm())));
      }
      rep.para(
          "Mode: average time per call ("
              + (jmh.isEmpty() ? "" : jmh.get(0).unit())
              + "), error = JMH's 99.9% "
              + "confidence half-width. `gc.alloc.rate.norm` = bytes allocated per call by every thread of the benchmark "
              + "JVM (the servers run in other processes).");
      rep.table(
          List.of(
              "server",
              "guardedUpdate µs/op",
              "rawPut µs/op",
              "ratio",
              "guarded B/op",
              "raw B/op",
              "guard's extra B/op"),
          rows);
    }
    for (Interleaved r : runs) {
      rep.target(
          "1",
          "guarded/raw median per-call ratio ≤ " + TARGET_RATIO + " (" + r.server() + ")",
          Summary.f("%.3f", r.ratio().median())
              + " (p10 "
              + Summary.f("%.3f", r.ratio().p10())
              + ", p90 "
              + Summary.f("%.3f", r.ratio().p90())
              + ")",
          r.ratio().median() <= TARGET_RATIO);
    }
  }
}
