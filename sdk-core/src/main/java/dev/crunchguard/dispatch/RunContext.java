package dev.crunchguard.dispatch;

import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;

/**
 * What a {@link ContainerRunner} gets for one won lock.
 *
 * @param lock this dispatcher's hold on the container's new epoch
 * @param container the container as seen by the poll that led to the lock
 * @param cancellation fires when the runner must stop, with the reason
 */
public record RunContext(ContainerLock lock, Container container, CancellationSignal cancellation) {
  /** @return the container's uuid */
  public String containerUuid() {
    return lock.containerUuid();
  }
}
