package dev.crunchguard;

/**
 * The token is valid but may not do this (HTTP 403): for example a non-admin token updating a container, or unlocking a container locked by another token.
 */
public final class PermissionDeniedException extends ArvadosApiException {
  private static final long serialVersionUID = 1L;

  PermissionDeniedException(ArvadosApiException source) {
    super(source);
  }
}
