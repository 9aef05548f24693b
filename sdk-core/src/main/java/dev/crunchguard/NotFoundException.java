package dev.crunchguard;

/**
 * The container (or path) does not exist or is not readable with this token (HTTP 404).
 */
public final class NotFoundException extends ArvadosApiException {
  private static final long serialVersionUID = 1L;

  NotFoundException(ArvadosApiException source) {
    super(source);
  }
}
