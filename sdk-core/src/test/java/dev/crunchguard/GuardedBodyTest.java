package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.jspecify.annotations.Nullable;

/**
 * The guarded write's body is streamed from the update's fields; it must be byte for byte what
 * serialising the envelope as a Gson tree gives (the encoding the SDK used before), whatever the
 * fields hold: escapes, HTML characters, non-ASCII text, nulls, nested values, numbers.
 */
class GuardedBodyTest {
  private static final String AUTH = "zzzzz-gj3su-0123456789abcde";

  /** The reference: the envelope built as a tree and serialised by {@link Json#GSON}. */
  private static byte[] viaTree(ContainerUpdate update, @Nullable String authUuid) {
    JsonObject fields = update.toJson();
    fields.add("auth_uuid", authUuid == null ? JsonNull.INSTANCE : new JsonPrimitive(authUuid));
    JsonObject envelope = new JsonObject();
    envelope.add("container", fields);
    return Json.GSON.toJson(envelope).getBytes(StandardCharsets.UTF_8);
  }

  @Example
  void progressUpdate_isTheCompactEnvelopeWithAuthUuidLast() {
    ContainerUpdate u = ContainerUpdate.builder().progress(0.5).build();

    assertThat(new String(u.guardedBody(AUTH), StandardCharsets.UTF_8))
        .isEqualTo("{\"container\":{\"progress\":0.5,\"auth_uuid\":\"" + AUTH + "\"}}");
  }

  @Example
  void nonAsciiText_isUtf8_andAnUnpairedSurrogateIsAQuestionMark() {
    ContainerUpdate u =
        ContainerUpdate.builder().runtimeStatus(Map.of("activity", "é€\ud83d\ude00\ud83d")).build();

    assertThat(u.guardedBody(AUTH))
        .isEqualTo(
            ("{\"container\":{\"runtime_status\":{\"activity\":\"é€\ud83d\ude00?\"},\"auth_uuid\":\""
                    + AUTH
                    + "\"}}")
                .getBytes(StandardCharsets.UTF_8));
  }

  @Example
  void unfencedLock_sendsAuthUuidAsJsonNull() {
    ContainerUpdate u = ContainerUpdate.builder().state(ContainerState.RUNNING).build();

    assertThat(new String(u.guardedBody(null), StandardCharsets.UTF_8))
        .isEqualTo("{\"container\":{\"state\":\"Running\",\"auth_uuid\":null}}");
  }

  @Property(tries = 300)
  void streamedBody_equalsTheTreeSerialisation(
      @ForAll("updates") ContainerUpdate update, @ForAll("authUuids") @Nullable String authUuid) {
    assertThat(update.guardedBody(authUuid)).isEqualTo(viaTree(update, authUuid));
  }

  @Provide
  Arbitrary<@Nullable String> authUuids() {
    return Arbitraries.oneOf(Arbitraries.just(AUTH), Arbitraries.just(null));
  }

  @Provide
  Arbitrary<ContainerUpdate> updates() {
    Arbitrary<String> plain =
        Arbitraries.strings()
            .withChars("aZ09 \"\\/<>&='\n\t\u0000\u001f\u00e9\u2028\u2029\u20ac")
            .ofMaxLength(12);
    // Surrogates: a pair (one code point, four UTF-8 bytes) and unpaired halves (each a '?').
    Arbitrary<String> surrogates =
        Arbitraries.of("", "\ud83d\ude00", "\ud83d", "\ude00", "\ud83dx");
    Arbitrary<String> text =
        Combinators.combine(plain, surrogates, plain).as((a, b, c) -> a + b + c);
    Arbitrary<Object> leaf =
        Arbitraries.oneOf(
            text.map(s -> (Object) s),
            Arbitraries.longs().map(l -> (Object) l),
            Arbitraries.doubles().map(d -> (Object) d),
            Arbitraries.of(true, false).map(b -> (Object) b));
    Arbitrary<Object> value =
        Arbitraries.oneOf(
            leaf,
            leaf.list().ofMaxSize(3).map(l -> (Object) l),
            Arbitraries.maps(text, leaf).ofMaxSize(3).map(m -> (Object) m));
    Arbitrary<Map<String, Object>> freeForm =
        Arbitraries.maps(
                text.filter(k -> !ContainerUpdate.RUNTIME_STATUS_STRING_KEYS.contains(k)), value)
            .ofMaxSize(4)
            .map(LinkedHashMap::new);
    Arbitrary<String> pdh = Arbitraries.of("d41d8cd98f00b204e9800998ecf8427e+0", "é\"<x>");
    return Combinators.combine(
            Arbitraries.integers().between(1, (1 << 11) - 1),
            freeForm,
            freeForm,
            Arbitraries.doubles().between(0, 1e12),
            pdh)
        .as(GuardedBodyTest::build);
  }

  private static ContainerUpdate build(
      int mask, Map<String, Object> status, Map<String, Object> props, double number, String pdh) {
    ContainerUpdate.Builder b = ContainerUpdate.builder();
    List<Runnable> setters =
        List.of(
            () -> b.state(ContainerState.CANCELLED),
            () -> b.priority((long) number),
            () -> b.progress(number),
            () -> b.runtimeStatus(status),
            () -> b.log(pdh),
            () -> b.output(null),
            () -> b.outputProperties(props),
            () -> b.exitCode((int) number),
            () -> b.gatewayAddress("10.0.0.7:2222"),
            () -> b.cost(number),
            () -> b.interactiveSessionStarted(number > 0.5));
    for (int i = 0; i < setters.size(); i++) {
      if ((mask & (1 << i)) != 0) {
        setters.get(i).run();
      }
    }
    return b.build();
  }
}
