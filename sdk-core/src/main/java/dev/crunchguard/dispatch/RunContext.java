package dev.crunchguard.dispatch;

import dev.crunchguard.CancellationSignal;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.Containers;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

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
 *
 * <p>{@link #container()} is the record the poll listed, or, for a container the dispatcher locked
 * straight from an event (see {@link Dispatcher.Builder#events(boolean)}), read from the server on
 * its first call: a lock answer carries only five fields, so a runner that needs the command or the
 * runtime constraints pays one read, and one that does not pays nothing.
 */
public final class RunContext {
  private final ContainerLock lock;
  private final Containers containers;
  private final CancellationSignal cancellation;
  private volatile boolean started;

  /** The listed record, or the one read on the first call of container(); guarded by this. */
  private @Nullable Container container;

  RunContext(
      ContainerLock lock,
      @Nullable Container listed,
      Containers containers,
      CancellationSignal cancellation) {
    this.lock = Objects.requireNonNull(lock, "lock");
    this.container = listed;
    this.containers = Objects.requireNonNull(containers, "containers");
    this.cancellation = Objects.requireNonNull(cancellation, "cancellation");
  }

  /**
   * @return this dispatcher's hold on the container's new epoch
   */
  public ContainerLock lock() {
    return lock;
  }

  /**
   * The container's record: as listed by the poll that led to the lock, or, when the lock was taken
   * straight from an event, read from the server on the first call (one request; later calls return
   * the same record). A read that fails throws, and the next call tries again.
   *
   * @return the container's record from the time of the lock
   * @throws dev.crunchguard.ArvadosException if the record had to be read and the read failed
   */
  public synchronized Container container() {
    Container c = container;
    if (c == null) {
      c = containers.get(lock.containerUuid());
      container = c;
    }
    return c;
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
