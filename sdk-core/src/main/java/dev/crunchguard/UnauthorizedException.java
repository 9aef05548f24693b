package dev.crunchguard;

/**
 * The token was refused (HTTP 401): missing, unknown, expired or revoked. A runner writing with its
 * container's own token sees this when the container left Locked/Running; a lock holder reports
 * that as {@link LostOwnershipException} instead.
 */
public final class UnauthorizedException extends ArvadosServiceException {
  private static final long serialVersionUID = 1L;

  UnauthorizedException(ErrorDetails details) {
    super(details);
  }
}
