package dev.crunchguard.benchmarks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The dispatch ceiling's load, shared by benchmark 3 (the simulator) and the real-server part: the
 * Dispatcher's per-container requests driven by raw HTTP from {@code threads} threads. Per
 * container: lock, PUT Running, PUT Complete (each PUT with the lock's auth_uuid); per {@value
 * DispatchThroughput#PAGE} containers one page of the caller's own containers and one Queued page,
 * with the Dispatcher's parameters. Containers are shared out without conflicts.
 */
final class CeilingLoad {
  private CeilingLoad() {}

  /** What one drive took. */
  /**
   * @param clientCpuNanos the CPU time of the client threads (each reads its own at its end)
   */
  record Result(double seconds, long requests, long clientCpuNanos) {}

  /**
   * Drives the load over {@code uuids} (all Queued, lockable with {@code raw}'s token).
   *
   * @param tokenUuid the uuid of {@code raw}'s token, for the own-containers page
   * @throws IllegalStateException when a request fails (the first failure is its cause)
   */
  static Result drive(RawHttp raw, List<String> uuids, String tokenUuid, int threads)
      throws InterruptedException {
    int n = uuids.size();
    AtomicInteger next = new AtomicInteger();
    AtomicLong requests = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicLong cpu = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int w = 0; w < threads; w++) {
      Thread th =
          new Thread(
              () -> {
                try {
                  int i;
                  while ((i = next.getAndIncrement()) < n && failure.get() == null) {
                    if (i % DispatchThroughput.PAGE == 0) {
                      raw.call(raw.minePage(tokenUuid, DispatchThroughput.PAGE));
                      raw.call(raw.queuePage(DispatchThroughput.PAGE));
                      requests.addAndGet(2);
                    }
                    String uuid = uuids.get(i);
                    String auth = raw.lock(uuid);
                    raw.update(uuid, RawHttp.fields(auth, "Running", null));
                    raw.update(uuid, RawHttp.fields(auth, "Complete", 0));
                    requests.addAndGet(3);
                  }
                } catch (IOException | RuntimeException e) {
                  failure.compareAndSet(null, e);
                } finally {
                  cpu.addAndGet(
                      java.lang.management.ManagementFactory.getThreadMXBean()
                          .getCurrentThreadCpuTime());
                }
              },
              "ceiling-" + w);
      th.start();
      workers.add(th);
    }
    for (Thread th : workers) {
      th.join();
    }
    long t1 = System.nanoTime();
    if (failure.get() != null) {
      throw new IllegalStateException("ceiling run failed", failure.get());
    }
    return new Result((t1 - t0) / 1e9, requests.get(), cpu.get());
  }
}
