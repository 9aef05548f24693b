package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property: whatever a server answers (random and mutated JSON, wrong types, truncation, HTML error
 * pages, empty and whitespace bodies, deep nesting, unknown fields, any status), every SDK call
 * either succeeds or throws one of the documented {@link ArvadosException} types, within its
 * timeouts. Never a Gson exception, an NPE, a ClassCastException or a StackOverflowError.
 */
public class DecodingPropertiesTest {
  static final String TOKEN = "propertytesttoken0123456789";
  static final String UUID = "zzzzz-dz642-0123456789abcde";
  static final String AUTH = "zzzzz-gj3su-0123456789abcde";

  static HttpServer server;
  static ExecutorService pool;
  static ArvadosClient client;
  static final AtomicReference<Answer> answer = new AtomicReference<>(new Answer(200, "{}"));

  /**
   * Requests served so far; the secret audit checks it to know the property tests ran before it.
   */
  public static final AtomicInteger served = new AtomicInteger();

  record Answer(int status, String body) {}

  @BeforeContainer
  static void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    pool = Executors.newFixedThreadPool(4);
    server.setExecutor(pool);
    server.createContext(
        "/",
        exchange -> {
          served.incrementAndGet();
          Answer a = answer.get();
          // 204 and 304 cannot carry a body in HTTP/1.1
          byte[] body =
              a.status() == 204 || a.status() == 304
                  ? new byte[0]
                  : a.body().getBytes(StandardCharsets.UTF_8);
          exchange.getRequestBody().readAllBytes();
          exchange
              .getResponseHeaders()
              .set("Content-Type", a.body().startsWith("<") ? "text/html" : "application/json");
          exchange.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
          if (body.length > 0) {
            try (OutputStream os = exchange.getResponseBody()) {
              os.write(body);
            }
          }
          exchange.close();
        });
    server.start();
    client =
        ArvadosClient.builder()
            .baseUrl("http://127.0.0.1:" + server.getAddress().getPort() + "/")
            .token(TOKEN)
            .retryPolicy(RetryPolicy.none())
            .readTimeout(Duration.ofSeconds(3))
            .build();
  }

  @AfterContainer
  static void stop() {
    client.close();
    server.stop(0);
    pool.shutdownNow();
  }

  /** Runs one SDK operation against the current answer and checks the property. */
  static void check(Answer a, Consumer<ArvadosClient> op) {
    answer.set(a);
    ArvadosClient c = client;
    {
      long t0 = System.nanoTime();
      try {
        op.accept(c);
      } catch (ArvadosException documented) {
        assertThat(documented.getMessage()).doesNotContain(TOKEN);
        if (documented instanceof ArvadosServiceException) {
          ArvadosServiceException api = (ArvadosServiceException) documented;
          assertThat(api.requestId()).startsWith("req-");
          if (api.bodyExcerpt() != null) {
            assertThat(api.bodyExcerpt().length()).isLessThanOrEqualTo(201);
          }
        }
      } catch (IllegalStateException released) {
        // only the documented "already released" refusal of a lock
        assertThat(released.getMessage()).contains("already released");
      }
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    }
  }

  @Property(tries = 500)
  void get_neverThrowsAnUndocumentedException(@ForAll("answers") Answer a) {
    check(a, c -> c.containers().get(UUID));
  }

  @Property(tries = 300)
  void list_neverThrowsAnUndocumentedException(@ForAll("listAnswers") Answer a) {
    check(a, c -> c.containers().list(ContainerQuery.builder().limit(5).build()).forEach(x -> {}));
  }

  @Property(tries = 300)
  void lock_neverThrowsAnUndocumentedException(@ForAll("answers") Answer a) {
    check(a, c -> c.containers().lock(UUID));
  }

  @Property(tries = 300)
  void guardedUpdate_neverThrowsAnUndocumentedException(@ForAll("answers") Answer a) {
    check(a, c -> c.containers().resume(LockEpoch.of(UUID, AUTH, AUTH, null)).markRunning());
  }

  @Property(tries = 200)
  void auth_neverThrowsAnUndocumentedException_norLeaksTheReturnedSecret(
      @ForAll("answers") Answer a) {
    check(a, c -> c.containers().auth(UUID));
  }

  @Property(tries = 200)
  void tokenUuid_neverThrowsAnUndocumentedException(@ForAll("answers") Answer a) {
    // a fresh client each time: the token uuid is cached after the first success
    answer.set(a);
    try (ArvadosClient fresh = client.newBuilder().build()) {
      check(a, x -> fresh.tokenUuid());
    }
  }

  // ---- generators ----

  @Provide
  Arbitrary<Answer> answers() {
    return Combinators.combine(statuses(), bodies(containerJson())).as(Answer::new);
  }

  @Provide
  Arbitrary<Answer> listAnswers() {
    Arbitrary<String> envelope =
        Combinators.combine(
                containerJson().list().ofMaxSize(4), Arbitraries.integers().between(-1, 10))
            .as(
                (items, n) ->
                    "{\"kind\":\"arvados#containerList\",\"items\":["
                        + String.join(",", items)
                        + "]"
                        + (n < 0 ? "" : ",\"items_available\":" + n)
                        + ",\"offset\":0,\"limit\":5}");
    return Combinators.combine(statuses(), bodies(envelope)).as(Answer::new);
  }

  static Arbitrary<Integer> statuses() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.just(200)),
        net.jqwik.api.Tuple.of(
            3,
            Arbitraries.of(
                201, 204, 400, 401, 403, 404, 409, 413, 422, 429, 500, 501, 502, 503, 504)),
        net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(200, 599)));
  }

  /** A plausible body, then maybe mutated: truncated, retyped, wrapped, or replaced by garbage. */
  static Arbitrary<String> bodies(Arbitrary<String> plausible) {
    Arbitrary<String> truncated =
        plausible.flatMap(
            s ->
                Arbitraries.integers()
                    .between(0, Math.max(0, s.length() - 1))
                    .map(n -> s.substring(0, n)));
    Arbitrary<String> corrupted =
        Combinators.combine(
                plausible,
                Arbitraries.integers().between(0, 200),
                Arbitraries.strings().ofMaxLength(5))
            .as(
                (s, at, junk) -> {
                  int i = Math.min(at, s.length());
                  return s.substring(0, i) + junk + s.substring(i);
                });
    Arbitrary<String> html =
        Arbitraries.of(
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
            "<!DOCTYPE html><html><body>Service Unavailable</body></html>");
    Arbitrary<String> odd =
        Arbitraries.of(
            "",
            " ",
            "\n",
            "null",
            "[]",
            "[{}]",
            "\"text\"",
            "42",
            "true",
            "{",
            "}",
            "{\"errors\":5}",
            "{\"errors\":[{\"a\":1}],\"error_token\":7}",
            "{\"uuid\":null}",
            "{\"items\":{}}",
            "[".repeat(5000) + "]".repeat(5000),
            "{\"a\":".repeat(3000) + "1" + "}".repeat(3000),
            "{\"uuid\":\"" + UUID + "\",\"priority\":1e400}",
            "{\"uuid\":\"" + UUID + "\",\"priority\":12345678901234567890123}",
            "{\"api_token\":\"" + "s".repeat(40) + "\",\"uuid\":5}");
    Arbitrary<String> noise = Arbitraries.strings().ofMaxLength(300);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, plausible),
        net.jqwik.api.Tuple.of(2, truncated),
        net.jqwik.api.Tuple.of(2, corrupted),
        net.jqwik.api.Tuple.of(1, html),
        net.jqwik.api.Tuple.of(2, odd),
        net.jqwik.api.Tuple.of(1, noise));
  }

  /**
   * A container object whose fields have random JSON values of random types, plus unknown fields.
   */
  static Arbitrary<String> containerJson() {
    Arbitrary<String> value =
        Arbitraries.oneOf(
            Arbitraries.strings().alpha().ofMaxLength(12).map(s -> "\"" + s + "\""),
            Arbitraries.of(
                "\"Queued\"",
                "\"Locked\"",
                "\"Running\"",
                "\"Complete\"",
                "\"Cancelled\"",
                "\"Paused\"",
                "\"" + AUTH + "\"",
                "\"2026-11-28T04:00:00.123456789Z\"",
                "\"not-a-date\""),
            Arbitraries.longs().map(Object::toString),
            Arbitraries.doubles().map(d -> Double.isFinite(d) ? Double.toString(d) : "0.5"),
            Arbitraries.of(
                "true", "false", "null", "[]", "{}", "[\"a\",1]", "{\"k\":[1,{\"x\":null}]}"));
    Arbitrary<String> field =
        Arbitraries.of(
            "state",
            "priority",
            "auth_uuid",
            "locked_by_uuid",
            "lock_count",
            "exit_code",
            "progress",
            "runtime_status",
            "command",
            "environment",
            "mounts",
            "created_at",
            "finished_at",
            "output",
            "log",
            "cost",
            "interactive_session_started",
            "uuid",
            "api_token",
            "expires_at",
            "scopes",
            "items_available",
            "some_future_field");
    Arbitrary<String> pair = Combinators.combine(field, value).as((k, v) -> "\"" + k + "\":" + v);
    return pair.list()
        .ofMaxSize(12)
        .map(
            pairs -> {
              StringBuilder sb =
                  new StringBuilder(
                      "{\"uuid\":\""
                          + UUID
                          + "\",\"state\":\"Locked\",\"auth_uuid\":\""
                          + AUTH
                          + "\",\"locked_by_uuid\":\""
                          + AUTH
                          + "\"");
              for (String p : pairs) {
                sb.append(',').append(p);
              }
              return sb.append('}').toString();
            });
  }
}
