package dev.crunchguard.testkit.internal.model;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/** Identifier generation: Arvados uuids, token secrets, request ids, error tokens. */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String B36 = "0123456789abcdefghijklmnopqrstuvwxyz";
  static final Pattern UUID = Pattern.compile("[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{15}");

  private Ids() {}

  static String random36(int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(B36.charAt(RANDOM.nextInt(36)));
    }
    return sb.toString();
  }

  static String uuid(String cluster, String infix) {
    return cluster + "-" + infix + "-" + random36(15);
  }

  /** A stable uuid derived from a secret (a one-way hash: the secret cannot be recovered). */
  static String derivedUuid(String cluster, String infix, String salt, String secret) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((salt + "\0" + cluster + "\0" + secret).getBytes(StandardCharsets.UTF_8));
      String s = new BigInteger(1, h).toString(36);
      while (s.length() < 15) {
        s = "0" + s;
      }
      return cluster + "-" + infix + "-" + s.substring(s.length() - 15);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String systemUserUuid(String cluster) {
    return cluster + "-tpzed-000000000000000";
  }

  static String systemRootTokenUuid(String cluster) {
    return cluster + "-gj3su-000000000000000";
  }

  /** {@code req-} followed by 20 base-36 characters. */
  public static String requestId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    StringBuilder sb = new StringBuilder("req-");
    for (int i = 0; i < 20; i++) {
      sb.append(B36.charAt(r.nextInt(36)));
    }
    return sb.toString();
  }

  /** {@code <unix seconds>+<8 lowercase hex>}. */
  public static String errorToken() {
    return (System.currentTimeMillis() / 1000)
        + "+"
        + String.format(Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt());
  }
}
