package dev.crunchguard;

/**
 * What a refused request means, judged from its status and the server's messages. The only place
 * that knows the server's words: every literal below names the Arvados source that produces it
 * (RailsAPI, {@code services/api} in the Arvados repository), and {@code RefusalTest} pins each one
 * against the texts the real server sends.
 */
enum Refusal {
  /** The write carried an {@code auth_uuid} other than the current one: the epoch changed. */
  STALE_EPOCH,
  /** The token is not the lock holder (an unlock, or {@code GET .../auth}, by another token). */
  OTHER_HOLDER,
  /** A lock of a container that is not Queued. */
  NOT_LOCKABLE,
  /** A lock of a Queued container whose priority is 0. */
  PRIORITY_ZERO,
  /** An unlock of a container that is not Locked. */
  NOT_UNLOCKABLE,
  /**
   * 401: the token is missing, unknown, expired or revoked (a container token is revoked when its
   * epoch ends).
   */
  UNAUTHORIZED,
  /** 404: no such container, or not readable with this token. */
  NOT_FOUND,
  /** Another 422: a field of the caller's was refused (not writable in this state, a bad value). */
  CALLERS_FIELD,
  /** Another 403: not allowed, for a reason the messages do not say. */
  FORBIDDEN,
  /** 5xx: the server failed. */
  SERVER_ERROR,
  /** Any other status. */
  OTHER;

  /**
   * {@code assign_auth} refusing a client-supplied change ({@code
   * services/api/app/models/container.rb}).
   */
  static final String AUTH_UUID_READONLY = "Auth uuid is readonly";

  /**
   * {@code check_update_whitelist} refusing a change of {@code auth_uuid} ({@code
   * services/api/lib/whitelist_update.rb}: {@code "<Attr> cannot be modified in state ..."}).
   */
  static final String AUTH_UUID_NOT_MODIFIABLE = "Auth uuid cannot be modified";

  /**
   * {@code check_unlock}: an unlock by a token other than {@code locked_by_uuid} ({@code
   * container.rb}).
   */
  static final String LOCKED_BY_DIFFERENT_TOKEN = "locked by a different token";

  /**
   * {@code ContainersController#auth} called by a token that does not hold the lock ({@code
   * app/controllers/arvados/v1/containers_controller.rb}).
   */
  static final String NOT_LOCKED_BY_YOUR_TOKEN = "Not locked by your token";

  /**
   * {@code Container#lock} on a container whose priority is 0 ({@code container.rb}, a {@code
   * LockFailedError}).
   */
  static final String LOCK_PRIORITY_ZERO = "cannot lock when priority<=0";

  /**
   * {@code Container#lock} on a container that is not Queued: {@code "cannot lock when <State>"}
   * ({@code container.rb}).
   */
  static final String CANNOT_LOCK = "cannot lock when";

  /**
   * {@code Container#unlock} on a container that is not Locked: {@code "cannot unlock when
   * <State>"} ({@code container.rb}).
   */
  static final String CANNOT_UNLOCK = "cannot unlock when";

  /**
   * The meaning of an error answer.
   *
   * @param d the answer's status and messages
   * @return what it means
   */
  static Refusal of(ErrorDetails d) {
    int status = d.status();
    if (status == 401) {
      return UNAUTHORIZED;
    }
    if (status == 404) {
      return NOT_FOUND;
    }
    if (status >= 500) {
      return SERVER_ERROR;
    }
    if (status == 403) {
      return d.hasErrorContaining(LOCKED_BY_DIFFERENT_TOKEN)
              || d.hasErrorContaining(NOT_LOCKED_BY_YOUR_TOKEN)
          ? OTHER_HOLDER
          : FORBIDDEN;
    }
    if (status == 422) {
      if (d.hasErrorContaining(AUTH_UUID_READONLY)
          || d.hasErrorContaining(AUTH_UUID_NOT_MODIFIABLE)) {
        return STALE_EPOCH;
      }
      if (d.hasErrorContaining(LOCK_PRIORITY_ZERO)) {
        return PRIORITY_ZERO;
      }
      if (d.hasErrorContaining(CANNOT_LOCK)) {
        return NOT_LOCKABLE;
      }
      if (d.hasErrorContaining(CANNOT_UNLOCK)) {
        return NOT_UNLOCKABLE;
      }
      return CALLERS_FIELD;
    }
    return OTHER;
  }
}
