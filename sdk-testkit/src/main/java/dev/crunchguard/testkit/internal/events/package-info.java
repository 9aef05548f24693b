/**
 * The simulator's event stream, modelled on arvados-ws (protocol v0 at {@code /websocket}): the
 * event log the simulator writes to ({@link dev.crunchguard.testkit.internal.events.EventLog}) and
 * the websocket server that serves it ({@link
 * dev.crunchguard.testkit.internal.events.EventServer}).
 *
 * <p><strong>Not API.</strong> Public only because the simulator in {@code dev.crunchguard.testkit}
 * uses it; users reach the stream through {@code ArvadosSimulator.Builder#events(boolean)} and
 * {@code ArvadosSimulator#events()}. Anything here may change without notice.
 */
@NullMarked
package dev.crunchguard.testkit.internal.events;

import org.jspecify.annotations.NullMarked;
