package dev.crunchguard;

/**
 * The token was missing, unknown or expired (HTTP 401). A runner writing with the container's own token gets this once the container has been requeued or finished; through a {@link ContainerLock} that case is reported as {@link LostOwnershipException} instead.
 */
public final class UnauthorizedException extends ArvadosApiException {
  private static final long serialVersionUID = 1L;

  UnauthorizedException(ArvadosApiException source) {
    super(source);
  }
}
