package dev.crunchguard.dispatch;

import dev.crunchguard.CancellationSignal;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import java.util.Objects;

/**
 * What a {@link ContainerRunner} gets for one won lock. Thread-safe.
 *
 * <p>The dispatcher cancels a container that its runner left Running only when it has evidence that
 * this run started it: a write through {@link #lock()} that moved it to Running, or {@link
 * #reportStarted()}. A runner that hands the lock to another process (through {@link
 * ContainerLock#epoch()}) calls {@link #reportStarted()} once that process is past its start-up
 * check, so that a crash after it marked the container Running is cleaned up; a runner process that
 * refused to start (the container was not Locked in the handed-off epoch) is no reason to cancel
 * anything.
 */
public final class RunContext {
  private final ContainerLock lock;
  private final Container container;
  private final CancellationSignal cancellation;
  private volatile boolean started;

  RunContext(ContainerLock lock, Container container, CancellationSignal cancellation) {
    this.lock = Objects.requireNonNull(lock, "lock");
    this.container = Objects.requireNonNull(container, "container");
    this.cancellation = Objects.requireNonNull(cancellation, "cancellation");
  }

  /**
   * @return this dispatcher's hold on the container's new epoch
   */
  public ContainerLock lock() {
    return lock;
  }

  /**
   * @return the container as seen by the poll that led to the lock
   */
  public Container container() {
    return container;
  }

  /**
   * @return fires when the runner must stop, with the reason
   */
  public CancellationSignal cancellation() {
    return cancellation;
  }

  /**
   * @return the container's uuid
   */
  public String containerUuid() {
    return lock.containerUuid();
  }

  /**
   * Tells the dispatcher that this run started: the process it handed the lock to got past its
   * start-up check and may have moved the container to Running. Idempotent.
   */
  public void reportStarted() {
    started = true;
  }

  /**
   * Whether this run has evidence of starting the container: {@link #reportStarted()} was called,
   * or a write through {@link #lock()} moved the container to Running.
   *
   * @return true if the run is known to have started
   */
  public boolean isStarted() {
    return started || lock.movedToRunning();
  }

  @Override
  public String toString() {
    return "RunContext{container=" + lock.containerUuid() + ", started=" + isStarted() + '}';
  }
}
