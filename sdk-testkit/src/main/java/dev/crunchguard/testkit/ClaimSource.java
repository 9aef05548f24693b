package dev.crunchguard.testkit;

/** Where the epoch (auth_uuid) a writer claimed came from. */
public enum ClaimSource {
  /** The request claimed no epoch. */
  NONE,
  /**
   * The request body carried {@code auth_uuid}; the server enforces it (a different value is a
   * 422).
   */
  BODY,
  /**
   * The {@code X-Crunch-Guard-Epoch} header: recorded for the checker only, never enforced by the
   * server. Useful to demonstrate what an unguarded writer would do.
   */
  HEADER
}
