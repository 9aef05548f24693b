/**
 * A client for the Arvados websocket event service (arvados-ws): {@link
 * dev.crunchguard.events.EventStream} connects, subscribes, stays alive across disconnects and
 * hands typed {@link dev.crunchguard.events.ArvadosEvent}s to a {@link
 * dev.crunchguard.events.EventStreamListener} on its own delivery thread.
 *
 * <p>Events are <em>hints</em>: they carry only a few attributes (never a container's priority or
 * lock holder), some changes produce none, and the server can lose some silently. React to an event
 * by reading the current state from the API; keep polling for correctness. Start with {@link
 * dev.crunchguard.events.EventStream#builder}.
 */
@NullMarked
package dev.crunchguard.events;

import org.jspecify.annotations.NullMarked;
