package dev.crunchguard.events;

import dev.crunchguard.ContainerState;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One side ({@code old_attributes} or {@code new_attributes}) of an event's {@code properties}, as
 * arvados-ws sends it: cut down to at most six attributes. Each is null when the server did not
 * send it; for a container only {@code owner_uuid} and {@code state} are sent. Priority, lock
 * holder, {@code auth_uuid} and the rest are never in the stream: read the record from the API.
 *
 * <pre>{@code
 * Optional<ContainerState> now = event.newSide().flatMap(EventAttributes::containerState);
 * }</pre>
 *
 * @param ownerUuid {@code owner_uuid}
 * @param state {@code state}, as the API spells it (for a container, for example {@code "Queued"})
 * @param name {@code name}
 * @param portableDataHash {@code portable_data_hash}
 * @param requestingContainerUuid {@code requesting_container_uuid}
 * @param isTrashed {@code is_trashed}
 */
public record EventAttributes(
    @Nullable String ownerUuid,
    @Nullable String state,
    @Nullable String name,
    @Nullable String portableDataHash,
    @Nullable String requestingContainerUuid,
    @Nullable Boolean isTrashed) {

  /**
   * The state read as a container state.
   *
   * @return the state, {@link ContainerState#UNKNOWN} for a name this SDK does not know, or empty
   *     when the side carries no state
   */
  public Optional<ContainerState> containerState() {
    return state == null ? Optional.empty() : Optional.of(ContainerState.fromWire(state));
  }
}
