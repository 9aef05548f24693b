package dev.crunchguard;

import org.jspecify.annotations.Nullable;

/**
 * A call failed on this side of the wire: no usable answer arrived ({@link
 * ArvadosTransportException}), or the answer could not be decoded ({@link
 * MalformedResponseException}). For a write, whether the server applied it is unknown.
 */
public abstract class ArvadosClientException extends ArvadosException {
  private static final long serialVersionUID = 1L;

  /** The request id of the failed call. */
  private final String requestId;

  ArvadosClientException(String message, String requestId, @Nullable Throwable cause) {
    super(message, cause);
    this.requestId = requestId;
  }

  /**
   * The {@code X-Request-Id} sent with every attempt of the failed call.
   *
   * @return the request id, {@code req-} followed by 20 base-36 characters
   */
  public String requestId() {
    return requestId;
  }
}
