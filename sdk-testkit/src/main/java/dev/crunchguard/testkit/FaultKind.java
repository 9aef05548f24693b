package dev.crunchguard.testkit;

/** The faults the simulator can inject (for race and retry tests). */
public enum FaultKind {
  /**
   * Apply the request normally, then close the connection without any response. The client sees an
   * I/O error although the write happened.
   */
  LOST_RESPONSE,
  /** Answer 502 before applying anything, with a controller-style {@code {"errors":[...]}} body. */
  BAD_GATEWAY,
  /** Answer 503 before applying anything, with a controller-style {@code {"errors":[...]}} body. */
  SERVICE_UNAVAILABLE,
  /** Answer 429 with a {@code Retry-After} header before applying anything. */
  TOO_MANY_REQUESTS,
  /** Sleep before handling the request, then handle it normally. */
  DELAY,
  /**
   * Close the connection before applying anything, without a response. The JDK HTTP server cannot
   * send a TCP RST, so the client sees the same end-of-stream I/O error as for {@link
   * #LOST_RESPONSE}; the difference is that nothing was applied.
   */
  CONNECTION_RESET
}
