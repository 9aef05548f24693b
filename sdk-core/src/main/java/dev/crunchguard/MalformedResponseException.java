package dev.crunchguard;

/**
 * The server answered, but the SDK could not decode the answer: invalid or truncated JSON, a value
 * of the wrong type, an HTML page where JSON was expected, an empty body, or a body larger than the
 * SDK accepts. {@link #status()} is the HTTP status that came with it (often 200) and
 * {@link #bodyExcerpt()} a short excerpt, with anything that looks like a token removed.
 */
public final class MalformedResponseException extends ArvadosApiException {
  private static final long serialVersionUID = 1L;

  MalformedResponseException(ArvadosApiException source) {
    super(source);
  }
}
