package dev.crunchguard;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The firing side of a stop request: whoever owns a run (a dispatcher, a {@code RunnerContext})
 * keeps the source and hands out only its read-only {@link #signal()}, so that the code doing the
 * work can watch for the request but never raise it. Fires at most once; thread-safe.
 *
 * <pre>{@code
 * CancellationSource source = new CancellationSource();
 * runInBackground(source.signal());          // watches: signal.onCancel(r -> child.destroy())
 * ...
 * source.cancel(StopReason.PRIORITY_ZERO);   // only the owner can do this
 * }</pre>
 */
public final class CancellationSource {
  private static final Logger log = LoggerFactory.getLogger(CancellationSource.class);

  private final AtomicReference<@Nullable StopReason> reason = new AtomicReference<>();
  private final CountDownLatch latch = new CountDownLatch(1);
  private final List<Once> callbacks = new CopyOnWriteArrayList<>();
  private final CancellationSignal signal = new CancellationSignal(this);

  /** A source that has not fired. */
  public CancellationSource() {}

  /**
   * Fires the signal with {@code why}, running its callbacks on this thread. Only the first call
   * has an effect.
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

  /**
   * @return the read-only view to give to the code that does the work
   */
  public CancellationSignal signal() {
    return signal;
  }

  @Nullable StopReason reason() {
    return reason.get();
  }

  boolean await(Duration timeout) throws InterruptedException {
    return latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  void onCancel(Consumer<StopReason> callback) {
    Objects.requireNonNull(callback, "callback");
    Once once = new Once(callback);
    callbacks.add(once);
    StopReason r = reason.get();
    if (r != null) {
      once.run(r);
    }
  }

  /** A callback that runs at most once, whichever of cancel() and onCancel() gets there first. */
  private static final class Once {
    private final Consumer<StopReason> callback;
    private final AtomicBoolean done = new AtomicBoolean();

    Once(Consumer<StopReason> callback) {
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
    return "CancellationSource{" + signal + '}';
  }
}
