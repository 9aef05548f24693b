package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.ACTIVE_USER;
import static dev.crunchguard.testkit.Fixtures.SECOND_DISPATCHER;
import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The who-may-change-what matrix of services/api/app/models/container.rb's validate_change (lines
 * 573-639), written out independently of the implementation: for each (state, caller role,
 * attribute) the expected status of an update that changes only that attribute. 200 = permitted,
 * 422 = not permitted (whitelist), 403 = non-admin.
 */
class PermissionMatrixTest {
  static ArvadosSimulator sim;
  static Fixtures fx;

  @BeforeAll
  static void start() {
    sim = Fixtures.builder().build().start();
    fx = new Fixtures(sim);
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  static final Map<String, String> VALUES = new LinkedHashMap<>();

  static {
    VALUES.put("priority", "7");
    VALUES.put("runtime_status", "{\"activity\":\"t\"}");
    VALUES.put("log", "\"fa7aeb5140e2848d39b416daeef4ffc5+45\"");
    VALUES.put("progress", "0.25");
    VALUES.put("output", "\"d41d8cd98f00b204e9800998ecf8427e+0\"");
    VALUES.put("exit_code", "3");
    VALUES.put("cost", "2.5");
    VALUES.put("subrequests_cost", "1.5");
    VALUES.put("output_properties", "{\"a\":\"b\"}");
    VALUES.put("gateway_address", "\"host:1\"");
    VALUES.put("lock_count", "99");
    VALUES.put("command", "[\"z\"]");
    VALUES.put("started_at", "\"2020-01-01T00:00:00.000000000Z\"");
    VALUES.put("finished_at", "\"2020-01-01T00:00:00.000000000Z\"");
    VALUES.put("interactive_session_started", "true");
  }

  // Expected results: state / role -> attributes that are permitted (everything else: 422).
  static final Map<String, List<String>> PERMITTED = new LinkedHashMap<>();

  static {
    PERMITTED.put("Queued/ADMIN", List.of("priority"));
    PERMITTED.put("Locked/HOLDER", List.of("priority", "runtime_status", "log", "lock_count"));
    PERMITTED.put("Locked/OTHER_ADMIN", List.of("priority", "lock_count"));
    PERMITTED.put(
        "Running/HOLDER",
        List.of(
            "priority",
            "runtime_status",
            "log",
            "progress",
            "output",
            "exit_code",
            "cost",
            "subrequests_cost",
            "output_properties",
            "gateway_address",
            "interactive_session_started"));
    PERMITTED.put(
        "Running/OTHER_ADMIN",
        List.of("priority", "gateway_address", "interactive_session_started"));
    PERMITTED.put(
        "Running/OWN_TOKEN",
        List.of(
            "runtime_status",
            "progress",
            "output",
            "exit_code",
            "cost",
            "subrequests_cost",
            "output_properties",
            "gateway_address",
            "interactive_session_started",
            "finished_at"));
    PERMITTED.put("Complete/HOLDER", List.of());
    PERMITTED.put("Cancelled/ADMIN", List.of());
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : PERMITTED.entrySet()) {
      for (String attr : VALUES.keySet()) {
        out.add(Arguments.of(e.getKey(), attr, e.getValue().contains(attr) ? 200 : 422));
      }
    }
    for (String state : List.of("Queued", "Locked", "Running", "Complete", "Cancelled")) {
      for (String attr : VALUES.keySet()) {
        out.add(Arguments.of(state + "/USER", attr, 403));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} changes {1} -> {2}")
  @MethodSource("cases")
  void updateOfOneAttributeGetsTheStatusOfTheMatrix(
      String stateAndRole, String attr, int expected) {
    String state = stateAndRole.split("/")[0];
    String role = stateAndRole.split("/")[1];
    String u = containerIn(state);
    String token;
    switch (role) {
      case "HOLDER":
      case "ADMIN":
        token = SYSTEM_ROOT;
        break;
      case "OTHER_ADMIN":
        token = SECOND_DISPATCHER;
        break;
      case "OWN_TOKEN":
        token = fx.containerToken(u, SYSTEM_ROOT);
        break;
      default:
        token = ACTIVE_USER;
    }
    String before = sim.container(u).json();
    Http.Res r = fx.http.update(u, token, "{\"" + attr + "\":" + VALUES.get(attr) + "}");
    assertThat(r.status()).as(r.body()).isEqualTo(expected);
    if (expected != 200) {
      assertThat(sim.container(u).json()).isEqualTo(before);
      if (expected == 422) {
        assertThat(r.errors())
            .anyMatch(m -> m.contains(" cannot be modified in state '" + state + "'"));
      }
    } else {
      assertThat(sim.container(u).json()).isNotEqualTo(before);
    }
  }

  private static String containerIn(String state) {
    switch (state) {
      case "Queued":
        return fx.queued();
      case "Locked":
        return fx.lockedBy(SYSTEM_ROOT, 1);
      case "Running":
        return fx.running();
      case "Complete":
        {
          String u = fx.running();
          assertThat(fx.http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}").status())
              .isEqualTo(200);
          return u;
        }
      default:
        {
          String u = fx.queued();
          assertThat(fx.http.update(u, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status())
              .isEqualTo(200);
          return u;
        }
    }
  }
}
