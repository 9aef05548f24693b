package dev.crunchguard.testkit;

import org.junit.jupiter.api.Assumptions;

/**
 * The real server for the differential suite, from the project's environment convention
 * ({@code CRUNCHGUARD_ARVADOS_URL}, {@code _ADMIN_TOKEN}, {@code _ADMIN2_TOKEN}, {@code _USER_TOKEN}).
 * Absent: the suite is skipped, or fails when {@code CRUNCHGUARD_REQUIRE} contains {@code arvados}.
 */
final class DiffEnvironment {
  private DiffEnvironment() {}

  static DiffTarget realTarget() {
    String url = System.getenv("CRUNCHGUARD_ARVADOS_URL");
    String admin = System.getenv("CRUNCHGUARD_ARVADOS_ADMIN_TOKEN");
    String admin2 = System.getenv("CRUNCHGUARD_ARVADOS_ADMIN2_TOKEN");
    String user = System.getenv("CRUNCHGUARD_ARVADOS_USER_TOKEN");
    boolean present = !blank(url) && !blank(admin) && !blank(admin2) && !blank(user);
    if (!present) {
      String why = "no real Arvados server: set CRUNCHGUARD_ARVADOS_URL, CRUNCHGUARD_ARVADOS_ADMIN_TOKEN, "
          + "CRUNCHGUARD_ARVADOS_ADMIN2_TOKEN and CRUNCHGUARD_ARVADOS_USER_TOKEN";
      String req = System.getenv("CRUNCHGUARD_REQUIRE");
      if (req != null && req.contains("arvados")) {
        throw new AssertionError(why + " (required by CRUNCHGUARD_REQUIRE)");
      }
      Assumptions.abort(why);
    }
    return new DiffTarget("real", url, admin, admin2, user);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
