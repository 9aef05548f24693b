package dev.crunchguard;

import java.time.Duration;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A read-only view of a stop request: a runner watches it to learn that it must stop, and why
 * ({@link StopReason}); only the owner of the matching {@link CancellationSource} can fire it.
 * Fires at most once; thread-safe.
 *
 * <pre>{@code
 * ctx.cancellation().onCancel(reason -> child.destroy());
 * if (ctx.cancellation().await(Duration.ofMinutes(5))) { ... }
 * }</pre>
 */
public final class CancellationSignal {
  private final CancellationSource source;

  CancellationSignal(CancellationSource source) {
    this.source = source;
  }

  /**
   * @return true once the signal has fired
   */
  public boolean isCancelled() {
    return source.reason() != null;
  }

  /**
   * @return why the signal fired, or null while it has not
   */
  public @Nullable StopReason reason() {
    return source.reason();
  }

  /**
   * Waits until the signal fires.
   *
   * @param timeout how long to wait at most
   * @return true if it fired, false on timeout
   * @throws InterruptedException if interrupted
   */
  public boolean await(Duration timeout) throws InterruptedException {
    return source.await(timeout);
  }

  /**
   * Runs {@code callback} once when the signal fires, on the firing thread; at once on this thread
   * if it has already fired. A callback's exception is logged and does not stop the others.
   *
   * @param callback receives the reason
   */
  public void onCancel(Consumer<StopReason> callback) {
    source.onCancel(callback);
  }

  @Override
  public String toString() {
    StopReason r = source.reason();
    return r == null ? "CancellationSignal{active}" : "CancellationSignal{" + r + '}';
  }
}
