package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.lang.reflect.Method;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The streaming decoder against an independent oracle: the typed tree accessors of {@link Json}
 * applied to Gson's parse tree. Whatever the record (any subset of fields, wrong types, nulls,
 * duplicate keys, unknown fields with nested values), both give the same values or the same error.
 */
class ContainerDecoderTest {
  private static final String UUID = "zzzzz-dz642-streamdecoding1";

  /** The known fields by kind, as the API types them. */
  private static final List<String> STRINGS =
      List.of(
          "kind",
          "etag",
          "owner_uuid",
          "modified_by_user_uuid",
          "container_image",
          "cwd",
          "locked_by_uuid",
          "log",
          "output",
          "output_path",
          "state",
          "auth_uuid",
          "runtime_user_uuid",
          "gateway_address");

  private static final List<String> TIMESTAMPS =
      List.of("created_at", "modified_at", "finished_at", "started_at");
  private static final List<String> INTEGERS = List.of("exit_code", "priority", "lock_count");
  private static final List<String> NUMBERS = List.of("progress", "cost", "subrequests_cost");
  private static final List<String> BOOLEANS = List.of("interactive_session_started", "service");
  private static final List<String> STRING_LISTS =
      List.of("command", "output_glob", "runtime_auth_scopes", "output_storage_classes");
  private static final List<String> STRING_MAPS = List.of("environment");
  private static final List<String> OBJECT_MAPS =
      List.of(
          "mounts",
          "runtime_constraints",
          "runtime_status",
          "scheduling_parameters",
          "output_properties",
          "published_ports");

  @Test
  void aFullRecordDecodesEveryField() {
    String body =
        "{\"kind\":\"arvados#container\",\"etag\":\"e1\",\"uuid\":\""
            + UUID
            + "\",\"owner_uuid\":\"zzzzz-tpzed-000000000000000\","
            + "\"created_at\":\"2026-12-01T09:56:14.228593339Z\",\"modified_at\":null,"
            + "\"command\":[\"echo\",\"hi\"],\"environment\":{\"A\":\"1\"},"
            + "\"mounts\":{\"/out\":{\"kind\":\"tmp\",\"capacity\":1000000,\"ratio\":0.5,"
            + "\"list\":[1,2.5,true,null,\"s\",[],{}]}},\"priority\":500,\"progress\":0.25,"
            + "\"state\":\"Running\",\"auth_uuid\":\"zzzzz-gj3su-aaaaaaaaaaaaaaa\",\"lock_count\":3,"
            + "\"service\":false,\"output_storage_classes\":[],\"published_ports\":{},"
            + "\"future_field\":{\"deep\":[[[{\"x\":1}]]]}}";

    Container c = ContainerDecoder.parse(body);

    assertThat(c.uuid()).isEqualTo(UUID);
    assertThat(c.state()).isEqualTo(ContainerState.RUNNING);
    assertThat(c.createdAt()).isEqualTo(Instant.parse("2026-12-01T09:56:14.228593339Z"));
    assertThat(c.modifiedAt()).isNull();
    assertThat(c.has("modified_at")).isTrue();
    assertThat(c.has("finished_at")).isFalse();
    assertThat(c.has("future_field")).isFalse();
    assertThat(c.command()).containsExactly("echo", "hi");
    assertThat(c.environment()).containsEntry("A", "1");
    @SuppressWarnings("unchecked")
    Map<String, Object> out = (Map<String, Object>) c.mounts().get("/out");
    assertThat(out)
        .containsEntry("kind", "tmp")
        .containsEntry("capacity", 1_000_000L)
        .containsEntry("ratio", 0.5);
    @SuppressWarnings("unchecked")
    List<Object> list = (List<Object>) out.get("list");
    assertThat(list).containsExactly(1L, 2.5, true, null, "s", List.of(), Map.of());
    assertThat(c.priority()).isEqualTo(500L);
    assertThat(c.progress()).isEqualTo(0.25);
    assertThat(c.lockCount()).isEqualTo(3L);
    assertThat(c.service()).isFalse();
    assertThat(c.outputStorageClasses()).isEmpty();
    assertThat(c.publishedPorts()).isEmpty();
    assertThatThrownBy(() -> c.command().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> out.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aBadFieldALockNeverReadsStillFailsWhenTheAnswerArrives() {
    // Single-record answers are decoded in full only on first use, but checked in full at once.
    assertThatThrownBy(() -> ContainerDecoder.parse("{\"uuid\":\"" + UUID + "\",\"mounts\":1}"))
        .hasMessage("field 'mounts': expected an object, got a number");
    assertThatThrownBy(
            () ->
                ContainerDecoder.parse(
                    "{\"uuid\":\"" + UUID + "\",\"environment\":{\"A\":\"1\",\"B\":2}}"))
        .hasMessage("field 'environment.B': expected a string, got a number");
    assertThatThrownBy(() -> ContainerDecoder.parse("{\"uuid\":\"" + UUID + "\",\"cost\":1e999}"))
        .hasMessageContaining("field 'cost': expected a number");
  }

  @Test
  void aRawControlCharacterInAStringALockNeverReads_failsWhenTheAnswerArrives() {
    // Gson's skipValue (the light read) lets it through; the whole record must not.
    assertThatThrownBy(
            () ->
                ContainerDecoder.parse(
                    "{\"uuid\":\"" + UUID + "\",\"command\":[\"echo\",\"a\tb\"]}"))
        .isInstanceOf(Json.DecodeException.class);
    assertThatThrownBy(
            () ->
                ContainerDecoder.parse(
                    "{\"uuid\":\"" + UUID + "\",\"mounts\":{\"/x\":{\"kind\":\"a\u0001\"}}}"))
        .isInstanceOf(Json.DecodeException.class);
  }

  @Test
  void anAnswerWithWhitespaceBetweenTokens_decodesInFullAtOnce() {
    Container c =
        ContainerDecoder.parse(
            "{\n\t\"uuid\": \""
                + UUID
                + "\",\r\n\t\"state\": \"Locked\",\n\t\"command\": [\"echo\", \"hi\"]\n}\n");

    assertThat(c.uuid()).isEqualTo(UUID);
    assertThat(c.state()).isEqualTo(ContainerState.LOCKED);
    assertThat(c.command()).containsExactly("echo", "hi");
  }

  @Test
  void threadsReadingALazilyDecodedRecordAllSeeTheSameValues() throws Exception {
    String body =
        "{\"uuid\":\""
            + UUID
            + "\",\"command\":[\"a\",\"b\"],\"mounts\":{\"/x\":{\"kind\":\"tmp\"}},"
            + "\"cwd\":\"/tmp\"}";
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 50; round++) {
        Container c = ContainerDecoder.parse(body);
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(4);
        List<java.util.concurrent.CompletableFuture<String>> reads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          reads.add(
              java.util.concurrent.CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      start.await();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                    return c.command() + " " + c.mounts() + " " + c.cwd();
                  },
                  pool));
        }
        for (var read : reads) {
          assertThat(read.get(10, java.util.concurrent.TimeUnit.SECONDS))
              .isEqualTo("[a, b] {/x={kind=tmp}} /tmp");
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theLastOfDuplicateKeysWinsAndNullClearsAnEarlierValue() {
    Container c =
        ContainerDecoder.parse(
            "{\"uuid\":\""
                + UUID
                + "\",\"priority\":1,\"priority\":2,\"auth_uuid\":\"a\",\"auth_uuid\":null,"
                + "\"command\":[\"a\"],\"command\":null}");
    assertThat(c.priority()).isEqualTo(2L);
    assertThat(c.authUuid()).isNull();
    assertThat(c.command()).isEmpty();
  }

  @Test
  void aListEnvelopeYieldsItsItemsAndCount() {
    ContainerDecoder.Page page =
        ContainerDecoder.parseList(
            "{\"kind\":\"arvados#containerList\",\"offset\":0,\"limit\":100,\"items\":[{\"uuid\":\""
                + UUID
                + "\",\"state\":\"Queued\"}],\"items_available\":1}");
    assertThat(page.items()).extracting(Container::uuid).containsExactly(UUID);
    assertThat(page.itemsAvailable()).isEqualTo(1L);
    assertThatThrownBy(() -> ContainerDecoder.parseList("{\"items\":{}}"))
        .hasMessage("list response has no 'items' array");
    assertThatThrownBy(() -> ContainerDecoder.parseList("{\"items\":[1]}"))
        .hasMessage("list item is not an object");
  }

  @Test
  void malformedBodiesAreDecodeErrorsNamingTheProblem() {
    assertThatThrownBy(() -> ContainerDecoder.parse(" ")).hasMessageContaining("empty body");
    assertThatThrownBy(() -> ContainerDecoder.parse("{\"uuid\":")).hasMessageContaining("invalid");
    assertThatThrownBy(() -> ContainerDecoder.parse("[1]"))
        .hasMessage("expected a JSON object, got an array");
    assertThatThrownBy(() -> ContainerDecoder.parse("{\"uuid\":\"" + UUID + "\"} {}"))
        .hasMessageContaining("trailing data");
    assertThatThrownBy(() -> ContainerDecoder.parse("{\"state\":\"Queued\"}"))
        .hasMessageContaining("no 'uuid'");
    String deep = "[".repeat(400) + "]".repeat(400);
    assertThatThrownBy(
            () -> ContainerDecoder.parse("{\"uuid\":\"u\",\"mounts\":{\"a\":" + deep + "}}"))
        .isInstanceOf(Json.DecodeException.class);
  }

  @Property(tries = 400)
  void streamingAgreesWithTheTreeAccessors(@ForAll("records") String body) throws Exception {
    Object expected = oracle(body);
    Object actual;
    try {
      actual = snapshot(ContainerDecoder.parse(body));
    } catch (Json.DecodeException e) {
      actual = "error: " + e.getMessage();
    }
    assertThat(actual).isEqualTo(expected);
    // The same values in the same document order (lists' and maps' own toString).
    assertThat(String.valueOf(actual)).isEqualTo(String.valueOf(expected));
  }

  @Property(tries = 400)
  void aListedRecordDecodesAsTheTreeAccessorsAndAsASingleAnswer(@ForAll("records") String body)
      throws Exception {
    Object expected = oracle(body);
    Object listed;
    try {
      List<Container> items =
          ContainerDecoder.parseList("{\"items\":[" + body + "," + body + "]}").items();
      listed = snapshot(items.get(0));
      // A record decoded twice is the same record, whatever the strings and values they share.
      assertThat(snapshot(items.get(1))).isEqualTo(listed);
      assertThat(String.valueOf(snapshot(items.get(1)))).isEqualTo(String.valueOf(listed));
    } catch (Json.DecodeException e) {
      listed = "error: " + e.getMessage();
    }
    assertThat(listed).isEqualTo(expected);
    assertThat(String.valueOf(listed)).isEqualTo(String.valueOf(expected));
  }

  @Property(tries = 3000)
  void timestampsReadDirectlyAreTheInstantsTheFormatterReads(@ForAll("timestamps") String text) {
    Object expected;
    try {
      expected = java.time.OffsetDateTime.parse(text).toInstant();
    } catch (java.time.format.DateTimeParseException e) {
      expected = "refused";
    }
    Object actual;
    try {
      actual = Json.instant(text);
    } catch (java.time.format.DateTimeParseException e) {
      actual = "refused";
    }
    assertThat(actual).isEqualTo(expected);
  }

  @Property(tries = 2000)
  void epochDaysCountedDirectlyAreTheCalendarsEpochDays(
      @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 9999) int year,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 12) int month,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 31) int day) {
    java.time.LocalDate date;
    try {
      date = java.time.LocalDate.of(year, month, day);
    } catch (java.time.DateTimeException invalid) {
      return; // only valid dates reach Json.epochDay
    }
    assertThat(Json.epochDay(year, month, day)).isEqualTo(date.toEpochDay());
  }

  @Provide
  Arbitrary<String> timestamps() {
    Arbitrary<String> year = Arbitraries.of("2026", "2024", "1900", "0000", "9999", "20a6");
    Arbitrary<String> month = Arbitraries.of("01", "02", "12", "13", "00", "1");
    Arbitrary<String> day = Arbitraries.of("01", "28", "29", "30", "31", "32", "00");
    Arbitrary<String> time =
        Arbitraries.of("00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "9:00:00");
    Arbitrary<String> fraction =
        Arbitraries.of("", ".", ".1", ".123456", ".123456789", ".1234567890", ".12a");
    Arbitrary<String> zone = Arbitraries.of("Z", "z", "+00:00", "+02:00", "-05:30", "");
    Arbitrary<String> sep = Arbitraries.of("T", "t", " ");
    return Combinators.combine(year, month, day, sep, time, fraction, zone)
        .as((y, mo, d, t, hms, f, z) -> y + "-" + mo + "-" + d + t + hms + f + z);
  }

  /**
   * Decodes with Gson's tree and the typed accessors, field by field in document order (the first
   * bad field is the error), then the uuid check.
   */
  private static Object oracle(String body) {
    JsonObject o = JsonParser.parseString(body).getAsJsonObject();
    try {
      Map<String, Object> values = new java.util.TreeMap<>();
      for (String f : o.keySet()) {
        Object v = treeValue(o, f);
        if (Container.FIELD_INDEX.containsKey(f)) {
          values.put(f, v);
        }
      }
      if (Json.string(o, "uuid") == null) {
        return "error: container record has no 'uuid'";
      }
      return values;
    } catch (Json.DecodeException e) {
      return "error: " + e.getMessage();
    }
  }

  private static Object treeValue(JsonObject o, String f) {
    Object v;
    if (f.equals("uuid")) {
      v = Json.string(o, f);
    } else if (f.equals("state")) {
      String s = Json.string(o, f);
      v = s == null ? null : ContainerState.fromWire(s);
    } else if (STRINGS.contains(f)) {
      v = Json.string(o, f);
    } else if (TIMESTAMPS.contains(f)) {
      v = Json.timestamp(o, f);
    } else if (INTEGERS.contains(f)) {
      v = Json.integer(o, f);
    } else if (NUMBERS.contains(f)) {
      v = Json.number(o, f);
    } else if (BOOLEANS.contains(f)) {
      v = Json.bool(o, f);
    } else if (STRING_LISTS.contains(f)) {
      v = Json.stringList(o, f);
    } else if (STRING_MAPS.contains(f)) {
      v = Json.stringMap(o, f);
    } else if (OBJECT_MAPS.contains(f)) {
      v = Json.objectMap(o, f);
    } else {
      return "unknown";
    }
    return v == null ? "null" : v;
  }

  /** The decoded record as the same map: each present field's accessor value, by API name. */
  static Map<String, Object> snapshot(Container c) throws Exception {
    Map<String, Object> values = new java.util.TreeMap<>();
    for (String f : Container.FIELD_INDEX.keySet()) {
      if (!c.has(f)) {
        continue;
      }
      Method m = Container.class.getMethod(camel(f));
      Object v = m.invoke(c);
      values.put(f, v == null ? "null" : v);
    }
    return values;
  }

  private static String camel(String api) {
    StringBuilder b = new StringBuilder();
    boolean up = false;
    for (char ch : api.toCharArray()) {
      if (ch == '_') {
        up = true;
      } else {
        b.append(up ? Character.toUpperCase(ch) : ch);
        up = false;
      }
    }
    return b.toString();
  }

  // ---- generators: records of random known and unknown fields, values mostly of the right type

  @Provide
  Arbitrary<String> records() {
    List<String> known = new ArrayList<>(Container.FIELD_INDEX.keySet());
    Arbitrary<String> name =
        Arbitraries.oneOf(
            Arbitraries.of(known),
            Arbitraries.of(known),
            Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6));
    Arbitrary<String[]> member =
        Combinators.combine(name, Arbitraries.integers().between(0, 9), jsonValue(2))
            .as((n, roll, any) -> new String[] {n, roll < 7 ? rightType(n, roll) : any});
    Arbitrary<Boolean> withUuid = Arbitraries.integers().between(0, 9).map(i -> i > 0);
    return Combinators.combine(member.list().ofMaxSize(12), withUuid)
        .as(
            (members, uuid) -> {
              // Distinct names: duplicate keys have their own test.
              Map<String, String> byName = new java.util.LinkedHashMap<>();
              if (uuid) {
                byName.put("uuid", "\"" + UUID + "\"");
              }
              for (String[] m : members) {
                byName.putIfAbsent(m[0], m[1]);
              }
              List<String> all = new ArrayList<>();
              byName.forEach((k, v) -> all.add("\"" + k + "\":" + v));
              return "{" + String.join(",", all) + "}";
            });
  }

  private static String rightType(String n, int roll) {
    if (n.equals("state")) {
      return roll % 2 == 0 ? "\"Locked\"" : "\"Paused\"";
    }
    if (STRINGS.contains(n) || n.equals("uuid")) {
      return roll == 0 ? "null" : "\"v" + roll + "\"";
    }
    if (TIMESTAMPS.contains(n)) {
      return roll == 0 ? "\"yesterday\"" : "\"2026-12-0" + roll + "T10:00:00.12345Z\"";
    }
    if (INTEGERS.contains(n)) {
      return roll == 0 ? "1.5" : roll == 1 ? "1e3" : roll == 2 ? "99999999999999999999" : "" + roll;
    }
    if (NUMBERS.contains(n)) {
      return roll == 0 ? "1e400" : roll + ".25";
    }
    if (BOOLEANS.contains(n)) {
      return roll % 2 == 0 ? "true" : "false";
    }
    if (STRING_LISTS.contains(n)) {
      return roll == 0 ? "[\"a\",1]" : roll == 1 ? "[]" : "[\"a\",\"b\"]";
    }
    if (STRING_MAPS.contains(n)) {
      return roll == 0 ? "{\"k\":1}" : roll == 1 ? "{}" : "{\"k\":\"v\",\"j\":\"w\"}";
    }
    if (OBJECT_MAPS.contains(n)) {
      return roll == 0
          ? "{}"
          : "{\"a\":{\"b\":[1,2.5,-3e2,true,null,\"x\"]},\"n\":" + roll + ",\"a\":" + roll + "}";
    }
    return "\"unknown\"";
  }

  private static Arbitrary<String> jsonValue(int depth) {
    Arbitrary<String> scalar =
        Arbitraries.oneOf(
            Arbitraries.of("null", "true", "false", "0", "-7", "2.5e-3", "12345678901234567890"),
            Arbitraries.strings()
                .withCharRange('a', 'z')
                .ofMaxLength(5)
                .map(s -> "\"" + s.toLowerCase(Locale.ROOT) + "\""));
    if (depth == 0) {
      return scalar;
    }
    Arbitrary<String> inner = jsonValue(depth - 1);
    return Arbitraries.oneOf(
        scalar,
        inner.list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]"),
        inner
            .list()
            .ofMaxSize(3)
            .map(
                l -> {
                  List<String> kv = new ArrayList<>();
                  for (int i = 0; i < l.size(); i++) {
                    kv.add("\"k" + i + "\":" + l.get(i));
                  }
                  return "{" + String.join(",", kv) + "}";
                }));
  }
}
