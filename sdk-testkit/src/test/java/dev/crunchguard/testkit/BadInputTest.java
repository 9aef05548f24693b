package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad requests get 4xx, never 500, and never a half-applied change. */
class BadInputTest {
  static ArvadosSimulator sim;
  static Fixtures fx;
  static Http http;

  @BeforeAll
  static void start() {
    sim = Fixtures.builder().build().start();
    fx = new Fixtures(sim);
    http = fx.http;
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  private static void assertRejectedUnchanged(
      String u, Http.Call call, int status, String messageStart) {
    String before = sim.container(u).json();
    Http.Res r = call.send();
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    if (messageStart != null) {
      assertThat(r.errors().get(0)).startsWith(messageStart);
    }
    assertThat(sim.container(u).json()).isEqualTo(before);
  }

  @Test
  void malformedJsonBodyIs400() {
    String u = fx.queued();
    assertRejectedUnchanged(
        u, http.put(c(u)).token(SYSTEM_ROOT).json("{\"container\":{\"priority\":2"), 400, null);
    assertRejectedUnchanged(
        u, http.put(c(u)).token(SYSTEM_ROOT).json("{\"container\":{}} trailing"), 400, null);
  }

  @Test
  void wrongTypesAre422AndNothingIsHalfApplied() {
    String u = fx.running();
    Map<String, String> bad =
        Map.ofEntries(
            Map.entry("{\"priority\":\"abc\"}", "Priority is not a number"),
            Map.entry("{\"priority\":1.5}", "Priority must be an integer"),
            Map.entry("{\"priority\":null}", "Priority can't be blank"),
            Map.entry(
                "{\"priority\":99999999999999999999999}",
                "#<ActiveModel::RangeError: 99999999999999999999999 is out of range for ActiveModel::Type::Integer"),
            Map.entry(
                "{\"progress\":[1]}", "#<NoMethodError: undefined method `to_f' for [1]:Array"),
            Map.entry(
                "{\"runtime_status\":5}", "#<TypeError: parameter runtime_status must be a Hash>"),
            Map.entry(
                "{\"runtime_status\":\"not json\"}",
                "#<Oj::ParseError: not a number or other value"),
            Map.entry(
                "{\"runtime_status\":\"[1]\"}",
                "#<TypeError: parameter runtime_status must be a Hash>"),
            Map.entry("{\"output_properties\":[]}", "Output properties must be a hash"),
            Map.entry("{\"log\":{\"a\":1}}", "Log must be a string"),
            Map.entry("{\"finished_at\":\"yesterday\"}", "Finished at is not a valid time"),
            Map.entry(
                "{\"interactive_session_started\":\"maybe\"}",
                "Interactive session started must be true or false"),
            Map.entry(
                "{\"bogus\":1}",
                "#<ActiveModel::UnknownAttributeError: unknown attribute 'bogus' for Container."),
            Map.entry("{\"state\":{}}", "State must be a string"));
    for (Map.Entry<String, String> e : bad.entrySet()) {
      // Each bad value travels with a valid change that must not be applied.
      String body =
          e.getKey().substring(0, e.getKey().length() - 1) + ",\"gateway_address\":\"h:2\"}";
      assertRejectedUnchanged(
          u,
          http.put(c(u)).token(SYSTEM_ROOT).json("{\"container\":" + body + "}"),
          422,
          e.getValue());
    }
  }

  @Test
  void containerParameterThatIsNotAHashIsTheControllers500() {
    String u = fx.queued();
    String transcode =
        "transcode: json: cannot unmarshal array into Go struct field UpdateOptions.attrs";
    assertRejectedUnchanged(
        u, http.put(c(u)).token(SYSTEM_ROOT).json("{\"container\":[1,2]}"), 500, transcode);
    assertRejectedUnchanged(
        u, http.put(c(u)).token(SYSTEM_ROOT).form(Map.of("container", "[1]")), 500, transcode);
    assertRejectedUnchanged(
        u,
        http.put(c(u)).token(SYSTEM_ROOT).form(Map.of("container", "{nope")),
        500,
        "invalid character");
    assertRejectedUnchanged(
        u,
        http.put(c(u)).token(SYSTEM_ROOT).form(Map.of("container", "nope")),
        500,
        "transcode: json: cannot unmarshal string into Go struct field UpdateOptions.attrs");
    assertRejectedUnchanged(
        u,
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .json("{\"container\":{\"priority\":2},\"select\":[\"nope\"]}"),
        422,
        "#<ArgumentError: Invalid attribute 'nope' of Container in select parameter>");
  }

  @Test
  void deeplyNestedJsonIsRejectedNotCrashed() {
    String u = fx.running();
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertRejectedUnchanged(
        u,
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .json("{\"container\":{\"runtime_status\":{\"x\":" + deep + "}}}"),
        400,
        null);
    assertRejectedUnchanged(
        u,
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .form(Map.of("container", "{\"runtime_status\":{\"x\":" + deep + "}}")),
        422,
        "#<Oj::ParseError:");
    String ok = "[".repeat(90) + "]".repeat(90);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"runtime_status\":{\"x\":" + ok + "}}").status())
        .isEqualTo(200);
    // Brackets inside strings do not count.
    assertThat(
            http.update(
                    u,
                    SYSTEM_ROOT,
                    "{\"runtime_status\":{\"activity\":\"" + "[{".repeat(300) + "\\\"\"}}")
                .status())
        .isEqualTo(200);
  }

  @Test
  void hugeBodyIs413() {
    String u = fx.queued();
    String big =
        "{\"container\":{\"runtime_status\":{\"activity\":\"" + "x".repeat(1_100_000) + "\"}}}";
    for (int i = 0; i < 10; i++) {
      // The body is drained before answering, so the client always gets the 413 and its body.
      assertRejectedUnchanged(
          u, http.put(c(u)).token(SYSTEM_ROOT).json(big), 413, "Request body too large");
    }
    assertThat(http.update(u, SYSTEM_ROOT, "{\"priority\":2}").status()).isEqualTo(200);
  }

  @Test
  void unknownPathsAndMethodsAre404() {
    for (Http.Call call :
        List.of(
            http.get("arvados/v1/nope").token(SYSTEM_ROOT),
            http.get("foo").token(SYSTEM_ROOT),
            http.post(c("zzzzz-dz642-aaaaaaaaaaaaaaa") + "/frob").token(SYSTEM_ROOT),
            http.delete("arvados/v1/containers").token(SYSTEM_ROOT),
            http.get(c("zzzzz-dz642-aaaaaaaaaaaaaaa") + "/lock").token(SYSTEM_ROOT),
            http.get("arvados/v1/containers/not-a-uuid").token(SYSTEM_ROOT),
            http.get("arvados/v1/containers/%2e%2e").token(SYSTEM_ROOT))) {
      Http.Res r = call.send();
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.errors().get(0)).startsWith("Path not found (");
    }
  }

  @Test
  void randomGarbageNeverGets500OrHalfAppliesAnything() {
    Random rnd = new Random(20260807L);
    String[] attrs = {
      "priority",
      "state",
      "runtime_status",
      "progress",
      "exit_code",
      "log",
      "output",
      "command",
      "mounts",
      "auth_uuid",
      "locked_by_uuid",
      "started_at",
      "cost",
      "environment",
      "output_glob",
      "bogus",
      "service",
      "lock_count"
    };
    String[] values = {
      "null",
      "1",
      "-1",
      "1.5",
      "1e400",
      "\"\"",
      "\"Running\"",
      "\"Complete\"",
      "\"Queued\"",
      "[]",
      "[1]",
      "[\"a\"]",
      "{}",
      "{\"error\":1}",
      "{\"warning\":\"w\"}",
      "true",
      "\"2020-01-01T00:00:00Z\"",
      "\"{}\"",
      "\"[\"",
      "\"zzzzz-gj3su-aaaaaaaaaaaaaaa\""
    };
    String[] states = {"Queued", "Locked", "Running", "Complete"};
    int ok = 0;
    for (int i = 0; i < 300; i++) {
      String u;
      switch (states[rnd.nextInt(states.length)]) {
        case "Queued":
          u = fx.queued();
          break;
        case "Locked":
          u = fx.lockedBy(SYSTEM_ROOT, 1);
          break;
        case "Running":
          u = fx.running();
          break;
        default:
          u = fx.running();
          fx.http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}");
      }
      StringBuilder body = new StringBuilder("{");
      int n = 1 + rnd.nextInt(3);
      for (int k = 0; k < n; k++) {
        body.append(k == 0 ? "" : ",")
            .append('"')
            .append(attrs[rnd.nextInt(attrs.length)])
            .append("\":")
            .append(values[rnd.nextInt(values.length)]);
      }
      body.append('}');
      String before = sim.container(u).json();
      String token = rnd.nextInt(5) == 0 ? Fixtures.SECOND_DISPATCHER : SYSTEM_ROOT;
      Http.Res r = http.update(u, token, body.toString());
      assertThat(r.status()).as(body.toString()).isIn(200, 403, 422);
      if (r.status() != 200) {
        assertThat(sim.container(u).json()).as(body.toString()).isEqualTo(before);
        assertThat(r.json().has("error_token")).isTrue();
      } else {
        ok++;
      }
    }
    assertThat(ok).as("some random updates are valid").isGreaterThan(5);
  }
}
