package dev.crunchguard.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of this JVM's live threads that serve the simulator's HTTP side, so that a run's CPU per
 * container can be split into the server's part and the rest (clients, dispatchers, GC, JIT). A
 * thread that ends between two snapshots loses its time, so take the second snapshot before closing
 * anything.
 */
final class ThreadCpu {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private ThreadCpu() {}

  /** Whether {@code name} is a thread of the in-process simulator's HTTP server. */
  static boolean isSimulator(String name) {
    return name.startsWith("arvados-simulator") || name.startsWith("HTTP-Dispatcher");
  }

  /** CPU nanoseconds so far of each live simulator thread, by thread id. */
  static Map<Long, Long> simulatorSnapshot() {
    Map<Long, Long> out = new HashMap<>();
    if (!THREADS.isThreadCpuTimeSupported()) {
      return out;
    }
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (isSimulator(t.getName())) {
        long ns = THREADS.getThreadCpuTime(t.getId());
        if (ns >= 0) {
          out.put(t.getId(), ns);
        }
      }
    }
    return out;
  }

  /**
   * The simulator threads' CPU nanoseconds between two snapshots (threads new since count whole).
   */
  static long simulatorNanos(Map<Long, Long> before, Map<Long, Long> after) {
    long sum = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return sum;
  }
}
