/**
 * A dispatcher loop built on {@link dev.crunchguard.ContainerLock}: polls the queue, locks
 * containers, hands each won lock to a {@link dev.crunchguard.dispatch.ContainerRunner}, and tells
 * the runner to stop when its epoch ends (cancelled, priority 0, unlocked, or locked again by
 * anyone, including another process that uses the same token).
 *
 * <p>Start with {@link dev.crunchguard.dispatch.Dispatcher#builder}.
 */
@NullMarked
package dev.crunchguard.dispatch;

import org.jspecify.annotations.NullMarked;
