package dev.crunchguard.dispatch;

/**
 * The state of a {@link Dispatcher}'s event stream ({@link Dispatcher.Builder#events(boolean)}).
 * Whatever it is, the dispatcher keeps its periodic poll; events only make it poll sooner.
 *
 * <pre>{@code
 * if (dispatcher.stats().eventStream() == EventStreamStatus.DOWN) {
 *   log.info("dispatching by polling only");
 * }
 * }</pre>
 */
public enum EventStreamStatus {
  /** Events are not used: built with {@code events(false)}, not started, or closed. */
  OFF,
  /** Started, and no connection has opened or failed yet. */
  CONNECTING,
  /** Connected: events trigger polls. */
  UP,
  /**
   * Not connected (the cluster has no websocket service, it is unreachable, or the connection was
   * lost): polling only.
   */
  DOWN
}
