package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * List parameters (services/api/lib/load_param.rb) and the list envelope (application_controller.rb
 * object_list), on a fixed set of containers.
 */
class ListParamsTest {
  static ArvadosSimulator sim;
  static Http http;
  static String q0; // Queued, priority 0
  static String q5; // Queued, priority 5
  static String l3; // Locked by SYSTEM_ROOT, priority 3, exit_code null
  static String r9; // Running, priority 9

  @BeforeAll
  static void start() {
    sim = Fixtures.builder().build().start();
    Fixtures fx = new Fixtures(sim);
    http = fx.http;
    q0 = fx.queued(0);
    q5 = fx.queued(5);
    l3 = fx.lockedBy(SYSTEM_ROOT, 3);
    r9 = fx.running();
    sim.setPriority(r9, 9);
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  private static List<String> uuids(String... params) {
    Http.Call call = http.get("arvados/v1/containers").token(SYSTEM_ROOT);
    for (int i = 0; i < params.length; i += 2) {
      call.query(params[i], params[i + 1]);
    }
    Http.Res r = call.send();
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    List<String> out = new ArrayList<>();
    for (JsonElement e : r.json().getAsJsonArray("items")) {
      out.add(e.getAsJsonObject().get("uuid").getAsString());
    }
    return out;
  }

  private static Http.Res list(String... params) {
    Http.Call call = http.get("arvados/v1/containers").token(SYSTEM_ROOT);
    for (int i = 0; i < params.length; i += 2) {
      call.query(params[i], params[i + 1]);
    }
    return call.send();
  }

  @Test
  void integerColumnAcceptsStringOperandLikeTheDispatchLibrary() {
    assertThat(uuids("filters", "[[\"state\",\"=\",\"Queued\"],[\"priority\",\">\",\"0\"]]"))
        .containsExactly(q5);
    assertThat(uuids("filters", "[[\"priority\",\">=\",3]]", "order", "priority asc"))
        .containsExactly(l3, q5, r9);
    assertThat(uuids("filters", "[[\"priority\",\"<\",\"5\"]]", "order", "priority"))
        .containsExactly(q0, l3);
    assertThat(uuids("filters", "[[\"priority\",\"<=\",5]]", "order", "priority desc"))
        .containsExactly(q5, l3, q0);
  }

  @Test
  void nullSemanticsOfEqualsAndNotEquals() {
    assertThat(uuids("filters", "[[\"locked_by_uuid\",\"=\",null]]"))
        .containsExactlyInAnyOrder(q0, q5);
    assertThat(uuids("filters", "[[\"locked_by_uuid\",\"!=\",null]]"))
        .containsExactlyInAnyOrder(l3, r9);
    // != value matches NULL too
    assertThat(uuids("filters", "[[\"locked_by_uuid\",\"!=\",\"zzzzz-gj3su-000000000000000\"]]"))
        .containsExactlyInAnyOrder(q0, q5);
    assertThat(uuids("filters", "[[\"started_at\",\"!=\",\"2000-01-01T00:00:00Z\"]]")).hasSize(4);
    // comparisons never match NULL
    assertThat(uuids("filters", "[[\"started_at\",\">\",\"2000-01-01T00:00:00Z\"]]"))
        .containsExactly(r9);
  }

  @Test
  void inAndNotInWithNulls() {
    assertThat(uuids("filters", "[[\"uuid\",\"in\",[\"" + q0 + "\",\"" + r9 + "\"]]]"))
        .containsExactlyInAnyOrder(q0, r9);
    assertThat(uuids("filters", "[[\"uuid\",\"in\",[]]]")).isEmpty();
    assertThat(uuids("filters", "[[\"uuid\",\"not in\",[]]]")).hasSize(4);
    assertThat(uuids("filters", "[[\"state\",\"not in\",[\"Queued\",\"Running\"]]]"))
        .containsExactly(l3);
    // not in matches NULL too, unless the operand contains null
    assertThat(
            uuids("filters", "[[\"locked_by_uuid\",\"not in\",[\"zzzzz-gj3su-aaaaaaaaaaaaaaa\"]]]"))
        .hasSize(4);
    assertThat(
            uuids(
                "filters",
                "[[\"locked_by_uuid\",\"not in\",[\"zzzzz-gj3su-aaaaaaaaaaaaaaa\",null]]]"))
        .containsExactlyInAnyOrder(l3, r9);
    assertThat(uuids("filters", "[[\"locked_by_uuid\",\"in\",[null]]]"))
        .containsExactlyInAnyOrder(q0, q5);
  }

  @Test
  void likeIsAAndWhere() {
    assertThat(uuids("filters", "[[\"state\",\"like\",\"Q%\"]]")).containsExactlyInAnyOrder(q0, q5);
    assertThat(uuids("filters", "[[\"state\",\"ilike\",\"r_nning\"]]")).containsExactly(r9);
    assertThat(uuids("filters", "[[\"uuid\",\"is_a\",\"arvados#container\"]]")).hasSize(4);
    assertThat(uuids("filters", "[[\"uuid\",\"is_a\",\"arvados#collection\"]]")).isEmpty();
    assertThat(uuids("where", "{\"state\":\"Locked\"}")).containsExactly(l3);
    assertThat(uuids("where", "{\"state\":[\"Locked\",\"Running\"]}"))
        .containsExactlyInAnyOrder(l3, r9);
  }

  @Test
  void orderAcceptsArrayJsonStringAndCommaListAndDropsUnknownColumns() {
    List<String> asc = List.of(q0, l3, q5, r9);
    assertThat(uuids("order", "[\"priority asc\"]")).isEqualTo(asc);
    assertThat(uuids("order", "priority asc, uuid")).isEqualTo(asc);
    assertThat(uuids("order", "[\"bogus desc\",\"containers.priority\"]")).isEqualTo(asc);
    assertThat(uuids("order", "priority desc")).isEqualTo(List.of(r9, q5, l3, q0));
  }

  @Test
  void defaultOrderIsModifiedAtDescThenUuidDesc() {
    List<String> all = uuids();
    List<String> sorted = new ArrayList<>(all);
    sorted.sort(
        (a, b) -> {
          int c = sim.container(b).modifiedAt().compareTo(sim.container(a).modifiedAt());
          return c != 0 ? c : b.compareTo(a);
        });
    assertThat(all).isEqualTo(sorted);
  }

  @Test
  void limitOffsetCountAndEnvelope() {
    Http.Res r = list("limit", "2", "offset", "1", "order", "priority");
    var o = r.json();
    assertThat(o.keySet())
        .containsExactly(
            "kind", "etag", "self_link", "offset", "limit", "items", "items_available");
    assertThat(o.get("kind").getAsString()).isEqualTo("arvados#containerList");
    assertThat(o.get("etag").getAsString()).isEmpty();
    assertThat(o.get("self_link").getAsString()).isEmpty();
    assertThat(o.get("offset").getAsInt()).isEqualTo(1);
    assertThat(o.get("limit").getAsInt()).isEqualTo(2);
    assertThat(o.get("items_available").getAsInt()).isEqualTo(4);
    assertThat(o.getAsJsonArray("items").get(0).getAsJsonObject().get("uuid").getAsString())
        .isEqualTo(l3);
    Http.Res none = list("count", "none");
    assertThat(none.json().has("items_available")).isFalse();
    assertThat(list().json().get("limit").getAsInt()).isEqualTo(100);
    assertThat(list("limit", "5000").json().get("limit").getAsInt()).isEqualTo(1000);
  }

  @Test
  void selectOnListAddsKind() {
    Http.Res r = list("select", "[\"uuid\",\"state\"]");
    for (JsonElement e : r.json().getAsJsonArray("items")) {
      assertThat(e.getAsJsonObject().keySet()).containsExactly("uuid", "state", "kind");
    }
    Http.Res arrayForm =
        http.get("arvados/v1/containers?select[]=uuid&select[]=priority").token(SYSTEM_ROOT).send();
    assertThat(arrayForm.json().getAsJsonArray("items").get(0).getAsJsonObject().keySet())
        .containsExactly("uuid", "priority", "kind");
  }

  @Test
  void badListParametersAre422() {
    // limit and offset that are not integers never reach RailsAPI: the controller's 500.
    Http.Res abc = list("limit", "abc");
    assertThat(abc.status()).isEqualTo(500);
    assertThat(abc.errors()).containsExactly("strconv.ParseInt: parsing \"abc\": invalid syntax");
    assertThat(list("offset", "1.5").errors())
        .containsExactly("strconv.ParseInt: parsing \"1.5\": invalid syntax");
    assertThat(list("limit", "-1").errors().get(0)).contains("Invalid value for limit parameter");
    assertThat(list("count", "maybe").errors().get(0))
        .contains("count parameter must be 'exact' or 'none'");
    assertThat(list("select", "[\"bogus\"]").errors().get(0))
        .contains("Invalid attribute 'bogus' of Container in select parameter");
    assertThat(list("select", "[\"runtime_token\"]").status()).isEqualTo(422);
    // A filter without its operand compares with nil (record_filters.rb destructures the triple).
    assertThat(list("filters", "[[\"uuid\",\"=\"]]").json().getAsJsonArray("items")).isEmpty();
    // A hash column compared with a string: its serialized text is compared (no match here).
    assertThat(list("filters", "[[\"mounts\",\"=\",\"x\"]]").json().getAsJsonArray("items"))
        .isEmpty();
    // A filters value the controller cannot read as a list of filters is its 500.
    assertThat(list("filters", "{\"a\":1}").status()).isEqualTo(500);
    for (String f :
        List.of(
            "[[\"bogus\",\"=\",1]]",
            "[[\"uuid\",\"~\",1]]",
            "[[\"uuid\",\"in\",\"x\"]]",
            "not json",
            "[[\"priority\",\">\",\"abc\"]]",
            "[[\"runtime_token\",\"=\",\"x\"]]",
            "[[\"mounts\",\"contains\",\"x\"]]",
            "[[\"started_at\",\"<\",\"yesterday\"]]",
            "[[\"uuid\",\"=\",{}]]")) {
      Http.Res r = list("filters", f);
      assertThat(r.status()).as(f).isEqualTo(422);
      assertThat(r.json().has("error_token")).isTrue();
    }
  }

  @Test
  void clusterIdAndBypassFederation() {
    assertThat(list("cluster_id", "zzzzz").status()).isEqualTo(200);
    assertThat(list("cluster_id", "other").status()).isEqualTo(404);
    assertThat(
            http.get("arvados/v1/containers")
                .token(Fixtures.ACTIVE_USER)
                .query("bypass_federation", "true")
                .send()
                .status())
        .isEqualTo(403);
    assertThat(list("bypass_federation", "true").status()).isEqualTo(200);
  }
}
