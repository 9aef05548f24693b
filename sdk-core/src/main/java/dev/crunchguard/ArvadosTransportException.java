package dev.crunchguard;

/**
 * The request got no usable HTTP answer: connection refused or reset, TLS failure, timeout, or a
 * response that was cut off, after every retry the {@link RetryPolicy} allowed.
 *
 * <p>For a write, the outcome on the server is unknown: it may or may not have been applied. A
 * lock holder can call {@link ContainerLock#verify()} to learn whether its epoch is still current.
 */
public final class ArvadosTransportException extends ArvadosException {
  private static final long serialVersionUID = 1L;

  private final String requestId;
  private final int attempts;
  private final boolean maybeApplied;

  ArvadosTransportException(String message, String requestId, int attempts, boolean maybeApplied, Throwable cause) {
    super(message + " [" + requestId + ", " + attempts + (attempts == 1 ? " attempt]" : " attempts]"), cause);
    this.requestId = requestId;
    this.attempts = attempts;
    this.maybeApplied = maybeApplied;
  }

  /** Whether an attempt may have reached the server (and, for a write, been applied). */
  boolean maybeApplied() {
    return maybeApplied;
  }

  /**
   * The {@code X-Request-Id} sent with every attempt of the failed call.
   *
   * @return the request id, {@code req-} followed by 20 base-36 characters
   */
  public String requestId() {
    return requestId;
  }

  /**
   * How many attempts were made before giving up.
   *
   * @return the number of attempts, at least 1
   */
  public int attempts() {
    return attempts;
  }
}
