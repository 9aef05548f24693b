package dev.crunchguard.events;

/**
 * Why an {@link EventStream} may have missed events. On any gap, re-read what you care about from
 * the API (for a dispatcher: list the queue); events after the notification are delivered as usual.
 *
 * <pre>{@code
 * public void onGap(GapReason reason) {
 *   pollNow();   // the stream cannot vouch for what happened before this point
 * }
 * }</pre>
 */
public enum GapReason {
  /**
   * The stream subscribed without a {@code last_log_id}: on the first connection (unless {@link
   * EventStream.Builder#resumeAfter(long)} was given), or on a reconnection before any event was
   * seen. Nothing from before the subscription is replayed. Reported once the server has
   * acknowledged the subscription, so a list made after it misses nothing the stream would not
   * deliver.
   */
  NOT_RESUMED,
  /**
   * The stream was down (or silent) longer than the server's replay window ({@code last_log_id}
   * replays only events of the last 10 minutes), so the replay after reconnecting cannot cover the
   * whole outage.
   */
  REPLAY_WINDOW_EXCEEDED,
  /**
   * The delivery queue was full (the listener was slower than the stream) and at least one event
   * was dropped.
   */
  DELIVERY_OVERFLOW,
  /** A frame that carried an event id could not be decoded, so that event is lost. */
  UNDECODABLE_EVENT
}
