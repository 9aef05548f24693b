package dev.crunchguard.benchmarks;

import dev.crunchguard.ContainerLock;
import dev.crunchguard.dispatch.ContainerRunner;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The runner of the dispatch benchmarks: no work, so a run measures the dispatch machinery alone.
 * It marks the container Running, completes it, and counts it down; the first failure is kept for
 * the benchmark to report.
 */
final class CompletingRunner {
  private CompletingRunner() {}

  /**
   * @param readRecord first read {@code ctx.container()} (one GET for a container locked straight
   *     from an event), as a runner that needs the command or the constraints would
   * @param done counted down once per completed container
   * @param failure receives the first runner failure
   */
  static ContainerRunner of(
      boolean readRecord, CountDownLatch done, AtomicReference<Throwable> failure) {
    return ctx -> {
      try {
        if (readRecord) {
          ctx.container().command();
        }
        ContainerLock lock = ctx.lock();
        lock.markRunning();
        lock.complete(0, null);
        done.countDown();
      } catch (RuntimeException e) {
        failure.compareAndSet(null, e);
        throw e;
      }
    };
  }
}
