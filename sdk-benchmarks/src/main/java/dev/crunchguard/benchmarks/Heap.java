package dev.crunchguard.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/** Heap and allocation probes. */
final class Heap {
  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** Fewer, shorter settling rounds (smoke runs). */
  static volatile boolean quick;

  private Heap() {}

  /** Used heap after full collections, once it has settled (two readings within 64 KiB). */
  static long usedAfterGc() {
    long last = Long.MAX_VALUE;
    for (int i = 0; i < (quick ? 2 : 8); i++) {
      System.gc();
      try {
        Thread.sleep(quick ? 10 : 60);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      long used = MEMORY.getHeapMemoryUsage().getUsed();
      if (Math.abs(used - last) < 64 * 1024) {
        return Math.min(used, last);
      }
      last = used;
    }
    return last;
  }

  /** Bytes allocated so far by the calling thread (HotSpot's per-thread TLAB accounting). */
  static long allocatedByThisThread() {
    return THREADS.getCurrentThreadAllocatedBytes();
  }

  static int liveThreads() {
    return THREADS.getThreadCount();
  }
}
