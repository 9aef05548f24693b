package dev.crunchguard;

import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.LockEpoch.ENV_AUTH_UUID;
import static dev.crunchguard.LockEpoch.ENV_CONTAINER_UUID;
import static dev.crunchguard.LockEpoch.ENV_LOCKED_BY_UUID;
import static dev.crunchguard.LockEpoch.ENV_LOCK_COUNT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The epoch: what a dispatcher hands a runner (through the environment), and the one rule that
 * judges a record.
 */
class LockEpochTest {

  @Test
  void fencedHandoff_roundTripsThroughTheEnvironment() {
    LockEpoch h = LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);

    Map<String, String> env = h.toEnvironment();

    assertThat(env)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                ENV_CONTAINER_UUID,
                CONTAINER,
                ENV_AUTH_UUID,
                AUTH_A,
                ENV_LOCKED_BY_UUID,
                DISPATCHER_TOKEN_UUID,
                ENV_LOCK_COUNT,
                "3"));
    assertThat(LockEpoch.fromEnvironment(env)).isEqualTo(h).hasSameHashCodeAs(h);
  }

  @Test
  void fencedHandoff_withUnknownParts_leavesThemOut() {
    LockEpoch h = LockEpoch.of(CONTAINER, AUTH_A, null, null);

    assertThat(h.toEnvironment()).containsOnlyKeys(ENV_CONTAINER_UUID, ENV_AUTH_UUID);
    LockEpoch back = LockEpoch.fromEnvironment(h.toEnvironment());
    assertThat(back).isEqualTo(h);
    assertThat(back.lockedByUuid()).isNull();
    assertThat(back.lockCount()).isNull();
  }

  @Test
  void unfencedHandoff_roundTrips() {
    LockEpoch h = LockEpoch.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, 12L);
    assertThat(h.toEnvironment()).doesNotContainKey(ENV_AUTH_UUID);
    assertThat(LockEpoch.fromEnvironment(h.toEnvironment())).isEqualTo(h);
  }

  @Test
  void handoff_survivesAChildProcessEnvironment() {
    LockEpoch h = LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);
    ProcessBuilder pb = new ProcessBuilder("true");
    pb.environment().putAll(h.toEnvironment());
    assertThat(LockEpoch.fromEnvironment(pb.environment())).isEqualTo(h);
  }

  @Test
  void fromEnvironment_trimsValues_andTreatsBlankAsAbsent() {
    Map<String, String> env = new HashMap<>();
    env.put(ENV_CONTAINER_UUID, " " + CONTAINER + "\n");
    env.put(ENV_AUTH_UUID, AUTH_A + " ");
    env.put(ENV_LOCKED_BY_UUID, "   ");
    env.put(ENV_LOCK_COUNT, "");
    env.put("PATH", "/usr/bin");
    assertThat(LockEpoch.fromEnvironment(env))
        .isEqualTo(LockEpoch.of(CONTAINER, AUTH_A, null, null));
  }

  @Test
  void toEnvironment_isUnmodifiable() {
    assertThatThrownBy(
            () -> LockEpoch.of(CONTAINER, AUTH_A, null, null).toEnvironment().put("X", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void fromEnvironment_withoutContainer_saysNoLockWasHandedOver() {
    assertThatThrownBy(() -> LockEpoch.fromEnvironment(Map.of(ENV_AUTH_UUID, AUTH_A)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(ENV_CONTAINER_UUID);
    assertThatThrownBy(() -> LockEpoch.fromEnvironment(Map.of(ENV_CONTAINER_UUID, " ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(ENV_CONTAINER_UUID);
  }

  @Test
  void fromEnvironment_rejectsMalformedValues() {
    assertThatThrownBy(
            () ->
                LockEpoch.fromEnvironment(
                    Map.of(
                        ENV_CONTAINER_UUID,
                        CONTAINER,
                        ENV_AUTH_UUID,
                        AUTH_A,
                        ENV_LOCK_COUNT,
                        "three")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(ENV_LOCK_COUNT);
    assertThatThrownBy(
            () ->
                LockEpoch.fromEnvironment(
                    Map.of(
                        ENV_CONTAINER_UUID, CONTAINER, ENV_AUTH_UUID, AUTH_A, ENV_LOCK_COUNT, "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lock_count");
    assertThatThrownBy(
            () ->
                LockEpoch.fromEnvironment(
                    Map.of(ENV_CONTAINER_UUID, "zzzzz-dz642-short", ENV_AUTH_UUID, AUTH_A)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("container uuid");
    assertThatThrownBy(
            () ->
                LockEpoch.fromEnvironment(
                    Map.of(
                        ENV_CONTAINER_UUID,
                        CONTAINER,
                        ENV_AUTH_UUID,
                        "zzzzz-tpzed-xurymjxw79nv3jz")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("auth_uuid");
    assertThatThrownBy(
            () ->
                LockEpoch.fromEnvironment(
                    Map.of(
                        ENV_CONTAINER_UUID,
                        CONTAINER,
                        ENV_AUTH_UUID,
                        AUTH_A,
                        ENV_LOCKED_BY_UUID,
                        "me")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("locked_by_uuid");
  }

  @Test
  void unfencedHandoff_needsLockedBy_lockCountOptional() {
    assertThat(LockEpoch.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, null).lockCount()).isNull();
    assertThatThrownBy(() -> LockEpoch.of(CONTAINER, null, null, 3L))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unfenced");
    assertThatThrownBy(() -> LockEpoch.fromEnvironment(Map.of(ENV_CONTAINER_UUID, CONTAINER)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void handoff_carriesNothingSecret_andPrintsItsParts() {
    LockEpoch h = LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);
    assertThat(h.toString())
        .contains(CONTAINER)
        .contains(AUTH_A)
        .contains(DISPATCHER_TOKEN_UUID)
        .contains("lock_count=3");
    assertThat(h).isNotEqualTo(LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 4L));
    assertThat(h).isNotEqualTo(LockEpoch.of(CONTAINER, Fixtures.AUTH_B, DISPATCHER_TOKEN_UUID, 3L));
  }

  // ---- the one rule: isCurrentIn ----

  private static Container rec(String json) {
    return Container.fromJson(com.google.gson.JsonParser.parseString(json).getAsJsonObject());
  }

  private static Container rec(String state, String authUuid, String lockedBy, Long lockCount) {
    return Container.fromJson(
        Fixtures.record(CONTAINER, state, authUuid, lockedBy, lockCount == null ? 0 : lockCount));
  }

  @Test
  void fencedEpoch_isCurrentWhileLockedOrRunningWithItsAuthUuid_only() {
    LockEpoch e = LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);

    assertThat(e.isCurrentIn(rec("Locked", AUTH_A, DISPATCHER_TOKEN_UUID, 3L))).isTrue();
    assertThat(e.isCurrentIn(rec("Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3L))).isTrue();
    // a re-lock by the same token: same locked_by_uuid, new auth_uuid
    assertThat(e.isCurrentIn(rec("Locked", Fixtures.AUTH_B, DISPATCHER_TOKEN_UUID, 4L))).isFalse();
    assertThat(e.isCurrentIn(rec("Queued", null, null, 3L))).isFalse();
    assertThat(e.isCurrentIn(rec("Complete", null, null, 3L))).isFalse();
    assertThat(e.isCurrentIn(rec("Cancelled", AUTH_A, DISPATCHER_TOKEN_UUID, 3L))).isFalse();
    // without auth_uuid in the record a fenced epoch cannot be confirmed
    assertThat(e.isCurrentIn(rec("{\"uuid\":\"" + CONTAINER + "\",\"state\":\"Running\"}")))
        .isFalse();
  }

  @Test
  void unfencedEpoch_isJudgedByLockedByAndLockCount_andAMissingLockCountIsNoEvidence() {
    LockEpoch e = LockEpoch.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, 3L);

    assertThat(e.isCurrentIn(rec("Running", null, DISPATCHER_TOKEN_UUID, 3L))).isTrue();
    assertThat(e.isCurrentIn(rec("Running", null, DISPATCHER_TOKEN_UUID, 4L)))
        .as("locked again")
        .isFalse();
    assertThat(e.isCurrentIn(rec("Running", null, Fixtures.OTHER_DISPATCHER_UUID, 3L))).isFalse();
    assertThat(e.isCurrentIn(rec("Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3L)))
        .as("now fenced: another epoch")
        .isFalse();
    String noLockCount =
        "{\"uuid\":\""
            + CONTAINER
            + "\",\"state\":\"Locked\",\"auth_uuid\":null,"
            + "\"locked_by_uuid\":\""
            + DISPATCHER_TOKEN_UUID
            + "\"}";
    assertThat(e.isCurrentIn(rec(noLockCount))).isTrue();
    assertThat(
            LockEpoch.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, null)
                .isCurrentIn(rec("Locked", null, DISPATCHER_TOKEN_UUID, 9L)))
        .as("lock_count unknown to the holder")
        .isTrue();
  }

  @Test
  void aRecordOfAnotherContainer_isRefused_notJudged() {
    LockEpoch e = LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L);
    Container other =
        Container.fromJson(
            Fixtures.record(Fixtures.OTHER_CONTAINER, "Locked", AUTH_A, DISPATCHER_TOKEN_UUID, 3));

    assertThatThrownBy(() -> e.isCurrentIn(other))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Fixtures.OTHER_CONTAINER);
  }

  @Test
  void epochOfARecord_takesItsFourFields() {
    LockEpoch e = LockEpoch.of(rec("Locked", AUTH_A, DISPATCHER_TOKEN_UUID, 3L));

    assertThat(e).isEqualTo(LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L));
    assertThat(e.isFenced()).isTrue();
  }
}
