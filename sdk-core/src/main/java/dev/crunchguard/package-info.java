/**
 * Crunch Guard: a typed, fenced client for the Arvados containers API.
 *
 * <p>Start with {@link dev.crunchguard.ArvadosClient}. A dispatcher locks a queued container with
 * {@link dev.crunchguard.Containers#lock(String)} and receives a {@link
 * dev.crunchguard.ContainerLock}: this process's hold on one lock epoch of one container. Every
 * write through the lock carries the container's {@code auth_uuid} as known at lock time, so the
 * Arvados server itself refuses the write once the container has been unlocked and locked again,
 * and the SDK reports that refusal as a {@link dev.crunchguard.LostOwnershipException}.
 *
 * <p>All exceptions are unchecked and extend {@link dev.crunchguard.ArvadosException}. Types in
 * this package are immutable and thread-safe unless documented otherwise. Nothing in this package
 * ever logs, prints or puts into an exception message an API token or a container token.
 */
@NullMarked
package dev.crunchguard;

import org.jspecify.annotations.NullMarked;
