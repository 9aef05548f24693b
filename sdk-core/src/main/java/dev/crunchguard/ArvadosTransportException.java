package dev.crunchguard;

/**
 * The request got no usable HTTP answer: connection refused or reset, TLS failure, timeout, or a
 * response that was cut off, after every retry the {@link RetryPolicy} allowed.
 *
 * <p>For a write, the outcome on the server is unknown: it may or may not have been applied. A lock
 * holder can call {@link ContainerLock#verify()} to learn whether its epoch is still current.
 */
public final class ArvadosTransportException extends ArvadosClientException {
  private static final long serialVersionUID = 1L;

  /** How many attempts were made. */
  private final int attempts;

  /** Whether an attempt may have reached the server. */
  private final boolean maybeApplied;

  ArvadosTransportException(
      String message, String requestId, int attempts, boolean maybeApplied, Throwable cause) {
    super(
        message + " [" + requestId + ", " + attempts + (attempts == 1 ? " attempt]" : " attempts]"),
        requestId,
        cause);
    this.attempts = attempts;
    this.maybeApplied = maybeApplied;
  }

  /** Whether an attempt may have reached the server (and, for a write, been applied). */
  boolean maybeApplied() {
    return maybeApplied;
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
