package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Arguments are checked before any request (Containers, builders, updates, queries). */
class ValidationTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  static Stream<Arguments> badUuidsTimesCalls() {
    List<String> bad =
        new ArrayList<>(
            List.of(
                "zzzzz-dz642-short",
                "ZZZZZ-DZ642-0123456789ABCDE",
                "zzzzz-j7d0g-0123456789abcde",
                "zzzzz-gj3su-0123456789abcde",
                "zzzzz-dz642-0123456789abcde ",
                " zzzzz-dz642-0123456789abcde",
                "zzzzz-dz642-0123456789abcd_",
                "zzzzz-dz642-0123456789abcde/lock",
                "../zzzzz-dz642-0123456789abcde",
                ""));
    bad.add(null);
    List<Arguments> out = new ArrayList<>();
    for (String uuid : bad) {
      for (String call : List.of("get", "lock", "auth", "unlock")) {
        out.add(Arguments.of(call, uuid));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}(\"{1}\")")
  @MethodSource("badUuidsTimesCalls")
  void malformedContainerUuid_isIllegalArgument_withoutARequest(String call, String uuid) {
    Containers c = containers();
    Runnable r =
        switch (call) {
          case "get" -> () -> c.get(uuid);
          case "lock" -> () -> c.lock(uuid);
          case "auth" -> () -> c.auth(uuid);
          default -> () -> c.unlock(uuid);
        };
    assertThatThrownBy(r::run)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a container uuid");
    assertThat(requestCount()).isZero();
  }

  @Test
  void malformedUuid_isQuotedInTheMessage_whenItCannotBeASecret() {
    assertThatThrownBy(() -> containers().get("zzzzz-dz642-short"))
        .hasMessageEndingWith(": \"zzzzz-dz642-short\"");
    assertThatThrownBy(() -> containers().get(null)).hasMessageEndingWith(": null");
    assertThatThrownBy(() -> containers().get("x".repeat(40)))
        .hasMessageEndingWith("a string of 40 characters, not shown");
  }

  @Test
  void lockOfASeenContainer_withABadUuid_isIllegalArgument() {
    Container seen =
        Container.fromJson(
            com.google.gson.JsonParser.parseString("{\"uuid\":\"zzzzz-dz642-short\"}")
                .getAsJsonObject());
    assertThatThrownBy(() -> containers().lock(seen)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> containers().lock((Container) null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> containers().resume(null)).isInstanceOf(NullPointerException.class);
    assertThat(requestCount()).isZero();
  }

  // ---- ArvadosClient.Builder ----

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {"   ", "abc def", "abc\tdef", "abc\n", "abc\u0000def", "abc\u007fdef"})
  void token_mustBeNonBlankWithoutWhitespaceOrControls(String token) {
    assertThatThrownBy(() -> ArvadosClient.builder().token(token))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(
      strings = {
        "  ",
        "https://zzzzz.example.org",
        "zzzzz.example.org/arvados",
        "user@zzzzz.example.org",
        "zzzzz .example.org",
        "zzzzz.example.org:notaport",
        "zzzzz.example.org:99999"
      })
  void apiHost_mustBeHostOrHostPort(String host) {
    assertThatThrownBy(() -> ArvadosClient.builder().apiHost(host))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void apiHost_isAlwaysHttps() {
    assertThat(ArvadosClient.builder().apiHost("zzzzz.example.org").token("t").build().baseUrl())
        .isEqualTo("https://zzzzz.example.org/");
    assertThat(ArvadosClient.builder().apiHost("127.0.0.1:8443").token("t").build().baseUrl())
        .isEqualTo("https://127.0.0.1:8443/");
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(
      strings = {
        "zzzzz.example.org",
        "ftp://zzzzz.example.org/",
        "http://h/?q=1",
        "http://h/#frag",
        "http://u:p@h/",
        "http://"
      })
  void baseUrl_mustBeHttpWithoutQueryFragmentOrUserInfo(String url) {
    assertThatThrownBy(() -> ArvadosClient.builder().baseUrl(url))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void baseUrl_getsATrailingSlash() {
    assertThat(
            ArvadosClient.builder().baseUrl("http://127.0.0.1:8000").token("t").build().baseUrl())
        .isEqualTo("http://127.0.0.1:8000/");
    assertThat(
            ArvadosClient.builder()
                .baseUrl("http://127.0.0.1:8000/prefix")
                .token("t")
                .build()
                .baseUrl())
        .isEqualTo("http://127.0.0.1:8000/prefix/");
  }

  @Test
  void timeouts_mustBePositive() {
    for (Duration d : new Duration[] {null, Duration.ZERO, Duration.ofMillis(-1)}) {
      assertThatThrownBy(() -> ArvadosClient.builder().connectTimeout(d))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> ArvadosClient.builder().readTimeout(d))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> ArvadosClient.builder().writeTimeout(d))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatCode(() -> ArvadosClient.builder().connectTimeout(Duration.ofNanos(1)))
        .doesNotThrowAnyException();
  }

  @Test
  void otherBuilderArguments_areChecked() {
    ArvadosClient.Builder b = ArvadosClient.builder();
    assertThatThrownBy(() -> b.retryPolicy(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RetryPolicy.none()");
    assertThatThrownBy(() -> b.ambiguousLockPolicy(null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.okHttpClient(null)).isInstanceOf(IllegalArgumentException.class);
    for (String bad : new String[] {null, "", " ", "agent\n", "agënt"}) {
      assertThatThrownBy(() -> b.userAgent(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.clientId(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> b.clientId("x".repeat(201)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatCode(() -> b.clientId("x".repeat(200))).doesNotThrowAnyException();
  }

  @Test
  void build_needsHostAndToken() {
    assertThatThrownBy(() -> ArvadosClient.builder().token("t").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("apiHost");
    assertThatThrownBy(() -> ArvadosClient.builder().apiHost("h").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("token");
  }

  // ---- RetryPolicy ----

  @Test
  void retryPolicy_boundsAreChecked() {
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(101))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(RetryPolicy.builder().maxAttempts(1).build().maxAttempts()).isEqualTo(1);
    assertThat(RetryPolicy.builder().maxAttempts(100).build().maxAttempts()).isEqualTo(100);
    for (Duration d : new Duration[] {null, Duration.ZERO, Duration.ofSeconds(-1)}) {
      assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(d))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> RetryPolicy.builder().maxBackoff(d))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> RetryPolicy.builder().maxElapsed(d))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(
            () ->
                RetryPolicy.builder()
                    .initialBackoff(Duration.ofSeconds(2))
                    .maxBackoff(Duration.ofSeconds(1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBackoff");
  }

  @ParameterizedTest
  @ValueSource(ints = {200, 204, 302, 400, 407, 600})
  void retryStatuses_outside408To599_areRejected(int status) {
    assertThatThrownBy(() -> RetryPolicy.builder().retryStatuses(status))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {401, 403, 404, 422})
  void retryStatuses_cannotIncludeFinalRefusals_likeTheStaleWriters422(int status) {
    assertThatThrownBy(() -> RetryPolicy.builder().retryStatuses(503, status))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void retryStatuses_acceptOptionalTransientOnes() {
    assertThat(RetryPolicy.builder().retryStatuses(408, 409, 423, 599).build().retryStatuses())
        .containsExactlyInAnyOrder(408, 409, 423, 599);
    assertThat(RetryPolicy.builder().retryStatuses().build().retryStatuses()).isEmpty();
  }

  // ---- ContainerUpdate ----

  @Test
  void containerUpdate_rejectsBadValues() {
    ContainerUpdate.Builder b = ContainerUpdate.builder();
    assertThatThrownBy(() -> b.priority(-1)).isInstanceOf(IllegalArgumentException.class);
    for (double d : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      assertThatThrownBy(() -> b.progress(d)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.cost(d)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.subrequestsCost(d)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> b.cost(-0.01)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.subrequestsCost(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.state(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.state(ContainerState.UNKNOWN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.output("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.log("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.gatewayAddress("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.outputProperties(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.runtimeStatus(null)).isInstanceOf(IllegalArgumentException.class);
    assertThat(b.build().fieldNames()).as("nothing was set by the rejected calls").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "error",
        "errorDetail",
        "warning",
        "warningDetail",
        "activity",
        "preemptionNotice"
      })
  void runtimeStatus_wellKnownKeysMustBeStrings(String key) {
    Map<String, Object> withNull = new HashMap<>();
    withNull.put(key, null);
    assertThatThrownBy(() -> ContainerUpdate.builder().runtimeStatus(Map.of(key, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key);
    assertThatThrownBy(() -> ContainerUpdate.builder().runtimeStatus(Map.of(key, List.of("x"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ContainerUpdate.builder().runtimeStatus(withNull))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatCode(() -> ContainerUpdate.builder().runtimeStatus(Map.of(key, "text")))
        .doesNotThrowAnyException();
  }

  @Test
  void runtimeStatus_otherKeysTakeAnyJsonValue_butNotArbitraryObjects() {
    Map<String, Object> free = new HashMap<>();
    free.put("progressDetail", Map.of("done", 3, "of", 7.5, "ok", true, "list", List.of("a", 1)));
    free.put("nothing", null);
    assertThat(
            ContainerUpdate.builder()
                .runtimeStatus(free)
                .build()
                .toJson()
                .getAsJsonObject("runtime_status")
                .has("nothing"))
        .isTrue();
    assertThatThrownBy(() -> ContainerUpdate.builder().runtimeStatus(Map.of("when", new Object())))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ContainerUpdate.builder().runtimeStatus(Map.of("x", Double.NaN)))
        .isInstanceOf(IllegalArgumentException.class);
    Map<Object, Object> nonStringKey = Map.of(1, "x");
    @SuppressWarnings("unchecked")
    Map<String, ?> cast = (Map<String, ?>) (Map<?, ?>) nonStringKey;
    assertThatThrownBy(() -> ContainerUpdate.builder().runtimeStatus(cast))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void containerUpdate_isImmutable_andCopiesCallerMaps() {
    Map<String, Object> status = new HashMap<>(Map.of("activity", "staging"));
    ContainerUpdate u = ContainerUpdate.builder().runtimeStatus(status).priority(3).build();
    status.put("activity", "changed later");
    ContainerUpdate v = u.toBuilder().priority(4).build();

    assertThat(u.toJson().getAsJsonObject("runtime_status").get("activity").getAsString())
        .isEqualTo("staging");
    assertThat(u.toJson().get("priority").getAsLong()).isEqualTo(3);
    assertThat(v.toJson().get("priority").getAsLong()).isEqualTo(4);
    assertThat(u.fieldNames()).containsExactly("runtime_status", "priority");
    assertThatThrownBy(() -> u.fieldNames().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    u.toJson().addProperty("priority", 99);
    assertThat(u.toJson().get("priority").getAsLong()).as("toJson is a fresh copy").isEqualTo(3);
    assertThat(u)
        .isEqualTo(
            ContainerUpdate.builder()
                .runtimeStatus(Map.of("activity", "staging"))
                .priority(3)
                .build());
    assertThat(u.hashCode())
        .isEqualTo(
            ContainerUpdate.builder()
                .runtimeStatus(Map.of("activity", "staging"))
                .priority(3)
                .build()
                .hashCode());
    assertThat(u).isNotEqualTo(v);
    assertThat(u.toString())
        .contains("runtime_status")
        .contains("priority")
        .doesNotContain("staging");
    assertThat(u.state()).isNull();
    assertThat(ContainerUpdate.builder().state(ContainerState.RUNNING).build().state())
        .isEqualTo(ContainerState.RUNNING);
  }

  // ---- ContainerQuery ----

  @Test
  void containerQuery_rejectsBadOperatorsFieldsAndOperands() {
    ContainerQuery.Builder b = ContainerQuery.builder();
    for (String op : new String[] {"==", "LIKE", "contains", "", " ="}) {
      assertThatThrownBy(() -> b.filter("state", op, "Queued"))
          .as(op)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> b.filter("state", null, "Queued"))
        .isInstanceOf(IllegalArgumentException.class);
    for (String field : new String[] {null, "", "State", "1state", "state;drop", "state name"}) {
      assertThatThrownBy(() -> b.filter(field, "=", "Queued"))
          .as(String.valueOf(field))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> b.filter("state", "in", "Queued"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.filter("state", "=", List.of("Queued")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.filter("state", "=", new Object()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(b.build().filtersJson()).as("no rejected filter was kept").isEqualTo("[]");
  }

  @Test
  void containerQuery_rejectsBadPagingOrderAndSelect() {
    ContainerQuery.Builder b = ContainerQuery.builder();
    assertThatThrownBy(() -> b.pageSize(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.pageSize(1001)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.limit(0)).isInstanceOf(IllegalArgumentException.class);
    for (String clause :
        new String[] {
          null, "", "priority descending", "Priority desc", "priority  desc", "priority desc, uuid"
        }) {
      assertThatThrownBy(() -> b.order(clause))
          .as(String.valueOf(clause))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> b.select("state", null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.select("State")).isInstanceOf(IllegalArgumentException.class);
    assertThat(b.pageSize(1).pageSize(1000).limit(1).build().limit()).isEqualTo(1);
  }

  @Test
  void containerQuery_isImmutable_andItsDefaultsAreDocumented() {
    ContainerQuery.Builder b = ContainerQuery.builder().filter("state", "=", "Queued");
    ContainerQuery q = b.build();
    b.filter("priority", ">", 0).order("priority desc").select("state");

    assertThat(q.filtersJson()).isEqualTo("[[\"state\",\"=\",\"Queued\"]]");
    assertThat(q.order()).isEmpty();
    assertThat(q.select()).isEmpty();
    assertThat(q.pageSize()).isEqualTo(100);
    assertThat(q.limit()).isEqualTo(Long.MAX_VALUE);
    assertThatThrownBy(() -> q.order().add("x")).isInstanceOf(UnsupportedOperationException.class);
    assertThat(b.build().select()).containsExactly("uuid", "state");
    assertThat(ContainerQuery.builder().select("state", "uuid", "state").build().select())
        .containsExactly("state", "uuid");
    assertThat(q.toString()).contains("Queued").doesNotContain("limit=");
  }
}
