package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every server text the SDK recognises, pinned against the texts the real Arvados RailsAPI sends
 * (as recorded from the server in {@code shared/arvados-real}, with the request-id suffix every
 * message carries), and the meaning each must get. A change of wording on the server, or of a
 * literal here, fails this table.
 */
class RefusalTest {
  private static final String REQ = " (req-8ro0rkm6wbe3m1wbrmnb)";

  static Stream<Arguments> realServerTexts() {
    return Stream.of(
        // PUT with a stale auth_uuid: whitelist_update.rb, then container.rb assign_auth
        Arguments.of(
            422,
            List.of(
                "Auth uuid cannot be modified in state 'Running' (\"zzzzz-gj3su-bbbbbbbbbbbbbbb\", \"zzzzz-gj3su-aaaaaaaaaaaaaaa\")",
                "Auth uuid is readonly"),
            Refusal.STALE_EPOCH),
        Arguments.of(422, List.of("Auth uuid is readonly"), Refusal.STALE_EPOCH),
        Arguments.of(
            422,
            List.of(
                "Auth uuid cannot be modified in state 'Locked' (nil, \"zzzzz-gj3su-aaaaaaaaaaaaaaa\")"),
            Refusal.STALE_EPOCH),
        // unlock (POST or PUT state Queued) by a second admin token: container.rb check_unlock
        Arguments.of(
            403,
            List.of("#<ArvadosModel::PermissionDeniedError: locked by a different token>"),
            Refusal.OTHER_HOLDER),
        // GET .../auth by a token that does not hold the lock: containers_controller.rb
        Arguments.of(
            403,
            List.of("#<ArvadosModel::PermissionDeniedError: Not locked by your token>"),
            Refusal.OTHER_HOLDER),
        // an update by a non-admin: no message, the class name twice
        Arguments.of(
            403,
            List.of("#<ArvadosModel::PermissionDeniedError: ArvadosModel::PermissionDeniedError>"),
            Refusal.FORBIDDEN),
        // lock when not Queued, and at priority 0: container.rb lock
        Arguments.of(
            422,
            List.of("#<ArvadosModel::LockFailedError: cannot lock when Locked>"),
            Refusal.NOT_LOCKABLE),
        Arguments.of(
            422,
            List.of("#<ArvadosModel::LockFailedError: cannot lock when Running>"),
            Refusal.NOT_LOCKABLE),
        Arguments.of(
            422,
            List.of("#<ArvadosModel::LockFailedError: cannot lock when priority<=0>"),
            Refusal.PRIORITY_ZERO),
        // unlock when not Locked: container.rb unlock
        Arguments.of(
            422,
            List.of("#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Queued>"),
            Refusal.NOT_UNLOCKABLE),
        // the second admin token's progress write: a field the caller may not write, not an epoch
        // change
        Arguments.of(
            422,
            List.of("Progress cannot be modified in state 'Running' (nil, 0.5)"),
            Refusal.CALLERS_FIELD),
        Arguments.of(
            422,
            List.of("Exit code cannot be modified in state 'Locked' (nil, 0)"),
            Refusal.CALLERS_FIELD),
        // a container with no runtime_user_uuid: container.rb assign_auth (legacy path)
        Arguments.of(
            422,
            List.of("Auth uuid cannot be assigned because priority <= 0"),
            Refusal.CALLERS_FIELD),
        Arguments.of(401, List.of("Not logged in"), Refusal.UNAUTHORIZED),
        Arguments.of(404, List.of("Path not found"), Refusal.NOT_FOUND),
        Arguments.of(502, List.of(), Refusal.SERVER_ERROR),
        Arguments.of(409, List.of("conflict"), Refusal.OTHER));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("realServerTexts")
  void eachRealServerText_getsItsMeaning(int status, List<String> messages, Refusal expected) {
    List<String> withRequestIds = messages.stream().map(m -> m + REQ).toList();
    ErrorDetails d =
        new ErrorDetails(
            "update container", status, withRequestIds, "1700000000+0a1b2c3d", "req-x", null);

    assertThat(Refusal.of(d)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("realServerTexts")
  void theMeaningNeverDependsOnWhichMessageComesFirst(
      int status, List<String> messages, Refusal expected) {
    List<String> reversed = new java.util.ArrayList<>(messages);
    java.util.Collections.reverse(reversed);
    ErrorDetails d = new ErrorDetails("update container", status, reversed, null, "req-x", null);

    assertThat(Refusal.of(d)).isEqualTo(expected);
  }
}
