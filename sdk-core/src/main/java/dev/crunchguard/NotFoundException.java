package dev.crunchguard;

/** The container does not exist or is not readable with this token (HTTP 404). */
public final class NotFoundException extends ArvadosServiceException {
  private static final long serialVersionUID = 1L;

  NotFoundException(ErrorDetails details) {
    super(details);
  }
}
