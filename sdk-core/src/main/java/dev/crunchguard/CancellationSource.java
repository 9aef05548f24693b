package dev.crunchguard;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

  /** Set once, through {@link #REASON} (no atomic object per source). */
  private volatile @Nullable StopReason reason;

  private final CountDownLatch latch = new CountDownLatch(1);

  /**
   * The {@link #onCancel} callbacks: an array replaced whole through {@link #CALLBACKS} when one is
   * added (copy on write without a list object and its monitor per source).
   */
  private volatile Once[] callbacks = NONE;

  private static final Once[] NONE = new Once[0];
  private static final VarHandle REASON;
  private static final VarHandle CALLBACKS;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      REASON = l.findVarHandle(CancellationSource.class, "reason", StopReason.class);
      CALLBACKS = l.findVarHandle(CancellationSource.class, "callbacks", Once[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

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
    if (!REASON.compareAndSet(this, null, why)) {
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
    return reason;
  }

  boolean await(Duration timeout) throws InterruptedException {
    return latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  void onCancel(Consumer<StopReason> callback) {
    Objects.requireNonNull(callback, "callback");
    Once once = new Once(callback);
    Once[] now;
    Once[] next;
    do {
      now = callbacks;
      next = Arrays.copyOf(now, now.length + 1);
      next[now.length] = once;
    } while (!CALLBACKS.compareAndSet(this, now, next));
    StopReason r = reason;
    if (r != null) {
      once.run(r);
    }
  }

  /** A callback that runs at most once, whichever of cancel() and onCancel() gets there first. */
  private static final class Once {
    private final Consumer<StopReason> callback;
    private volatile boolean done;
    private static final VarHandle DONE;

    static {
      try {
        DONE = MethodHandles.lookup().findVarHandle(Once.class, "done", boolean.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    Once(Consumer<StopReason> callback) {
      this.callback = callback;
    }

    void run(StopReason r) {
      if (DONE.compareAndSet(this, false, true)) {
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
