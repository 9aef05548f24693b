package dev.crunchguard.dispatch;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A one-shot stop signal a runner can poll, wait on, or subscribe to. Thread-safe.
 *
 * <pre>{@code
 * Process child = start(container);
 * ctx.cancellation().onCancel(reason -> child.destroy());
 * }</pre>
 */
public final class CancellationSignal {
  private static final Logger log = LoggerFactory.getLogger(CancellationSignal.class);

  private final AtomicReference<@Nullable StopReason> reason = new AtomicReference<>();
  private final CountDownLatch latch = new CountDownLatch(1);
  private final List<Once> callbacks = new CopyOnWriteArrayList<>();

  /** Creates a signal that has not fired. */
  public CancellationSignal() {}

  /**
   * Fires the signal; only the first reason is kept and callbacks run once.
   *
   * @param why the reason
   * @return true if this call fired it, false if it had already fired
   */
  public boolean cancel(StopReason why) {
    Objects.requireNonNull(why, "why");
    if (!reason.compareAndSet(null, why)) {
      return false;
    }
    latch.countDown();
    for (Once c : callbacks) {
      c.run(why);
    }
    return true;
  }

  /** @return true once the signal has fired */
  public boolean isCancelled() {
    return reason.get() != null;
  }

  /** @return why the signal fired, or null if it has not */
  public @Nullable StopReason reason() {
    return reason.get();
  }

  /**
   * Waits for the signal.
   *
   * @param timeout how long to wait at most
   * @return true if the signal fired, false on timeout
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean await(Duration timeout) throws InterruptedException {
    return latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Runs a callback when the signal fires (at once, on this thread, if it already has). A callback's
   * exception is logged and ignored.
   *
   * @param callback receives the reason
   */
  public void onCancel(java.util.function.Consumer<StopReason> callback) {
    Objects.requireNonNull(callback, "callback");
    Once once = new Once(callback);
    callbacks.add(once);
    StopReason r = reason.get();
    if (r != null) {
      once.run(r);
    }
  }

  /** Runs its callback at most once, whichever thread gets there first. */
  private static final class Once {
    private final java.util.function.Consumer<StopReason> callback;
    private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

    Once(java.util.function.Consumer<StopReason> callback) {
      this.callback = callback;
    }

    void run(StopReason r) {
      if (done.compareAndSet(false, true)) {
        try {
          callback.accept(r);
        } catch (RuntimeException e) {
          log.warn("cancellation callback threw {}", e.toString());
        }
      }
    }
  }

  @Override
  public String toString() {
    StopReason r = reason.get();
    return r == null ? "CancellationSignal{active}" : "CancellationSignal{" + r + '}';
  }
}
