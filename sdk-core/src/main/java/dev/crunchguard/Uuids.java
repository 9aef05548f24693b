package dev.crunchguard;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Validation of Arvados uuids, before any request is made. */
final class Uuids {
  private static final Pattern CONTAINER = Pattern.compile("^[a-z0-9]{5}-dz642-[a-z0-9]{15}$");
  private static final Pattern TOKEN = Pattern.compile("^[a-z0-9]{5}-gj3su-[a-z0-9]{15}$");

  private Uuids() {}

  static String container(@Nullable String uuid) {
    if (uuid == null || !CONTAINER.matcher(uuid).matches()) {
      throw new IllegalArgumentException(
          "not a container uuid (expected <5 chars>-dz642-<15 chars>, lowercase letters and digits): "
              + quote(uuid));
    }
    return uuid;
  }

  static @Nullable String tokenOrNull(@Nullable String uuid, String what) {
    if (uuid != null && !TOKEN.matcher(uuid).matches()) {
      throw new IllegalArgumentException(
          what + " is not a token uuid (expected <5 chars>-gj3su-<15 chars>): " + quote(uuid));
    }
    return uuid;
  }

  /**
   * The rejected value for a message. A uuid is 27 characters; a value of 32 or more (the length of
   * the shortest Arvados secret), or a v2 token, may be a token passed by mistake and is not shown.
   */
  private static String quote(@Nullable String s) {
    if (s == null) {
      return "null";
    }
    if (s.length() >= 32 || s.startsWith("v2/")) {
      return "a string of " + s.length() + " characters, not shown";
    }
    return '"' + s + '"';
  }
}
