package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The compact lists and maps a decoded record keeps, against the unmodifiable {@code ArrayList} and
 * {@code LinkedHashMap} they replace as oracle: the same contents in the same order, equal both
 * ways with the same hash code and text, the same look-ups and JSON, and no way to modify them.
 */
class CompactTest {

  @Property(tries = 1000)
  void aCompactMapIsTheLinkedHashMapOfTheSamePuts(@ForAll("pairs") List<Object[]> pairs) {
    Object[] kv = new Object[2 * pairs.size()];
    Map<String, Object> oracle = new LinkedHashMap<>();
    for (int i = 0; i < pairs.size(); i++) {
      kv[2 * i] = pairs.get(i)[0];
      kv[2 * i + 1] = pairs.get(i)[1];
      oracle.put((String) pairs.get(i)[0], pairs.get(i)[1]);
    }
    Map<String, Object> compact = Compact.map(kv, pairs.size());
    Map<String, Object> expected = Collections.unmodifiableMap(oracle);

    assertThat(compact).isEqualTo(expected);
    assertThat(expected).isEqualTo(compact);
    assertThat(compact.hashCode()).isEqualTo(expected.hashCode());
    assertThat(compact.toString()).isEqualTo(expected.toString());
    assertThat(compact.size()).isEqualTo(expected.size());
    assertThat(new ArrayList<>(compact.keySet())).isEqualTo(new ArrayList<>(expected.keySet()));
    assertThat(new ArrayList<>(compact.values())).isEqualTo(new ArrayList<>(expected.values()));
    assertThat(new ArrayList<>(compact.entrySet())).isEqualTo(new ArrayList<>(expected.entrySet()));
    for (String k : List.of("a", "b", "k0", "k7", "k15", "k29", "missing")) {
      assertThat(compact.get(k)).isEqualTo(expected.get(k));
      assertThat(compact.containsKey(k)).isEqualTo(expected.containsKey(k));
    }
    if (!compact.isEmpty()) {
      // (An empty map is Map.of(), as the decoder has always given, which refuses null look-ups.)
      assertThat(compact.get(null)).isNull();
      assertThat(compact.containsKey(null)).isFalse();
      assertThat(compact.containsValue(null)).isEqualTo(expected.containsValue(null));
    }
    assertThat(Json.toJson(compact)).isEqualTo(Json.toJson(expected));
    assertUnmodifiable(compact);
  }

  @Property(tries = 500)
  void aCompactListIsTheArrayListOfTheSameElements(@ForAll("elements") List<Object> elements) {
    List<Object> compact =
        Compact.list(elements.toArray(new Object[elements.size() + 3]), elements.size());
    List<Object> expected = Collections.unmodifiableList(new ArrayList<>(elements));

    assertThat(compact).isEqualTo(expected);
    assertThat(expected).isEqualTo(compact);
    assertThat(compact.hashCode()).isEqualTo(expected.hashCode());
    assertThat(compact.toString()).isEqualTo(expected.toString());
    assertThat(compact.indexOf("x")).isEqualTo(expected.indexOf("x"));
    if (!compact.isEmpty()) {
      // (An empty list is List.of(), as the decoder has always given, which refuses null.)
      assertThat(compact.contains(null)).isEqualTo(expected.contains(null));
      assertThat(compact.lastIndexOf(null)).isEqualTo(expected.lastIndexOf(null));
    }
    assertThat(compact.subList(0, compact.size() / 2))
        .isEqualTo(expected.subList(0, expected.size() / 2));
    assertThat(Json.toJson(compact)).isEqualTo(Json.toJson(expected));
    assertThatThrownBy(() -> compact.add("x")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> compact.remove("x")).isInstanceOf(UnsupportedOperationException.class);
    if (!compact.isEmpty()) {
      assertThatThrownBy(() -> compact.set(0, "x"))
          .isInstanceOf(UnsupportedOperationException.class);
      Iterator<Object> it = compact.iterator();
      it.next();
      assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class);
    }
  }

  @Test
  void anEqualShortStringIsSharedAndALongOneKeptAsItIs() {
    String first = new String(new char[] {'z', 'z', 'z', 'z', 'z', '-', 't', 'p', 'z'});
    String again = new String(first.toCharArray());
    assertThat(Compact.share(first)).isSameAs(first);
    assertThat(Compact.share(again)).isSameAs(first);
    String longer = "x".repeat(Compact.MAX_SHARED_LENGTH + 1);
    String longerAgain = new String(longer.toCharArray());
    Compact.share(longer);
    assertThat(Compact.share(longerAgain)).isSameAs(longerAgain);
    assertThat(Compact.share(null)).isNull();
    assertThat(Compact.share(new String(new char[0]))).isSameAs("");
  }

  @Test
  void equalSmallMapsAndListsDecodedApartAreOneObject() {
    Map<String, Object> gpu = Compact.map(new Object[] {"device_count", 0L, "stack", ""}, 2);
    Map<String, Object> again =
        Compact.map(new Object[] {new String("device_count"), 0L, new String("stack"), ""}, 2);
    assertThat(again).isSameAs(gpu);
    Map<String, Object> outer = Compact.map(new Object[] {"gpu", gpu, "ram", 1L << 30}, 2);
    assertThat(Compact.map(new Object[] {"gpu", again, "ram", 1L << 30}, 2)).isSameAs(outer);
    List<Object> scopes = Compact.list(new Object[] {"all"}, 1);
    assertThat(Compact.list(new Object[] {new String("all")}, 1)).isSameAs(scopes);
  }

  @Test
  void valuesEqualOnlyAsMapsOrAsNumbersAreNotShared() {
    Map<String, Object> ab = Compact.map(new Object[] {"a", 1L, "b", 2L}, 2);
    Map<String, Object> ba = Compact.map(new Object[] {"b", 2L, "a", 1L}, 2);
    assertThat(ba).isEqualTo(ab).isNotSameAs(ab);
    assertThat(ba.toString()).isEqualTo("{b=2, a=1}");
    List<Object> zero = Compact.list(new Object[] {0.0}, 1);
    List<Object> negativeZero = Compact.list(new Object[] {-0.0}, 1);
    assertThat(negativeZero).isNotSameAs(zero);
    assertThat(Double.doubleToRawLongBits((Double) negativeZero.get(0)))
        .isEqualTo(Double.doubleToRawLongBits(-0.0));
    List<Object> integral = Compact.list(new Object[] {1L}, 1);
    assertThat(Compact.list(new Object[] {1.0}, 1).get(0)).isInstanceOf(Double.class);
    assertThat(integral.get(0)).isInstanceOf(Long.class);
    Map<String, Object> nested = Compact.map(new Object[] {"m", ab}, 1);
    assertThat(Compact.map(new Object[] {"m", ba}, 1)).isNotSameAs(nested);
    assertThat(Compact.map(new Object[] {"m", ba}, 1).toString()).isEqualTo("{m={b=2, a=1}}");
  }

  @Test
  void recordsShareTheirConstraintDefaultsButNeverTheirEnvironment() {
    String item =
        "{\"uuid\":\"zzzzz-dz642-sharingrecord1\",\"environment\":{\"TOKEN\":\"v1-secret\"},"
            + "\"runtime_constraints\":{\"ram\":1,\"gpu\":{\"stack\":\"\"}}}";
    List<Container> items =
        ContainerDecoder.parseList("{\"items\":[" + item + "," + item + "]}").items();
    Container a = items.get(0);
    Container b = items.get(1);
    assertThat(b.runtimeConstraints()).isSameAs(a.runtimeConstraints());
    assertThat(b.environment()).isEqualTo(a.environment()).isNotSameAs(a.environment());
    assertThat(b.environment().get("TOKEN")).isNotSameAs(a.environment().get("TOKEN"));
  }

  @Test
  void zeroIsOneSharedBoxAndEveryOtherNumberItsOwnValue() {
    assertThat(Compact.number(0.0)).isSameAs(Compact.number(0.0));
    assertThat(Double.doubleToRawLongBits(Compact.number(-0.0)))
        .isEqualTo(Double.doubleToRawLongBits(-0.0));
    assertThat(Compact.number(2.5)).isEqualTo(2.5);
  }

  @Test
  void emptyCollectionsAreTheSharedEmptyOnes() {
    assertThat(Compact.map(new Object[4], 0)).isSameAs(Map.of());
    assertThat(Compact.list(new Object[4], 0)).isSameAs(List.of());
  }

  private static void assertUnmodifiable(Map<String, Object> m) {
    assertThatThrownBy(() -> m.put("a", 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.putAll(Map.of("q", 1)))
        .isInstanceOf(UnsupportedOperationException.class);
    // Refused even when nothing would change, as the unmodifiable LinkedHashMap refuses.
    assertThatThrownBy(() -> m.remove("absent")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.putAll(Map.of())).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(m::clear).isInstanceOf(UnsupportedOperationException.class);
    if (m.isEmpty()) {
      return; // Map.of(), as before: its views let a mutator that changes nothing pass
    }
    assertThatThrownBy(() -> m.keySet().remove("absent"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.values().removeIf(v -> false))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.entrySet().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    String first = m.keySet().iterator().next();
    assertThatThrownBy(() -> m.putIfAbsent(first, 1))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.remove(first)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(m::clear).isInstanceOf(UnsupportedOperationException.class);
    Map.Entry<String, Object> e = m.entrySet().iterator().next();
    assertThatThrownBy(() -> e.setValue("x")).isInstanceOf(UnsupportedOperationException.class);
    Iterator<Map.Entry<String, Object>> it = m.entrySet().iterator();
    it.next();
    assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.keySet().remove(first))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  /** Key/value puts: few distinct keys (so keys repeat), up to 40 puts (both representations). */
  @Provide
  Arbitrary<List<Object[]>> pairs() {
    Arbitrary<String> key =
        Arbitraries.oneOf(
            Arbitraries.of("a", "b"), Arbitraries.integers().between(0, 29).map(i -> "k" + i));
    return Arbitraries.oneOf(
            Arbitraries.just(0),
            Arbitraries.integers().between(1, 8),
            Arbitraries.integers().between(1, 40))
        .flatMap(
            n ->
                net.jqwik.api.Combinators.combine(key, value())
                    .as((k, v) -> new Object[] {k, v})
                    .list()
                    .ofSize(n));
  }

  @Provide
  Arbitrary<List<Object>> elements() {
    return value().list().ofMaxSize(12);
  }

  private static Arbitrary<Object> value() {
    return Arbitraries.<Object>oneOf(
            Arbitraries.of("x", "y", ""),
            Arbitraries.longs().between(-3, 3).map(l -> (Object) l),
            Arbitraries.of(Boolean.TRUE, Boolean.FALSE),
            Arbitraries.just(List.of("x")),
            Arbitraries.just(Map.of("e", 1L)))
        .injectNull(0.15);
  }
}
