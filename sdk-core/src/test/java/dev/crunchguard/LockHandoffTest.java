package dev.crunchguard;

import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.LockHandoff.ENV_AUTH_UUID;
import static dev.crunchguard.LockHandoff.ENV_CONTAINER_UUID;
import static dev.crunchguard.LockHandoff.ENV_LOCKED_BY_UUID;
import static dev.crunchguard.LockHandoff.ENV_LOCK_COUNT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a dispatcher hands a runner: round trip through the environment, and its errors. */
class LockHandoffTest {

  @Test
  void fencedHandoff_roundTripsThroughTheEnvironment() {
    LockHandoff h = LockHandoff.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);

    Map<String, String> env = h.toEnvironment();

    assertThat(env).containsExactlyInAnyOrderEntriesOf(Map.of(
        ENV_CONTAINER_UUID, CONTAINER, ENV_AUTH_UUID, AUTH_A, ENV_LOCKED_BY_UUID, DISPATCHER_TOKEN_UUID, ENV_LOCK_COUNT, "3"));
    assertThat(LockHandoff.fromEnvironment(env)).isEqualTo(h).hasSameHashCodeAs(h);
  }

  @Test
  void fencedHandoff_withUnknownParts_leavesThemOut() {
    LockHandoff h = LockHandoff.of(CONTAINER, AUTH_A, null, null);

    assertThat(h.toEnvironment()).containsOnlyKeys(ENV_CONTAINER_UUID, ENV_AUTH_UUID);
    LockHandoff back = LockHandoff.fromEnvironment(h.toEnvironment());
    assertThat(back).isEqualTo(h);
    assertThat(back.lockedByUuid()).isNull();
    assertThat(back.lockCount()).isNull();
  }

  @Test
  void unfencedHandoff_roundTrips() {
    LockHandoff h = LockHandoff.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, 12L);
    assertThat(h.toEnvironment()).doesNotContainKey(ENV_AUTH_UUID);
    assertThat(LockHandoff.fromEnvironment(h.toEnvironment())).isEqualTo(h);
  }

  @Test
  void handoff_survivesAChildProcessEnvironment() {
    LockHandoff h = LockHandoff.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);
    ProcessBuilder pb = new ProcessBuilder("true");
    pb.environment().putAll(h.toEnvironment());
    assertThat(LockHandoff.fromEnvironment(pb.environment())).isEqualTo(h);
  }

  @Test
  void fromEnvironment_trimsValues_andTreatsBlankAsAbsent() {
    Map<String, String> env = new HashMap<>();
    env.put(ENV_CONTAINER_UUID, " " + CONTAINER + "\n");
    env.put(ENV_AUTH_UUID, AUTH_A + " ");
    env.put(ENV_LOCKED_BY_UUID, "   ");
    env.put(ENV_LOCK_COUNT, "");
    env.put("PATH", "/usr/bin");
    assertThat(LockHandoff.fromEnvironment(env)).isEqualTo(LockHandoff.of(CONTAINER, AUTH_A, null, null));
  }

  @Test
  void toEnvironment_isUnmodifiable() {
    assertThatThrownBy(() -> LockHandoff.of(CONTAINER, AUTH_A, null, null).toEnvironment().put("X", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void fromEnvironment_withoutContainer_saysNoLockWasHandedOver() {
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_AUTH_UUID, AUTH_A)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(ENV_CONTAINER_UUID);
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_CONTAINER_UUID, " ")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(ENV_CONTAINER_UUID);
  }

  @Test
  void fromEnvironment_rejectsMalformedValues() {
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_CONTAINER_UUID, CONTAINER, ENV_AUTH_UUID, AUTH_A, ENV_LOCK_COUNT, "three")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(ENV_LOCK_COUNT);
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_CONTAINER_UUID, CONTAINER, ENV_AUTH_UUID, AUTH_A, ENV_LOCK_COUNT, "0")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lock_count");
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_CONTAINER_UUID, "zzzzz-dz642-short", ENV_AUTH_UUID, AUTH_A)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("container uuid");
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_CONTAINER_UUID, CONTAINER, ENV_AUTH_UUID, "zzzzz-tpzed-xurymjxw79nv3jz")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auth_uuid");
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_CONTAINER_UUID, CONTAINER, ENV_AUTH_UUID, AUTH_A, ENV_LOCKED_BY_UUID, "me")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("locked_by_uuid");
  }

  @Test
  void unfencedHandoff_needsLockedBy_lockCountOptional() {
    assertThat(LockHandoff.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, null).lockCount()).isNull();
    assertThatThrownBy(() -> LockHandoff.of(CONTAINER, null, null, 3L)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unfenced");
    assertThatThrownBy(() -> LockHandoff.fromEnvironment(Map.of(ENV_CONTAINER_UUID, CONTAINER))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void handoff_carriesNothingSecret_andPrintsItsParts() {
    LockHandoff h = LockHandoff.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);
    assertThat(h.toString()).contains(CONTAINER).contains(AUTH_A).contains(DISPATCHER_TOKEN_UUID).contains("lock_count=3");
    assertThat(h).isNotEqualTo(LockHandoff.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 4L));
    assertThat(h).isNotEqualTo(LockHandoff.of(CONTAINER, Fixtures.AUTH_B, DISPATCHER_TOKEN_UUID, 3L));
  }
}
