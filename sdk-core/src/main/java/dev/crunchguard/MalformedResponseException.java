package dev.crunchguard;

import org.jspecify.annotations.Nullable;

/**
 * The server answered, but the SDK could not decode the answer: invalid or truncated JSON, a value
 * of the wrong type, an HTML page where JSON was expected, an empty body, or a body larger than the
 * SDK accepts. {@link #status()} is the HTTP status that came with it (often 200) and {@link
 * #bodyExcerpt()} a short excerpt, with anything that looks like a token removed. For a write, the
 * server may have applied it.
 */
public final class MalformedResponseException extends ArvadosClientException {
  private static final long serialVersionUID = 1L;

  /** The HTTP status of the undecodable answer. */
  private final int status;

  /** A redacted excerpt, or null. */
  private final @Nullable String bodyExcerpt;

  MalformedResponseException(
      String message, int status, String requestId, @Nullable String bodyExcerpt) {
    super(message + " [" + requestId + ']', requestId, null);
    this.status = status;
    this.bodyExcerpt = bodyExcerpt;
  }

  /**
   * The HTTP status of the undecodable answer.
   *
   * @return the status, for example 200
   */
  public int status() {
    return status;
  }

  /**
   * A short, secret-free excerpt of the body.
   *
   * @return the excerpt, or null when the body was empty
   */
  public @Nullable String bodyExcerpt() {
    return bodyExcerpt;
  }
}
