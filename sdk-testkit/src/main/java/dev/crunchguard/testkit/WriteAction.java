package dev.crunchguard.testkit;

/** The kind of container write recorded in the {@link HistoryEvent history}. */
public enum WriteAction {
  /** {@code POST /arvados/v1/containers} (or a direct {@link ArvadosSimulator#createContainer}). */
  CREATE,
  /** {@code PUT}/{@code PATCH /arvados/v1/containers/{uuid}}. */
  UPDATE,
  /** {@code POST /arvados/v1/containers/{uuid}/lock}. */
  LOCK,
  /** {@code POST /arvados/v1/containers/{uuid}/unlock}. */
  UNLOCK,
  /** {@code DELETE /arvados/v1/containers/{uuid}}. */
  DELETE
}
