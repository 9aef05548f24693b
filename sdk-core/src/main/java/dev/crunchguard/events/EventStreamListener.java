package dev.crunchguard.events;

/**
 * Receives what an {@link EventStream} sees. Every method is called on the stream's one delivery
 * thread ({@code crunchguard-events-N-delivery}), one call at a time and in the order the stream
 * queued them, never on the socket's reader. A slow method delays later calls, and once the
 * delivery queue is full new events are dropped and {@link #onGap} follows; it never stalls the
 * socket. An exception thrown here is logged and the stream goes on.
 *
 * <pre>{@code
 * EventStreamListener listener = new EventStreamListener() {
 *   public void onEvent(ArvadosEvent e) { if (e.isContainer()) poller.nudge(); }
 *   public void onGap(GapReason why) { poller.nudge(); }
 *   public void onDisconnected(String why) { log.info("events down: {}", why); }
 * };
 * }</pre>
 */
public interface EventStreamListener {
  /**
   * An event not seen before on this stream (de-duplicated by {@link ArvadosEvent#id()}).
   *
   * @param event the event
   */
  void onEvent(ArvadosEvent event);

  /**
   * Events may have been missed: re-read from the API what you care about.
   *
   * @param reason why
   */
  default void onGap(GapReason reason) {}

  /** A connection is open and its subscriptions have been sent. */
  default void onConnected() {}

  /**
   * The open connection ended; the stream reconnects by itself until closed.
   *
   * @param reason a short description, free of secrets
   */
  default void onDisconnected(String reason) {}

  /**
   * A connection attempt failed before the socket opened (the discovery document unreadable, the
   * service unreachable, the upgrade refused); the stream retries by itself with its back-off until
   * closed. Called for every failed attempt.
   *
   * @param reason a short description, free of secrets
   */
  default void onConnectFailed(String reason) {}

  /**
   * The discovery document announces no websocket service: the cluster runs no arvados-ws. That is
   * a deployment choice, not a fault; the stream reads the document again every {@link
   * EventStream.Builder#noServiceRecheck(java.time.Duration) few minutes} until closed, and calls
   * this after every such reading. By default it calls {@link #onConnectFailed}.
   *
   * @param reason a short description, free of secrets
   */
  default void onNoWebsocketService(String reason) {
    onConnectFailed(reason);
  }
}
