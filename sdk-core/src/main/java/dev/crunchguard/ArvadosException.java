package dev.crunchguard;

import org.jspecify.annotations.Nullable;

/**
 * Root of every exception thrown by Crunch Guard. Unchecked.
 *
 * <p>Subtypes: {@link ArvadosServiceException} (the server answered with an error), {@link
 * ArvadosTransportException} (no usable answer: I/O failure or timeout, after retries), and {@link
 * LostOwnershipException} (this process's lock epoch has ended). Messages never contain an API
 * token or a container token.
 */
public class ArvadosException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message and an optional cause.
   *
   * @param message what went wrong, free of secrets
   * @param cause the underlying failure, or null
   */
  public ArvadosException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong, free of secrets
   */
  public ArvadosException(String message) {
    super(message);
  }
}
