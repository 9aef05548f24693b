package dev.crunchguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Runs after every other test class of the module (see {@code junit-platform.properties}) and
 * checks that no log event of the whole run, at any level down to TRACE, contained a token.
 */
@Order(Integer.MAX_VALUE)
class WholeSuiteSecretAuditTest {
  @Test
  void noTokenAppearedInAnyLogEventOfTheWholeRun() {
    assertThat(SecretAuditAppender.secrets())
        .as("token constants found in the test classes")
        .hasSizeGreaterThan(5);
    assertThat(SecretAuditAppender.EVENTS.get()).as("log events audited").isGreaterThan(100);
    assertThat(SecretAuditAppender.LEAKS).isEmpty();
    System.out.println(
        "secret audit: "
            + SecretAuditAppender.EVENTS.get()
            + " log events (TRACE and up) scanned for "
            + SecretAuditAppender.secrets().size()
            + " test token constants and token patterns: no leak");
  }

  @Test
  void propertyTestsOfTheJqwikEngine_ranBeforeTheAudit() {
    assertThat(dev.crunchguard.DecodingPropertiesTest.served.get())
        .as(
            "jqwik must run before Jupiter (its dependency comes first in sdk-core/pom.xml), or their logs go unaudited")
        .isPositive();
  }

  @Test
  void theAuditDetectsALeak() {
    String someSecret = SecretAuditAppender.secrets().iterator().next();
    assertThat(SecretAuditAppender.leak("sending " + someSecret)).isEqualTo("test secret");
    assertThat(SecretAuditAppender.leak("Authorization: Bearer abcdefgh12345678")).isNotNull();
    assertThat(SecretAuditAppender.leak("v2/zzzzz-gj3su-012345678901234/abcdefghijklmnop"))
        .isNotNull();
    assertThat(SecretAuditAppender.leak("v2/zzzzz-gj3su-012345678901234/<redacted>")).isNull();
    assertThat(SecretAuditAppender.leak("{\"api_token\":\"abcdefghijkl\"}")).isNotNull();
    // An excerpt that cut the marker short, followed by more text with quotes.
    assertThat(
            SecretAuditAppender.leak(
                "body: {\"api_token\":\"<re\u2026 [req-abc] args=[zzzzz-dz642-01\"]"))
        .isNull();
    assertThat(SecretAuditAppender.leak("body: {\"api_token\":\"abcdefghijkl\u2026 more\"]"))
        .isNotNull();
    assertThat(ClassOrderer.OrderAnnotation.class).isNotNull();
  }
}
