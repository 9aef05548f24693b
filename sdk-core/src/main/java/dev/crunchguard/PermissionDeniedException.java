package dev.crunchguard;

/**
 * The token may not do this (HTTP 403): for example an unlock by a token other than the locker, or
 * an update by a non-admin.
 */
public final class PermissionDeniedException extends ArvadosServiceException {
  private static final long serialVersionUID = 1L;

  PermissionDeniedException(ErrorDetails details) {
    super(details);
  }
}
