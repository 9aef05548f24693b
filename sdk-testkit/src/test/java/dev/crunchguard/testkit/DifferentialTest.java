package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The differential suite: one table of scenarios, each run through raw HTTP against the simulator
 * (in-process, with equivalent tokens: two admins and an ordinary user, each with its own user) and
 * against the real Arvados server from the environment ({@link RequiresRealArvados}: skipped
 * without it, failing when {@code CRUNCHGUARD_REQUIRE} names arvados); the normalised transcripts —
 * statuses, error messages, response bodies and the records afterwards — must be identical. Steps
 * where the simulator deliberately models what the Go controller answers in front of RailsAPI are
 * marked with {@link DiffRun#controllerStep}: there the real server (RailsAPI alone) must give
 * RailsAPI's status and the simulator the controller's, and only that is compared.
 */
@RequiresRealArvados
class DifferentialTest {
  static final String SIM_ADMIN = "v2/zzzzz-gj3su-diffadmin000001/diff-admin-secret-0123456789";
  static final String SIM_ADMIN2 = "v2/zzzzz-gj3su-diffadmin000002/diff-admin2-secret-0123456789";
  static final String SIM_USER = "v2/zzzzz-gj3su-diffuser0000001/diff-user-secret-0123456789";

  static ArvadosSimulator sim;
  static DiffTarget simTarget;
  static DiffTarget realTarget;

  @BeforeAll
  static void start(RealArvados arv) {
    realTarget =
        new DiffTarget(
            "real",
            false,
            arv.baseUrl(),
            realClient(arv.insecure()),
            arv.adminToken(),
            arv.admin2Token(),
            arv.userToken());
    sim =
        ArvadosSimulator.builder()
            .adminToken(SIM_ADMIN)
            .adminToken(SIM_ADMIN2)
            .userToken(SIM_USER)
            .maxDispatchAttempts(3)
            .build()
            .start();
    simTarget = new DiffTarget("simulator", true, sim.baseUrl(), SIM_ADMIN, SIM_ADMIN2, SIM_USER);
  }

  /**
   * The JDK client for the real server; with {@code CRUNCHGUARD_ARVADOS_INSECURE}, trusting any
   * certificate.
   */
  static HttpClient realClient(boolean insecure) {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    if (insecure) {
      try {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(
            null,
            new TrustManager[] {
              new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                  return new X509Certificate[0];
                }
              }
            },
            null);
        SSLParameters params = new SSLParameters();
        params.setEndpointIdentificationAlgorithm(null);
        b.sslContext(ctx).sslParameters(params);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
    return b.build();
  }

  @AfterAll
  static void stop() {
    if (sim != null) {
      sim.close();
    }
  }

  record Scenario(String name, Consumer<DiffRun> body) {}

  static final List<Scenario> TABLE = new ArrayList<>();

  static void scenario(String name, Consumer<DiffRun> body) {
    TABLE.add(new Scenario(name, body));
  }

  @TestFactory
  Stream<DynamicTest> simulatorAnswersLikeTheRealServer() {
    return TABLE.stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> compare(s)));
  }

  static void compare(Scenario s) {
    DiffRun real = run(realTarget, s);
    DiffRun simulated = run(simTarget, s);
    List<String> a = real.transcript;
    List<String> b = simulated.transcript;
    for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
      String ra = i < a.size() ? a.get(i) : "<nothing>";
      String sb = i < b.size() ? b.get(i) : "<nothing>";
      assertThat(sb)
          .as("step %d of '%s'%nreal:      %s%nsimulator: %s", i + 1, s.name(), ra, sb)
          .isEqualTo(ra);
    }
  }

  static DiffRun run(DiffTarget t, Scenario s) {
    DiffRun r = new DiffRun(t);
    try {
      s.body().accept(r);
      r.finalRecords();
    } finally {
      r.cleanUp();
    }
    return r;
  }

  // ---- helpers used by the table ----

  static String locked(DiffRun r) {
    String u = r.create();
    r.step("lock", r.http.post(c(u) + "/lock").token(r.t.admin));
    return u;
  }

  static String running(DiffRun r) {
    String u = locked(r);
    r.step("run", r.put(u, r.t.admin, "{\"state\":\"Running\"}"));
    return u;
  }

  static Http.Call lock(DiffRun r, String u, String token) {
    return r.http.post(c(u) + "/lock").token(token);
  }

  static Http.Call unlock(DiffRun r, String u, String token) {
    return r.http.post(c(u) + "/unlock").token(token);
  }

  static Http.Call list(DiffRun r, String token, String... query) {
    Http.Call call = r.http.get("arvados/v1/containers").token(token);
    Map<String, String> q = r.query(query);
    q.forEach(call::query);
    return call;
  }

  static final String MINE = "[[\"container_image\",\"=\",\"%IMG%\"]]";

  static {
    // ---- the lock life cycle ----
    scenario(
        "lock, auth, run, complete",
        r -> {
          String u = locked(r);
          r.containerToken(u, r.t.admin);
          r.step("run", r.put(u, r.t.admin, "{\"state\":\"Running\"}"));
          r.step(
              "progress",
              r.put(u, r.t.admin, "{\"progress\":0.5,\"runtime_status\":{\"activity\":\"x\"}}"));
          r.step("complete", r.put(u, r.t.admin, "{\"state\":\"Complete\",\"exit_code\":0}"));
        });
    scenario(
        "lock when locked",
        r -> {
          String u = locked(r);
          r.step("lock again", lock(r, u, r.t.admin));
          r.step("lock by admin2", lock(r, u, r.t.admin2));
        });
    scenario(
        "unlock when queued",
        r -> {
          String u = r.create();
          r.step("unlock", unlock(r, u, r.t.admin));
        });
    scenario(
        "unlock and relock mints a new auth_uuid",
        r -> {
          String u = locked(r);
          r.step("unlock", unlock(r, u, r.t.admin));
          r.step("relock", lock(r, u, r.t.admin2));
        });
    scenario(
        "MaxDispatchAttempts cancels on the third unlock",
        r -> {
          String u = r.create();
          for (int i = 1; i <= 3; i++) {
            r.step("lock " + i, lock(r, u, r.t.admin));
            r.step("unlock " + i, unlock(r, u, r.t.admin));
          }
          r.step("lock after cancel", lock(r, u, r.t.admin));
        });
    scenario(
        "guarded unlock through PUT state Queued",
        r -> {
          String u = locked(r);
          String auth = r.http.get(c(u)).token(r.t.admin).send().str("auth_uuid");
          r.step(
              "requeue",
              r.put(u, r.t.admin, "{\"state\":\"Queued\",\"auth_uuid\":\"" + auth + "\"}"));
        });
    scenario(
        "stale auth_uuid after unlock and relock",
        r -> {
          String u = locked(r);
          String stale = r.http.get(c(u)).token(r.t.admin).send().str("auth_uuid");
          r.step("unlock", unlock(r, u, r.t.admin));
          r.step("relock", lock(r, u, r.t.admin));
          r.step("run", r.put(u, r.t.admin, "{\"state\":\"Running\"}"));
          r.step(
              "stale write",
              r.put(u, r.t.admin, "{\"progress\":0.5,\"auth_uuid\":\"" + stale + "\"}"));
          String cur = r.http.get(c(u)).token(r.t.admin).send().str("auth_uuid");
          r.step(
              "current write",
              r.put(u, r.t.admin, "{\"progress\":0.5,\"auth_uuid\":\"" + cur + "\"}"));
        });
    scenario(
        "lock with priority 0",
        r -> {
          String u = r.create("create", "{\"priority\":0}");
          r.step("lock", lock(r, u, r.t.admin));
        });
    scenario(
        "update_priority recomputes from container requests",
        r -> {
          String u = r.create("create", "{\"priority\":5}");
          r.step("update_priority", r.http.post(c(u) + "/update_priority").token(r.t.admin));
          r.step(
              "update_priority by the user",
              r.http.post(c(u) + "/update_priority").token(r.t.user));
        });
    scenario(
        "a container request makes the container's priority its requests'",
        r -> {
          String u = locked(r);
          r.share(u);
          r.step(
              "get", r.http.get(c(u)).token(r.t.admin).query("select", "[\"priority\",\"state\"]"));
        });
    scenario(
        "no runtime_user_uuid: the token's user comes from the container request",
        r -> {
          String u =
              r.create("create", "{\"runtime_user_uuid\":null,\"runtime_auth_scopes\":null}");
          r.share(u);
          r.step("lock at priority 0", lock(r, u, r.t.admin));
          r.step("raise priority", r.put(u, r.t.admin, "{\"priority\":3}"));
          r.step("lock", lock(r, u, r.t.admin));
          String tok = r.containerToken(u, r.t.admin);
          r.step(
              "token's own view",
              r.http
                  .get("arvados/v1/api_client_authorizations/current")
                  .token(tok)
                  .query("select", "[\"owner_uuid\",\"scopes\"]"));
        });
    scenario(
        "create without runtime_auth_scopes",
        r -> {
          r.step(
              "create",
              r.http
                  .post("arvados/v1/containers")
                  .token(r.t.admin)
                  .json(
                      r.fill(
                          "{\"container\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\",\"output_path\":\"/o\","
                              + "\"priority\":1,\"runtime_user_uuid\":\"%USER%\"}}")));
        });
    scenario(
        "lock with no runtime_user_uuid",
        r -> {
          String u = r.create("create", "{\"runtime_user_uuid\":null}");
          r.step("lock", lock(r, u, r.t.admin));
        });
    scenario(
        "lock, unlock and auth of a nonexistent container",
        r -> {
          String u = "zzzzz-dz642-0123456789abcde";
          r.step("lock", lock(r, u, r.t.admin));
          r.step("unlock", unlock(r, u, r.t.admin));
          r.step("auth", r.http.get(c(u) + "/auth").token(r.t.admin));
          r.step("get", r.http.get(c(u)).token(r.t.admin));
        });
    scenario(
        "auth by someone other than the lock holder",
        r -> {
          String u = locked(r);
          r.step("auth admin2", r.http.get(c(u) + "/auth").token(r.t.admin2));
          r.step(
              "auth of a queued container", r.http.get(c(r.create()) + "/auth").token(r.t.admin));
        });

    // ---- state transitions ----
    for (String to : List.of("Locked", "Running", "Complete", "Cancelled", "Queued")) {
      scenario(
          "Queued to " + to + " by PUT",
          r -> r.step("put", r.put(r.create(), r.t.admin, "{\"state\":\"" + to + "\"}")));
      scenario(
          "Locked to " + to + " by PUT",
          r -> r.step("put", r.put(locked(r), r.t.admin, "{\"state\":\"" + to + "\"}")));
      scenario(
          "Running to " + to + " by PUT",
          r -> r.step("put", r.put(running(r), r.t.admin, "{\"state\":\"" + to + "\"}")));
      scenario(
          "Complete to " + to + " by PUT",
          r -> {
            String u = running(r);
            r.step("complete", r.put(u, r.t.admin, "{\"state\":\"Complete\",\"exit_code\":1}"));
            r.step("put", r.put(u, r.t.admin, "{\"state\":\"" + to + "\"}"));
          });
      scenario(
          "Cancelled to " + to + " by PUT",
          r -> {
            String u = r.create();
            r.step("cancel", r.put(u, r.t.admin, "{\"state\":\"Cancelled\"}"));
            r.step("put", r.put(u, r.t.admin, "{\"state\":\"" + to + "\"}"));
          });
    }
    scenario(
        "Running to Complete without exit_code",
        r -> r.step("complete", r.put(running(r), r.t.admin, "{\"state\":\"Complete\"}")));

    // ---- update rules per state and the permission matrix ----
    List<String[]> attrs =
        List.of(
            new String[] {"priority", "7"},
            new String[] {"progress", "0.25"},
            new String[] {"runtime_status", "{\"activity\":\"t\"}"},
            new String[] {"exit_code", "3"},
            new String[] {"cost", "2.5"},
            new String[] {"subrequests_cost", "1.5"},
            new String[] {"output_properties", "{\"a\":\"b\"}"},
            new String[] {"gateway_address", "\"host:1\""},
            new String[] {"lock_count", "99"},
            new String[] {"command", "[\"z\"]"},
            new String[] {"started_at", "\"2020-01-01T00:00:00.000000000Z\""},
            new String[] {"interactive_session_started", "true"});
    for (String[] a : attrs) {
      String change = "{\"" + a[0] + "\":" + a[1] + "}";
      scenario(
          "Queued: admin sets " + a[0], r -> r.step("put", r.put(r.create(), r.t.admin, change)));
      scenario(
          "Locked: holder sets " + a[0], r -> r.step("put", r.put(locked(r), r.t.admin, change)));
      scenario(
          "Locked: second admin sets " + a[0],
          r -> r.step("put", r.put(locked(r), r.t.admin2, change)));
      scenario(
          "Running: holder sets " + a[0], r -> r.step("put", r.put(running(r), r.t.admin, change)));
      scenario(
          "Running: second admin sets " + a[0],
          r -> r.step("put", r.put(running(r), r.t.admin2, change)));
      scenario(
          "Running: container token sets " + a[0],
          r -> {
            String u = running(r);
            String tok = r.containerToken(u, r.t.admin);
            r.step("put", r.put(u, tok, change));
          });
      scenario(
          "Locked: container token sets " + a[0],
          r -> {
            String u = locked(r);
            String tok = r.containerToken(u, r.t.admin);
            r.step("put", r.put(u, tok, change));
          });
      scenario(
          "Complete: holder sets " + a[0],
          r -> {
            String u = running(r);
            r.step("complete", r.put(u, r.t.admin, "{\"state\":\"Complete\",\"exit_code\":0}"));
            r.step("put", r.put(u, r.t.admin, change));
          });
      scenario(
          "Running: user with a request sets " + a[0],
          r -> {
            String u = running(r);
            r.share(u);
            r.step("put", r.put(u, r.t.user, change));
          });
    }
    scenario(
        "no-op PUTs",
        r -> {
          String u = running(r);
          r.step("empty", r.put(u, r.t.admin, "{}"));
          r.step("same state", r.put(u, r.t.admin, "{\"state\":\"Running\"}"));
          r.step("same priority by admin2", r.put(u, r.t.admin2, "{\"priority\":1}"));
          r.step("same priority by user", r.put(u, r.t.user, "{\"priority\":1}"));
        });

    // ---- the roles ----
    scenario(
        "second admin's rights on a container locked by the first",
        r -> {
          String u = locked(r);
          r.step("unlock", unlock(r, u, r.t.admin2));
          r.step("requeue by PUT", r.put(u, r.t.admin2, "{\"state\":\"Queued\"}"));
          r.step("run", r.put(u, r.t.admin2, "{\"state\":\"Running\"}"));
          r.step("progress", r.put(u, r.t.admin2, "{\"progress\":0.5}"));
          r.step("cancel", r.put(u, r.t.admin2, "{\"state\":\"Cancelled\"}"));
        });
    scenario(
        "container token's rights on its own container",
        r -> {
          String u = running(r);
          String tok = r.containerToken(u, r.t.admin);
          r.step("get", r.http.get(c(u)).token(tok));
          r.step("current", r.http.get("arvados/v1/containers/current").token(tok));
          r.step("lock", lock(r, u, tok));
          r.step("unlock", unlock(r, u, tok));
          r.step("auth", r.http.get(c(u) + "/auth").token(tok));
          r.step("secret_mounts", r.http.get(c(u) + "/secret_mounts").token(tok));
          r.step("complete", r.put(u, tok, "{\"state\":\"Complete\",\"exit_code\":0}"));
          r.step("after complete", r.http.get(c(u)).token(tok));
        });
    scenario(
        "container token's rights on another container",
        r -> {
          String u = running(r);
          String tok = r.containerToken(u, r.t.admin);
          String other = running(r);
          r.step("get other", r.http.get(c(other)).token(tok));
          r.step("put other", r.put(other, tok, "{\"progress\":0.5}"));
          r.step("lock other", lock(r, r.create(), tok));
          r.step(
              "list",
              list(
                  r,
                  tok,
                  "filters",
                  MINE,
                  "select",
                  "[\"uuid\",\"state\"]",
                  "order",
                  "[\"uuid\"]"));
        });
    scenario(
        "container token after requeue",
        r -> {
          String u = locked(r);
          String tok = r.containerToken(u, r.t.admin);
          r.step("unlock", unlock(r, u, r.t.admin));
          r.step("get", r.http.get(c(u)).token(tok));
        });
    scenario(
        "runtime token container",
        r -> {
          String u =
              r.create(
                  "create", "{\"runtime_token\":\"" + r.t.user + "\",\"runtime_user_uuid\":null}");
          r.step("lock", lock(r, u, r.t.admin));
          r.step("auth", r.http.get(c(u) + "/auth").token(r.t.admin));
          r.step("run", r.put(u, r.t.admin, "{\"state\":\"Running\"}"));
          String four = r.t.user + "/" + u;
          r.step("current", r.http.get("arvados/v1/containers/current").token(four));
          r.step("progress with the 4-part token", r.put(u, four, "{\"progress\":0.5}"));
          r.step("progress with the plain token", r.put(u, r.t.user, "{\"progress\":0.75}"));
        });
    scenario(
        "ordinary user without a container request",
        r -> {
          String u = locked(r);
          r.step("get", r.http.get(c(u)).token(r.t.user));
          r.step("list", list(r, r.t.user, "filters", MINE));
          r.step("lock", lock(r, r.create(), r.t.user));
          r.step("unlock", unlock(r, u, r.t.user));
          r.step("put", r.put(u, r.t.user, "{\"priority\":3}"));
          r.step("delete", r.http.delete(c(u)).token(r.t.user));
        });
    scenario(
        "ordinary user with a container request",
        r -> {
          String u = locked(r);
          String hidden = r.create();
          r.share(u);
          r.step("get", r.http.get(c(u)).token(r.t.user));
          r.step("get the other", r.http.get(c(hidden)).token(r.t.user));
          r.step("list", list(r, r.t.user, "filters", MINE, "select", "[\"uuid\",\"state\"]"));
          r.step(
              "list count",
              list(r, r.t.user, "filters", MINE, "select", "[\"uuid\"]", "limit", "0"));
          r.step("lock", lock(r, r.create(), r.t.user));
          r.step("unlock", unlock(r, u, r.t.user));
          r.step("put", r.put(u, r.t.user, "{\"priority\":3}"));
          r.step("auth", r.http.get(c(u) + "/auth").token(r.t.user));
          r.step("delete", r.http.delete(c(u)).token(r.t.user));
        });
    scenario(
        "missing and unknown tokens",
        r -> {
          String u = r.create();
          r.step("no token", r.http.get(c(u)));
          r.step(
              "unknown token",
              r.http.get(c(u)).token("v2/zzzzz-gj3su-000000000nosuch/nosuchsecret"));
          r.step("bare unknown", r.http.get(c(u)).token("nosuchsecret"));
          r.step("no token list", r.http.get("arvados/v1/containers"));
        });

    // ---- create validation ----
    scenario(
        "create with nothing",
        r ->
            r.step(
                "create",
                r.http.post("arvados/v1/containers").token(r.t.admin).json("{\"container\":{}}")));
    scenario(
        "create with only a command",
        r ->
            r.step(
                "create",
                r.http
                    .post("arvados/v1/containers")
                    .token(r.t.admin)
                    .json("{\"container\":{\"command\":[\"x\"]}}")));
    scenario(
        "create with the required fields only",
        r ->
            r.create(
                "create",
                "{\"priority\":null,\"runtime_user_uuid\":null,\"runtime_auth_scopes\":null}"));
    scenario(
        "create by the ordinary user",
        r ->
            r.step(
                "create",
                r.http
                    .post("arvados/v1/containers")
                    .token(r.t.user)
                    .json(
                        r.fill(
                            "{\"container\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\",\"output_path\":\"/o\"}}"))));
    scenario(
        "create with a negative priority",
        r ->
            r.step(
                "create",
                r.http
                    .post("arvados/v1/containers")
                    .token(r.t.admin)
                    .json(
                        r.fill(
                            "{\"container\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\",\"output_path\":\"/o\",\"priority\":-1}}"))));
    scenario(
        "create with a string priority",
        r ->
            r.step(
                "create",
                r.http
                    .post("arvados/v1/containers")
                    .token(r.t.admin)
                    .json(
                        r.fill(
                            "{\"container\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\",\"output_path\":\"/o\",\"priority\":\"abc\"}}"))));
    scenario(
        "create with an unknown attribute",
        r ->
            r.step(
                "create",
                r.http
                    .post("arvados/v1/containers")
                    .token(r.t.admin)
                    .json(
                        r.fill(
                            "{\"container\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\",\"output_path\":\"/o\",\"no_such\":1}}"))));
    scenario(
        "create in state Locked",
        r ->
            r.step(
                "create",
                r.http
                    .post("arvados/v1/containers")
                    .token(r.t.admin)
                    .json(
                        r.fill(
                            "{\"container\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\",\"output_path\":\"/o\",\"state\":\"Running\"}}"))));
    scenario(
        "create with select",
        r ->
            r.step(
                "create",
                r.http
                    .post("arvados/v1/containers")
                    .token(r.t.admin)
                    .query("select", "[\"uuid\",\"state\",\"cwd\"]")
                    .json(
                        r.fill(
                            "{\"container\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\",\"output_path\":\"/o\"}}"))));

    // ---- bad input ----
    scenario(
        "update with a string priority",
        r -> r.step("put", r.put(r.create(), r.t.admin, "{\"priority\":\"high\"}")));
    scenario(
        "update with a fractional priority",
        r -> r.step("put", r.put(r.create(), r.t.admin, "{\"priority\":1.5}")));
    scenario(
        "update with a null priority",
        r -> r.step("put", r.put(r.create(), r.t.admin, "{\"priority\":null}")));
    scenario(
        "update with a negative priority",
        r -> r.step("put", r.put(r.create(), r.t.admin, "{\"priority\":-3}")));
    scenario(
        "update with a string progress",
        r -> r.step("put", r.put(running(r), r.t.admin, "{\"progress\":\"half\"}")));
    for (String v :
        List.of(
            "\"abc\"",
            "1.5",
            "true",
            "\"3\"",
            "[1]",
            "\"1e3\"",
            "1e3",
            "99999999999999999999",
            "\" 4\"")) {
      scenario(
          "update priority to " + v,
          r -> r.step("put", r.put(r.create(), r.t.admin, "{\"priority\":" + v + "}")));
    }
    for (String v :
        List.of("\"one\"", "\"12abc\"", "true", "1.7", "[1]", "{\"a\":1}", "\"  7 \"")) {
      scenario(
          "update exit_code to " + v,
          r -> r.step("put", r.put(running(r), r.t.admin, "{\"exit_code\":" + v + "}")));
    }
    for (String v : List.of("\"half\"", "\"0.5x\"", "true", "[1]", "\"2\"")) {
      scenario(
          "update progress to " + v,
          r -> r.step("put", r.put(running(r), r.t.admin, "{\"progress\":" + v + "}")));
    }
    for (String v :
        List.of(
            "\"notjson\"", "\"[1]\"", "[1]", "5", "\"{\\\"a\\\":\\\"b\\\"}\"", "\"\"", "null")) {
      scenario(
          "update runtime_status to " + v,
          r -> r.step("put", r.put(locked(r), r.t.admin, "{\"runtime_status\":" + v + "}")));
    }
    for (String v : List.of("\"notjson\"", "{\"a\":1}", "5", "\"[\\\"a\\\"]\"")) {
      scenario(
          "update command to " + v,
          r -> r.step("put", r.put(r.create(), r.t.admin, "{\"command\":" + v + "}")));
    }
    scenario(
        "update with an unknown state",
        r -> r.step("put", r.put(r.create(), r.t.admin, "{\"state\":\"Sleeping\"}")));
    scenario(
        "update with an array runtime_status",
        r -> r.step("put", r.put(locked(r), r.t.admin, "{\"runtime_status\":[1]}")));
    scenario(
        "update with a string exit_code",
        r -> r.step("put", r.put(running(r), r.t.admin, "{\"exit_code\":\"one\"}")));
    scenario(
        "update with a container that is not a hash",
        r ->
            r.controllerStep(
                "put",
                r.http.put(c(r.create())).token(r.t.admin).json("{\"container\":[1,2]}"),
                422,
                500));
    scenario(
        "malformed JSON bodies",
        r -> {
          String u = r.create();
          r.controllerStep(
              "truncated",
              r.http.put(c(u)).token(r.t.admin).json("{\"container\":{\"priority\":2"),
              422,
              400);
          r.controllerStep(
              "not an object", r.http.put(c(u)).token(r.t.admin).json("[1,2]"), 200, 400);
          r.controllerStep(
              "create truncated",
              r.http.post("arvados/v1/containers").token(r.t.admin).json("{\"container\":"),
              422,
              400);
        });
    scenario(
        "form-encoded container that does not parse",
        r ->
            r.controllerStep(
                "put",
                r.http.put(c(r.create())).token(r.t.admin).form(Map.of("container", "{nope")),
                422,
                500));
    scenario(
        "update with an unknown attribute",
        r -> r.step("put", r.put(r.create(), r.t.admin, "{\"no_such\":1}")));
    scenario(
        "update of a nonexistent container",
        r -> r.step("put", r.put("zzzzz-dz642-0123456789abcde", r.t.admin, "{\"priority\":2}")));
    scenario(
        "unknown path",
        r ->
            r.step(
                "get",
                r.http.get("arvados/v1/containers/" + r.create() + "/nosuch").token(r.t.admin)));

    // ---- list filters, order, select and paging ----
    scenario(
        "list filters, order, select and paging",
        r -> {
          for (int p = 1; p <= 4; p++) {
            r.create("create " + p, "{\"priority\":" + p + "}");
          }
          String sel = "[\"uuid\",\"priority\",\"state\"]";
          r.step(
              "all by priority",
              list(r, r.t.admin, "filters", MINE, "order", "[\"priority desc\"]", "select", sel));
          r.step(
              "= priority",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"priority\",\"=\",2]]",
                  "select",
                  sel));
          r.step(
              ">= priority",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"priority\",\">=\",3]]",
                  "order",
                  "[\"priority\"]",
                  "select",
                  sel));
          r.step(
              "in priority",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"priority\",\"in\",[1,4]]]",
                  "order",
                  "[\"priority asc\"]",
                  "select",
                  sel));
          r.step(
              "not in",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"priority\",\"not in\",[1,4]]]",
                  "order",
                  "priority",
                  "select",
                  sel));
          r.step(
              "like",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"like\",\"%IMG%%\"],[\"priority\",\"<\",2]]",
                  "select",
                  sel));
          r.step(
              "string operand",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"priority\",\">\",\"3\"]]",
                  "select",
                  sel));
          r.step(
              "paging",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  MINE,
                  "order",
                  "[\"priority\"]",
                  "limit",
                  "2",
                  "offset",
                  "1",
                  "select",
                  sel));
          r.step(
              "count none",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  MINE,
                  "order",
                  "[\"priority\"]",
                  "limit",
                  "1",
                  "count",
                  "none",
                  "select",
                  sel));
          r.step("limit 0", list(r, r.t.admin, "filters", MINE, "limit", "0"));
          // Without the ordering column there is no ORDER BY at all: the row order is the
          // database's,
          // so only the set of items is compared.
          Http.Res unordered =
              list(
                      r,
                      r.t.admin,
                      "filters",
                      MINE,
                      "order",
                      "[\"priority desc\"]",
                      "select",
                      "[\"uuid\"]")
                  .send();
          r.note("order dropped by select: status", unordered.status());
          List<String> uuids = new ArrayList<>();
          unordered
              .json()
              .getAsJsonArray("items")
              .forEach(i -> uuids.add(i.getAsJsonObject().get("uuid").getAsString()));
          r.note(
              "order dropped by select: items",
              new java.util.TreeSet<>(
                  uuids.stream().map(u -> r.normalise("\"" + u + "\"")).toList()));
          r.step(
              "state filter",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"state\",\"=\",\"Locked\"]]"));
          r.step(
              "is_null filter",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"locked_by_uuid\",\"=\",null]]",
                  "select",
                  sel,
                  "order",
                  "[\"priority\"]"));
        });
    scenario(
        "list with bad parameters",
        r -> {
          r.step("unknown operator", list(r, r.t.admin, "filters", "[[\"priority\",\"~~\",1]]"));
          r.step("unknown column", list(r, r.t.admin, "filters", "[[\"no_such\",\"=\",1]]"));
          r.controllerStep(
              "filters not an array", list(r, r.t.admin, "filters", "{\"a\":1}"), 422, 500);
          r.step("filters not json, not json-looking", list(r, r.t.admin, "filters", "priority"));
          r.controllerStep(
              "select not an array",
              list(r, r.t.admin, "filters", MINE, "select", "{\"a\":1}"),
              422,
              500);
          r.controllerStep(
              "filters not json", list(r, r.t.admin, "filters", "[[\"priority\""), 422, 500);
          r.controllerStep(
              "limit not a number", list(r, r.t.admin, "filters", MINE, "limit", "many"), 422, 500);
          r.step("negative limit", list(r, r.t.admin, "filters", MINE, "limit", "-1"));
          r.step(
              "unknown select column",
              list(r, r.t.admin, "filters", MINE, "select", "[\"no_such\"]"));
          r.step(
              "unknown order column",
              list(r, r.t.admin, "filters", MINE, "order", "[\"no_such\"]"));
          r.step("bad count", list(r, r.t.admin, "filters", MINE, "count", "maybe"));
        });
    scenario(
        "list order forms",
        r -> {
          for (int p = 1; p <= 3; p++) {
            r.create("create " + p, "{\"priority\":" + p + "}");
          }
          String sel = "[\"uuid\",\"priority\"]";
          r.step(
              "comma list",
              list(r, r.t.admin, "filters", MINE, "order", "priority desc,uuid", "select", sel));
          r.step(
              "table prefix",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  MINE,
                  "order",
                  "[\"containers.priority asc\"]",
                  "select",
                  sel));
          r.step(
              "unknown column dropped",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  MINE,
                  "order",
                  "[\"no_such\",\"priority\"]",
                  "select",
                  sel));
          // An order with a bad direction is dropped: the default order (modified_at desc) remains.
          r.step(
              "bad direction",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  MINE,
                  "order",
                  "[\"priority sideways\"]",
                  "select",
                  "[\"uuid\",\"priority\",\"modified_at\"]"));
          r.step(
              "where",
              list(
                  r,
                  r.t.admin,
                  "where",
                  "{\"container_image\":\"%IMG%\",\"priority\":2}",
                  "select",
                  sel));
          r.step("where not json", list(r, r.t.admin, "where", "nope"));
          r.step(
              "distinct",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  MINE,
                  "distinct",
                  "true",
                  "select",
                  "[\"priority\"]",
                  "order",
                  "[\"priority\"]"));
          r.step(
              "bypass_federation by the user",
              list(r, r.t.user, "filters", MINE, "bypass_federation", "true"));
          // A list for another cluster: the controller's federation answers; RailsAPI ignores
          // cluster_id.
          r.controllerStep(
              "other cluster",
              list(r, r.t.admin, "filters", MINE, "cluster_id", "yyyyy"),
              200,
              404);
        });
    scenario(
        "list filter operators",
        r -> {
          String u = locked(r);
          r.create();
          String sel = "[\"uuid\",\"state\"]";
          r.step(
              "uuid in",
              list(r, r.t.admin, "filters", "[[\"uuid\",\"in\",[\"" + u + "\"]]]", "select", sel));
          r.step(
              "is_a",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"uuid\",\"is_a\",\"arvados#container\"]]",
                  "select",
                  sel,
                  "order",
                  "[\"state\"]"));
          r.step(
              "ilike",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"ilike\",\"%IMG%\"],[\"state\",\"ilike\",\"lOCK%\"]]",
                  "select",
                  sel));
          r.step(
              "!= null",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"auth_uuid\",\"!=\",null]]",
                  "select",
                  sel));
          r.step(
              "boolean",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"interactive_session_started\",\"=\",\"false\"]]",
                  "select",
                  sel,
                  "order",
                  "[\"state\"]"));
          r.step(
              "bad boolean operand",
              list(r, r.t.admin, "filters", "[[\"interactive_session_started\",\"=\",\"maybe\"]]"));
          r.step(
              "boolean with <",
              list(r, r.t.admin, "filters", "[[\"interactive_session_started\",\"<\",\"true\"]]"));
          r.step(
              "time",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\"],[\"created_at\",\">\",\"2000-01-01T00:00:00Z\"]]",
                  "select",
                  sel,
                  "order",
                  "[\"state\"]"));
          r.step("float column", list(r, r.t.admin, "filters", "[[\"progress\",\"=\",1]]"));
          r.step("in with a non-array", list(r, r.t.admin, "filters", "[[\"uuid\",\"in\",\"x\"]]"));
          r.step("two elements", list(r, r.t.admin, "filters", "[[\"uuid\",\"=\"]]"));
          r.step("one element", list(r, r.t.admin, "filters", "[[\"uuid\"]]"));
          r.step("numeric operator", list(r, r.t.admin, "filters", "[[\"uuid\",1,2]]"));
          r.step("element not an array", list(r, r.t.admin, "filters", "[\"uuid\"]"));
          r.step(
              "four elements",
              list(
                  r,
                  r.t.admin,
                  "filters",
                  "[[\"container_image\",\"=\",\"%IMG%\",\"extra\"]]",
                  "select",
                  sel,
                  "order",
                  "[\"state\"]"));
          r.step("hash column", list(r, r.t.admin, "filters", "[[\"mounts\",\"=\",\"x\"]]"));
        });
    scenario(
        "delete",
        r -> {
          String u = r.create();
          r.step("delete by admin", r.http.delete(c(u)).token(r.t.admin));
          r.step("get after delete", r.http.get(c(u)).token(r.t.admin));
          r.created.remove(u);
        });
    scenario(
        "output needs a readable collection",
        r -> {
          String u = running(r);
          r.step(
              "output", r.put(u, r.t.admin, "{\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}"));
          r.step("log", r.put(u, r.t.admin, "{\"log\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}"));
          r.step(
              "output that is no collection",
              r.put(u, r.t.admin, "{\"output\":\"fa7aeb5140e2848d39b416daeef4ffc5+45\"}"));
          r.step("output back to null", r.put(u, r.t.admin, "{\"output\":null}"));
          r.step(
              "log that is no collection",
              r.put(u, r.t.admin, "{\"log\":\"fa7aeb5140e2848d39b416daeef4ffc5+45\"}"));
          String l = locked(r);
          r.step(
              "output while Locked", r.put(l, r.t.admin, "{\"output\":\"Auth uuid is readonly\"}"));
        });
    scenario(
        "whitelist messages show Ruby values",
        r -> {
          String u =
              r.create(
                  "create",
                  "{\"runtime_constraints\":{\"vcpus\":2},\"environment\":{\"A\":\"b\"}}");
          r.step(
              "runtime_constraints",
              r.put(u, r.t.admin, "{\"runtime_constraints\":{\"vcpus\":3}}"));
          r.step("environment", r.put(u, r.t.admin, "{\"environment\":{\"A\":\"c\"}}"));
          r.step(
              "mounts",
              r.put(u, r.t.admin, "{\"mounts\":{\"/x\":{\"kind\":\"tmp\",\"capacity\":1}}}"));
          r.step("cwd", r.put(u, r.t.admin, "{\"cwd\":\"/elsewhere\"}"));
          r.step("finished_at", r.put(u, r.t.admin, "{\"finished_at\":\"2020-01-01T00:00:00Z\"}"));
          r.step(
              "output_storage_classes",
              r.put(u, r.t.admin, "{\"output_storage_classes\":[\"a\",\"b\"]}"));
        });
    scenario(
        "create with hashes, scopes and storage classes",
        r ->
            r.create(
                "create",
                "{\"mounts\":{\"/out\":{\"kind\":\"tmp\"}},\"environment\":{\"Z\":\"1\",\"A\":\"2\"},"
                    + "\"runtime_auth_scopes\":[\"GET /b\",\"GET /a\"],\"output_storage_classes\":[\"x\"],"
                    + "\"scheduling_parameters\":{\"preemptible\":true},\"secret_mounts\":{\"/s\":{\"kind\":\"text\",\"content\":\"x\"}}}"));
    scenario(
        "method overrides and token parameters",
        r -> {
          String u = r.create();
          r.step(
              "PATCH",
              r.http.patch(c(u)).token(r.t.admin).json("{\"container\":{\"priority\":4}}"));
          // The controller honours _method in the query string too; RailsAPI's Rack only in a form
          // body.
          r.controllerStep(
              "POST with _method=PUT",
              r.http
                  .post(c(u))
                  .token(r.t.admin)
                  .query("_method", "PUT")
                  .json("{\"container\":{\"priority\":5}}"),
              404,
              200);
          r.step(
              "POST with a form _method=PUT",
              r.http
                  .post(c(u))
                  .token(r.t.admin)
                  .form(Map.of("_method", "PUT", "container", "{\"priority\":6}")));
          r.step(
              "api_token parameter",
              r.http.get(c(u)).query("api_token", r.t.admin).query("select", "[\"priority\"]"));
          r.step(
              "OAuth2 header",
              r.http
                  .get(c(u))
                  .header("Authorization", "OAuth2 " + r.t.admin)
                  .query("select", "[\"priority\"]"));
        });
    scenario(
        "container token after completion",
        r -> {
          String u = running(r);
          String tok = r.containerToken(u, r.t.admin);
          r.step("complete", r.put(u, r.t.admin, "{\"state\":\"Complete\",\"exit_code\":0}"));
          r.step("get with the old token", r.http.get("arvados/v1/containers/current").token(tok));
        });
    scenario(
        "second admin unlocks by PUT and locks",
        r -> {
          String u = locked(r);
          r.step("requeue by admin2", r.put(u, r.t.admin2, "{\"state\":\"Queued\"}"));
          r.step(
              "requeue with locked_by_uuid null",
              r.put(u, r.t.admin, "{\"state\":\"Queued\",\"locked_by_uuid\":null}"));
          r.step("lock by admin2", lock(r, u, r.t.admin2));
          r.step("auth by admin2", r.http.get(c(u) + "/auth").token(r.t.admin2));
          r.step("lock_count set by holder", r.put(u, r.t.admin2, "{\"lock_count\":0}"));
        });
    scenario(
        "a container token with narrow scopes",
        r -> {
          String u =
              r.create("create", "{\"runtime_auth_scopes\":[\"GET /arvados/v1/containers/\"]}");
          r.share(u);
          r.step("raise priority", r.put(u, r.t.admin, "{\"priority\":2}"));
          r.step("lock", lock(r, u, r.t.admin));
          r.step("run", r.put(u, r.t.admin, "{\"state\":\"Running\"}"));
          String tok = r.containerToken(u, r.t.admin);
          r.step(
              "get within the scope",
              r.http.get(c(u)).token(tok).query("select", "[\"uuid\",\"state\"]"));
          r.step("put outside the scope", r.put(u, tok, "{\"progress\":0.5}"));
          r.step("list outside the scope", list(r, tok, "filters", MINE));
          r.step(
              "token itself",
              r.http
                  .get("arvados/v1/api_client_authorizations/current")
                  .token(tok)
                  .query("select", "[\"scopes\"]"));
        });
    scenario(
        "container requests as far as readability needs them",
        r -> {
          String u = r.create();
          r.step(
              "user sets container_uuid",
              r.http
                  .post("arvados/v1/container_requests")
                  .token(r.t.user)
                  .json(
                      r.fill(
                          "{\"container_request\":{\"command\":[\"x\"],\"container_image\":\"%IMG%\","
                              + "\"output_path\":\"/o\",\"state\":\"Uncommitted\",\"priority\":1,\"container_uuid\":\""
                              + u
                              + "\"}}")));
          r.share(u);
          r.step(
              "user reads",
              r.http.get(c(u)).token(r.t.user).query("select", "[\"uuid\",\"priority\"]"));
          r.step(
              "admin2 reads",
              r.http.get(c(u)).token(r.t.admin2).query("select", "[\"uuid\",\"priority\"]"));
        });
    scenario(
        "runtime token container's secret mounts and current",
        r -> {
          String u =
              r.create(
                  "create",
                  "{\"runtime_token\":\""
                      + r.t.user
                      + "\",\"runtime_user_uuid\":null,"
                      + "\"secret_mounts\":{\"/s\":{\"kind\":\"text\",\"content\":\"x\"}}}");
          r.step("lock", lock(r, u, r.t.admin));
          r.step("run", r.put(u, r.t.admin, "{\"state\":\"Running\"}"));
          String four = r.t.user + "/" + u;
          r.step(
              "secret_mounts with the 4-part token",
              r.http.get(c(u) + "/secret_mounts").token(four));
          r.step(
              "secret_mounts with the plain token",
              r.http.get(c(u) + "/secret_mounts").token(r.t.user));
          r.step(
              "secret_mounts by the admin", r.http.get(c(u) + "/secret_mounts").token(r.t.admin));
          r.step(
              "complete with the 4-part token",
              r.put(u, four, "{\"state\":\"Complete\",\"exit_code\":0}"));
          r.step(
              "current after completion", r.http.get("arvados/v1/containers/current").token(four));
        });
    scenario(
        "paths and methods",
        r -> {
          String u = r.create();
          r.step("GET lock", r.http.get(c(u) + "/lock").token(r.t.admin));
          r.step(
              ".json suffix",
              r.http.get(c(u) + ".json").token(r.t.admin).query("select", "[\"uuid\"]"));
          r.step(
              "trailing slash",
              r.http.get(c(u) + "/").token(r.t.admin).query("select", "[\"uuid\"]"));
          r.step("lock.json", r.http.post(c(u) + "/lock.json").token(r.t.admin));
          r.step(
              "update with select",
              r.http
                  .put(c(u))
                  .token(r.t.admin)
                  .query("select", "[\"uuid\",\"state\"]")
                  .json("{\"container\":{\"priority\":1}}"));
          r.step("unknown collection", r.http.get("arvados/v1/no_such_things").token(r.t.admin));
          r.step(
              "offset beyond",
              list(r, r.t.admin, "filters", MINE, "offset", "5", "select", "[\"uuid\"]"));
        });
    scenario(
        "get with select",
        r -> {
          String u = locked(r);
          r.step(
              "select",
              r.http
                  .get(c(u))
                  .token(r.t.admin)
                  .query("select", "[\"uuid\",\"state\",\"lock_count\"]"));
        });
    scenario(
        "form-encoded update",
        r -> {
          String u = r.create();
          r.step(
              "form",
              r.http.put(c(u)).token(r.t.admin).form(Map.of("container", "{\"priority\":5}")));
        });
    scenario(
        "top-level JSON attributes",
        r -> {
          String u = r.create();
          r.step("wrapped", r.http.put(c(u)).token(r.t.admin).json("{\"priority\":6}"));
        });
  }
}
