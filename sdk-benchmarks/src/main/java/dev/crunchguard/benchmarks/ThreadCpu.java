package dev.crunchguard.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this JVM's live threads by group (the in-process simulator's HTTP threads, the
 * dispatchers' runner, lock and poll threads, the ceiling's client threads, other Java threads), so
 * that a run's CPU per container can be split. A thread that ends between two snapshots loses its
 * time, so take the second snapshot before closing anything. The JVM's own threads (GC, JIT) are
 * not Java threads: they are the process CPU time less the sum of the groups.
 */
final class ThreadCpu {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private ThreadCpu() {}

  /** One thread's name and CPU nanoseconds so far. */
  record Sample(String group, long nanos) {}

  /** The group of a thread name: simulator, runner, lock, poll, ceiling or other. */
  static String group(String name) {
    if (name.startsWith("arvados-simulator") || name.startsWith("HTTP-Dispatcher")) {
      return "simulator";
    }
    if (name.startsWith("crunchguard-runner")) {
      return "runner";
    }
    if (name.startsWith("crunchguard-dispatch-lock")) {
      return "lock";
    }
    if (name.startsWith("crunchguard-dispatch-poll")) {
      return "poll";
    }
    if (name.startsWith("ceiling")) {
      return "ceiling";
    }
    return "other";
  }

  /** CPU nanoseconds so far of each live Java thread, by thread id. */
  static Map<Long, Sample> snapshot() {
    Map<Long, Sample> out = new HashMap<>();
    if (!THREADS.isThreadCpuTimeSupported()) {
      return out;
    }
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      long ns = THREADS.getThreadCpuTime(t.getId());
      if (ns >= 0) {
        out.put(t.getId(), new Sample(group(t.getName()), ns));
      }
    }
    return out;
  }

  /** CPU nanoseconds per group between two snapshots (threads new since count whole). */
  static Map<String, Long> byGroup(Map<Long, Sample> before, Map<Long, Sample> after) {
    Map<String, Long> sum = new TreeMap<>();
    for (Map.Entry<Long, Sample> e : after.entrySet()) {
      Sample b = before.get(e.getKey());
      long d = e.getValue().nanos() - (b == null ? 0 : b.nanos());
      sum.merge(e.getValue().group(), d, Long::sum);
    }
    return sum;
  }

  /**
   * The CPU µs per container of each group, and of the JVM's own threads (the process's time less
   * the groups'), as one cell: {@code sim 448, runner 263, lock 132, poll 33, other 51, JVM 465}.
   * {@code ended} adds the time of groups whose threads ended before {@code after} was taken (they
   * measured it themselves).
   */
  static String split(
      Map<Long, Sample> before,
      Map<Long, Sample> after,
      Map<String, Long> ended,
      long processNanos,
      int n) {
    Map<String, Long> g = byGroup(before, after);
    ended.forEach((k, v) -> g.merge(k, v, Long::sum));
    StringBuilder sb = new StringBuilder();
    long java = 0;
    for (String k : List.of("simulator", "ceiling", "runner", "lock", "poll", "other")) {
      Long v = g.get(k);
      if (v != null) {
        java += v;
        sb.append(sb.length() == 0 ? "" : ", ")
            .append(k.equals("simulator") ? "sim" : k)
            .append(' ')
            .append(Math.round(v / 1e3 / n));
      }
    }
    return sb.append(", JVM ").append(Math.round((processNanos - java) / 1e3 / n)).toString();
  }
}
