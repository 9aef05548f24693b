package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.ACTIVE_USER;
import static dev.crunchguard.testkit.Fixtures.OTHER_USER;
import static dev.crunchguard.testkit.Fixtures.RUNTIME_TOKEN;
import static dev.crunchguard.testkit.Fixtures.SECOND_DISPATCHER;
import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.crunchguard.testkit.internal.model.Attr;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The behaviours Arvados's own tests pin for containers (services/api/test/unit/container_test.rb,
 * services/api/test/functional/arvados/v1/containers_controller_test.rb, and the controller's and
 * dispatch library's tests), one test each, through real HTTP. Each display name keeps the
 * scenario's row number, for cross-reference with src/docs/simulator.md section 9. Rows not ported:
 *
 * <ul>
 *   <li>21 (update_priority recomputing from container requests): no container requests are
 *       modelled; the endpoint sets the priority to 0, as the real server does without Committed
 *       requests (see {@link #updatePriorityRecomputesFromCommittedRequests}).
 *   <li>50, 64, 65 (container request finalisation, retries, cumulative cost): container requests
 *       are not modelled; the container-side parts are tested.
 *   <li>59, 62 (output readability): only the empty collection exists (row 57 tests that).
 *   <li>66 (deleting a CR sets priority 0): modelled only as {@link ArvadosSimulator#setPriority}.
 *   <li>72 (Go dispatch library), 73 (Go client retries): client-side behaviour, not the server's.
 *   <li>76 (Deadlocked/QueryAborted give 500): there is no database to fail.
 * </ul>
 */
class ScenarioTableTest {
  static ArvadosSimulator sim;
  static Fixtures fx;
  static Http http;

  @BeforeAll
  static void start() {
    sim = Fixtures.builder().maxDispatchAttempts(10).build().start();
    fx = new Fixtures(sim);
    http = fx.http;
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @Test
  @DisplayName("row 1: admin creates container")
  void adminCreatesContainer() {
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .json(
                "{\"container\":{\"command\":[\"echo\",\"hello\"],\"container_image\":\"test\",\"output_path\":\"test\"}}")
            .send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("state")).isEqualTo("Queued");
    assertThat(r.str("kind")).isEqualTo("arvados#container");
    assertThat(sim.container(r.str("uuid")).state()).isEqualTo("Queued");
  }

  @Test
  @DisplayName("row 2: non-admin cannot create")
  void nonAdminCannotCreate() {
    int before = sim.containers().size();
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(ACTIVE_USER)
            .json("{\"container\":{\"command\":[\"x\"]}}")
            .send();
    assertThat(r.status()).isEqualTo(403);
    assertThat(sim.containers()).hasSize(before);
  }

  @Test
  @DisplayName("row 3: non-admin cannot delete")
  void nonAdminCannotDelete() {
    String u = fx.queued();
    assertThat(http.delete(c(u)).token(ACTIVE_USER).send().status()).isEqualTo(403);
    assertThat(sim.findContainer(u)).isPresent();
    assertThat(http.delete(c(u)).token(SYSTEM_ROOT).send().status()).isEqualTo(200);
    assertThat(sim.findContainer(u)).isEmpty();
  }

  @Test
  @DisplayName("row 4: auth on unlocked container is 403")
  void authOnUnlockedContainerIs403() {
    String u = fx.queued();
    Http.Res r = http.get(c(u) + "/auth").token(SYSTEM_ROOT).send();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0)).contains("Not locked by your token");
  }

  @Test
  @DisplayName("row 5: auth by non-holder is 403")
  void authByNonHolderIs403() {
    String u = fx.lockedBy(SECOND_DISPATCHER, 1);
    Http.Res r = http.get(c(u) + "/auth").token(SYSTEM_ROOT).send();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0))
        .startsWith("#<ArvadosModel::PermissionDeniedError: Not locked by your token> (req-");
  }

  @Test
  @DisplayName("row 6: auth by holder returns container token")
  void authByHolderReturnsContainerToken() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    Http.Res r = http.get(c(u) + "/auth").token(SYSTEM_ROOT).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("api_token").length()).isGreaterThan(32);
    assertThat(r.str("kind")).isEqualTo("arvados#apiClientAuthorization");
    assertThat(r.str("uuid")).isEqualTo(sim.container(u).authUuid());
    assertThat(r.json().get("expires_at").isJsonNull()).isTrue();
  }

  @Test
  @DisplayName("row 7: auth of runtime token container returns runtime token")
  void authOfRuntimeTokenContainerReturnsRuntimeToken() {
    String u = fx.runtimeTokenContainer();
    Http.Res r = http.get(c(u) + "/auth").token(SECOND_DISPATCHER).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat("v2/" + r.str("uuid") + "/" + r.str("api_token")).isEqualTo(RUNTIME_TOKEN);
  }

  @Test
  @DisplayName("row 8: get never renders secrets")
  void getNeverRendersSecrets() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    JsonObject o = http.show(u, SYSTEM_ROOT).json();
    assertThat(o.has("auth")).isFalse();
    assertThat(o.has("secret_mounts")).isFalse();
    assertThat(o.has("runtime_token")).isFalse();
  }

  @Test
  @DisplayName("row 9: lock returns exactly five fields")
  void lockReturnsExactlyFiveFields() {
    String u = fx.queued(1);
    Http.Res r = http.lock(u, SYSTEM_ROOT);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().keySet())
        .containsExactly("uuid", "state", "priority", "auth_uuid", "locked_by_uuid");
    assertThat(r.str("state")).isEqualTo("Locked");
    assertThat(r.json().get("priority").getAsLong()).isEqualTo(1);
    assertThat(r.str("auth_uuid")).matches("zzzzz-gj3su-[a-z0-9]{15}");
    assertThat(r.str("locked_by_uuid")).isEqualTo("zzzzz-gj3su-000000000000000");
    assertThat(fx.state(u)).isEqualTo("Locked");
  }

  @Test
  @DisplayName("row 10: unlock at priority zero")
  void unlockAtPriorityZero() {
    String u = fx.lockedBy(SYSTEM_ROOT, 0);
    Http.Res r = http.unlock(u, SYSTEM_ROOT);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().keySet())
        .containsExactly("uuid", "state", "priority", "auth_uuid", "locked_by_uuid");
    assertThat(r.str("state")).isEqualTo("Queued");
    assertThat(r.json().get("auth_uuid").isJsonNull()).isTrue();
    assertThat(r.json().get("locked_by_uuid").isJsonNull()).isTrue();
    assertThat(r.json().get("priority").getAsLong()).isZero();
  }

  @Test
  @DisplayName("row 11: unlock by other admin is 403")
  void unlockByOtherAdminIs403() {
    String u = fx.lockedBy(SYSTEM_ROOT, 0);
    Http.Res r = http.unlock(u, SECOND_DISPATCHER);
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0)).contains("locked by a different token");
    assertThat(fx.state(u)).isEqualTo("Locked");
  }

  @Test
  @DisplayName("rows 12-16: lock unlock state table")
  void lockUnlockStateTable() {
    String q = fx.queued();
    assertThat(http.lock(q, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(fx.state(q)).isEqualTo("Locked");

    String q2 = fx.queued();
    Http.Res r13 = http.unlock(q2, SYSTEM_ROOT);
    assertThat(r13.status()).isEqualTo(422);
    assertThat(fx.state(q2)).isEqualTo("Queued");

    String l = fx.lockedBy(SYSTEM_ROOT, 1);
    Http.Res r14 = http.lock(l, SYSTEM_ROOT);
    assertThat(r14.status()).isEqualTo(422);
    assertThat(r14.errors().get(0))
        .startsWith("#<ArvadosModel::LockFailedError: cannot lock when Locked>");
    assertThat(fx.state(l)).isEqualTo("Locked");

    String run = fx.running();
    assertThat(http.lock(run, SYSTEM_ROOT).status()).isEqualTo(422);
    assertThat(http.unlock(run, SYSTEM_ROOT).status()).isEqualTo(422);
    assertThat(fx.state(run)).isEqualTo("Running");
  }

  @Test
  @DisplayName("row 17: current with container token")
  void currentWithContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    Http.Res r = http.get("arvados/v1/containers/current").token(ctok).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
  }

  @Test
  @DisplayName("row 18: current with dispatcher token is 404")
  void currentWithDispatcherTokenIs404() {
    Http.Res r = http.get("arvados/v1/containers/current").token(SYSTEM_ROOT).send();
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.errors().get(0)).startsWith("Token is not associated with a container. (");
  }

  @Test
  @DisplayName("row 19: current without token is 401")
  void currentWithoutTokenIs401() {
    Http.Res r = http.get("arvados/v1/containers/current").send();
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.errors().get(0)).startsWith("Not logged in (");
  }

  @Test
  @DisplayName("row 20: secret mounts only for container token")
  void secretMountsOnlyForContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    Http.Res ok = http.get(c(u) + "/secret_mounts").token(ctok).send();
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.json().keySet()).containsExactly("secret_mounts");
    assertThat(
            ok.json()
                .getAsJsonObject("secret_mounts")
                .getAsJsonObject("/secret/6x9")
                .get("content")
                .getAsString())
        .isEqualTo("42\n");
    for (String t : List.of(SECOND_DISPATCHER, SYSTEM_ROOT, ACTIVE_USER)) {
      Http.Res r = http.get(c(u) + "/secret_mounts").token(t).send();
      assertThat(r.status()).as(t).isEqualTo(403);
      assertThat(r.errors().get(0)).startsWith("Token is not associated with this container.");
    }
  }

  @Test
  @DisplayName("row 21: update priority recomputes from committed requests")
  void updatePriorityRecomputesFromCommittedRequests() {
    String u = fx.running();
    assertThat(sim.container(u).priority()).isEqualTo(12);
    Http.Res r = http.post(c(u) + "/update_priority").token(SYSTEM_ROOT).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
    // No Committed container request: the recomputed priority is 0, as on the real server.
    assertThat(r.json().get("priority").getAsLong()).isZero();
    assertThat(sim.container(u).priority()).isZero();
  }

  @Test
  @DisplayName("row 22: patch with top level and wrapped attributes")
  void patchWithTopLevelAndWrappedAttributes() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    Http.Res top =
        http.patch(c(u)).token(ctok).json("{\"runtime_status\":{\"activity\":\"a\"}}").send();
    assertThat(top.status()).isEqualTo(200);
    assertThat(sim.container(u).runtimeStatusJson()).isEqualTo("{\"activity\":\"a\"}");
    Http.Res wrapped =
        http.patch(c(u))
            .token(ctok)
            .json("{\"container\":{\"runtime_status\":{\"activity\":\"b\"}}}")
            .send();
    assertThat(wrapped.status()).isEqualTo(200);
    assertThat(sim.container(u).runtimeStatusJson()).isEqualTo("{\"activity\":\"b\"}");
    Http.Res complete =
        http.patch(c(u))
            .token(ctok)
            .json("{\"state\":\"Complete\",\"runtime_status\":{\"activity\":\"c\"}}")
            .send();
    assertThat(complete.status()).isEqualTo(200);
    assertThat(fx.state(u)).isEqualTo("Complete");
  }

  @Test
  @DisplayName("row 23: dispatcher learns own uuid and finds its locks")
  void dispatcherLearnsOwnUuidAndFindsItsLocks() {
    Http.Res me =
        http.get("arvados/v1/api_client_authorizations/current").token(SYSTEM_ROOT).send();
    assertThat(me.status()).isEqualTo(200);
    String myUuid = me.str("uuid");
    assertThat(myUuid).isEqualTo("zzzzz-gj3su-000000000000000");
    String u = fx.queued();
    assertThat(http.lock(u, SYSTEM_ROOT).str("locked_by_uuid")).isEqualTo(myUuid);
    Http.Res list =
        http.get("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .query(
                "filters",
                "[[\"locked_by_uuid\",\"=\",\"" + myUuid + "\"],[\"uuid\",\"=\",\"" + u + "\"]]")
            .send();
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().getAsJsonArray("items")).hasSize(1);
    assertThat(
            list.json()
                .getAsJsonArray("items")
                .get(0)
                .getAsJsonObject()
                .get("locked_by_uuid")
                .getAsString())
        .isEqualTo(myUuid);
    assertThat(http.unlock(u, SYSTEM_ROOT).status()).isEqualTo(200);
  }

  @Test
  @DisplayName("row 24: current with four part container token")
  void currentWithFourPartContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    Http.Res r = http.get("arvados/v1/containers/current").token(ctok + "/" + u).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
  }

  @Test
  @DisplayName("row 25: current with four part runtime token")
  void currentWithFourPartRuntimeToken() {
    String u = fx.runtimeTokenContainer();
    Http.Res r = http.get("arvados/v1/containers/current").token(RUNTIME_TOKEN + "/" + u).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
  }

  @Test
  @DisplayName("row 26: non-holder admin cancels then runtime token is rejected")
  void nonHolderAdminCancelsThenRuntimeTokenIsRejected() {
    String u = fx.runtimeTokenContainer();
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(
            http.get("arvados/v1/containers/current")
                .token(RUNTIME_TOKEN + "/" + u)
                .send()
                .status())
        .isEqualTo(401);
  }

  @Test
  @DisplayName("row 27: current with three part container token")
  void currentWithThreePartContainerToken() {
    String u = fx.running();
    Http.Res r =
        http.get("arvados/v1/containers/current").token(fx.containerToken(u, SYSTEM_ROOT)).send();
    assertThat(r.status()).isEqualTo(200);
  }

  @Test
  @DisplayName("row 28: current with plain runtime token is 404")
  void currentWithPlainRuntimeTokenIs404() {
    fx.runtimeTokenContainer();
    assertThat(http.get("arvados/v1/containers/current").token(RUNTIME_TOKEN).send().status())
        .isEqualTo(404);
  }

  @Test
  @DisplayName("row 29: runtime token with wrong container is 401")
  void runtimeTokenWithWrongContainerIs401() {
    fx.runtimeTokenContainer();
    String other = fx.running();
    assertThat(
            http.get("arvados/v1/containers/current")
                .token(RUNTIME_TOKEN + "/" + other)
                .send()
                .status())
        .isEqualTo(401);
  }

  @Test
  @DisplayName("row 30: immutable fields of queued container")
  void immutableFieldsOfQueuedContainer() {
    String u = fx.queued();
    Map<String, String> bad =
        Map.of(
            "command", "[\"echo\",\"changed\"]",
            "container_image", "\"other\"",
            "cwd", "\"/tmp\"",
            "environment", "{\"FOO\":\"BAR\"}",
            "mounts", "{\"/m\":{\"kind\":\"tmp\"}}",
            "output_path", "\"/out\"",
            "locked_by_uuid", "\"zzzzz-gj3su-aaaaaaaaaaaaaaa\"",
            "auth_uuid", "\"zzzzz-gj3su-aaaaaaaaaaaaaaa\"",
            "runtime_constraints", "{\"vcpus\":2}");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      Http.Res r = http.update(u, SYSTEM_ROOT, "{\"" + e.getKey() + "\":" + e.getValue() + "}");
      assertThat(r.status()).as(e.getKey()).isEqualTo(422);
    }
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":null}").status()).isEqualTo(422);
    Http.Res flubber = http.update(u, SYSTEM_ROOT, "{\"state\":\"Flubber\"}");
    assertThat(flubber.status()).isEqualTo(422);
    assertThat(flubber.errors().get(0)).startsWith("State cannot change from Queued to Flubber");
    assertThat(http.update(u, SYSTEM_ROOT, "{\"priority\":2}").status()).isEqualTo(200);
    assertThat(sim.container(u).priority()).isEqualTo(2);
    assertThat(sim.container(u).state()).isEqualTo("Queued");
  }

  @Test
  @DisplayName("row 31: priority bounds")
  void priorityBounds() {
    String u = fx.queued();
    Http.Res neg = http.update(u, SYSTEM_ROOT, "{\"priority\":-1}");
    assertThat(neg.status()).isEqualTo(422);
    assertThat(neg.errors().get(0)).startsWith("Priority must be greater than or equal to 0");
    for (long p : new long[] {0, 1, 500, 999, 1000, 1000L << 50}) {
      assertThat(http.update(u, SYSTEM_ROOT, "{\"priority\":" + p + "}").status()).isEqualTo(200);
      assertThat(sim.container(u).priority()).isEqualTo(p);
    }
  }

  @Test
  @DisplayName("row 32: runtime status well known keys must be strings")
  void runtimeStatusWellKnownKeysMustBeStrings() {
    String u = fx.running();
    for (String k : List.of("error", "errorDetail", "warning", "warningDetail", "activity")) {
      assertThat(
              http.update(u, SYSTEM_ROOT, "{\"runtime_status\":{\"" + k + "\":\"str\"}}").status())
          .isEqualTo(200);
      for (String bad : List.of("42", "false", "[]", "{}", "null")) {
        Http.Res r =
            http.update(u, SYSTEM_ROOT, "{\"runtime_status\":{\"" + k + "\":" + bad + "}}");
        assertThat(r.status()).as(k + "=" + bad).isEqualTo(422);
        assertThat(r.errors().get(0))
            .startsWith("Runtime status '" + k + "' value must be a string");
      }
    }
  }

  @Test
  @DisplayName("row 33: non-admin cannot set runtime status")
  void nonAdminCannotSetRuntimeStatus() {
    String u = fx.queued();
    assertThat(http.update(u, ACTIVE_USER, "{\"runtime_status\":{\"error\":\"Oops!\"}}").status())
        .isEqualTo(403);
  }

  @Test
  @DisplayName("rows 34-38: runtime status lifecycle")
  void runtimeStatusLifecycle() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"runtime_status\":{\"error\":\"x\"}}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Queued\"}").status()).isEqualTo(200);
    assertThat(sim.container(u).runtimeStatusJson()).isEqualTo("{}");
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"runtime_status\":{\"error\":\"y\"}}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"runtime_status\":{\"error\":\"z\"}}").status())
        .isEqualTo(422);

    String v = fx.running();
    assertThat(http.update(v, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.update(v, SYSTEM_ROOT, "{\"runtime_status\":{\"error\":\"z\"}}").status())
        .isEqualTo(422);
  }

  @Test
  @DisplayName("row 39: queued cannot jump to running or complete")
  void queuedCannotJumpToRunningOrComplete() {
    String u = fx.queued();
    Http.Res r = http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}");
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.errors().get(0)).startsWith("State cannot change from Queued to Running");
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}").status()).isEqualTo(422);
  }

  @Test
  @DisplayName("row 40: running rejects immutable changes but accepts priority")
  void runningRejectsImmutableChangesButAcceptsPriority() {
    String u = fx.running();
    for (String bad :
        List.of(
            "{\"command\":[\"x\"]}",
            "{\"cwd\":\"/x\"}",
            "{\"state\":\"Flubber\"}",
            "{\"state\":\"Queued\"}",
            "{\"state\":\"Locked\"}")) {
      assertThat(http.update(u, SYSTEM_ROOT, bad).status()).as(bad).isEqualTo(422);
    }
    assertThat(http.update(u, SYSTEM_ROOT, "{\"priority\":3}").status()).isEqualTo(200);
  }

  @Test
  @DisplayName("row 41: lock at priority zero fails")
  void lockAtPriorityZeroFails() {
    String u = fx.queued(0);
    Http.Res r = http.lock(u, SYSTEM_ROOT);
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.errors().get(0))
        .startsWith("#<ArvadosModel::LockFailedError: cannot lock when priority<=0>");
  }

  @Test
  @DisplayName("row 42: after priority raised lock works")
  void afterPriorityRaisedLockWorks() {
    String u = fx.queued(0);
    sim.setPriority(u, 1);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(422);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}").status()).isEqualTo(422);
    Http.Res r = http.lock(u, SYSTEM_ROOT);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("locked_by_uuid")).isNotNull();
    assertThat(r.str("auth_uuid")).isNotNull();
  }

  @Test
  @DisplayName("row 43: relock by holder fails")
  void relockByHolderFails() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    assertThat(http.lock(u, SYSTEM_ROOT).errors().get(0)).contains("cannot lock when Locked");
  }

  @Test
  @DisplayName("row 44: unlock then running fails")
  void unlockThenRunningFails() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    Http.Res r = http.unlock(u, SYSTEM_ROOT);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("locked_by_uuid").isJsonNull()).isTrue();
    assertThat(r.json().get("auth_uuid").isJsonNull()).isTrue();
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(422);
  }

  @Test
  @DisplayName("row 45: running keeps lock and auth")
  void runningKeepsLockAndAuth() {
    String u = fx.queued();
    Http.Res l = http.lock(u, SYSTEM_ROOT);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    ContainerSnapshot s = sim.container(u);
    assertThat(s.lockedByUuid()).isEqualTo(l.str("locked_by_uuid"));
    assertThat(s.authUuid()).isEqualTo(l.str("auth_uuid"));
    assertThat(s.startedAt()).isNotNull();
  }

  @Test
  @DisplayName("rows 46 and 47: lock and unlock of running fail")
  void lockAndUnlockOfRunningFail() {
    String u = fx.running();
    assertThat(http.lock(u, SYSTEM_ROOT).errors().get(0))
        .contains("#<ArvadosModel::LockFailedError: cannot lock when Running>");
    assertThat(http.unlock(u, SYSTEM_ROOT).errors().get(0))
        .contains("#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Running>");
  }

  @Test
  @DisplayName("row 48: complete expires container token")
  void completeExpiresContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    assertThat(http.get("arvados/v1/containers/current").token(ctok).send().status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
    ContainerSnapshot s = sim.container(u);
    assertThat(s.lockedByUuid()).isNull();
    assertThat(s.authUuid()).isNull();
    assertThat(s.finishedAt()).isNotNull();
    assertThat(http.get("arvados/v1/containers/current").token(ctok).send().status())
        .isEqualTo(401);
    assertThat(http.show(u, ctok).status()).isEqualTo(401);
  }

  @Test
  @DisplayName("row 49: max dispatch attempts cancels on third unlock")
  void maxDispatchAttemptsCancelsOnThirdUnlock() {
    try (ArvadosSimulator s3 = Fixtures.builder().maxDispatchAttempts(3).build().start()) {
      Fixtures f = new Fixtures(s3);
      String u = f.queued();
      long[] expected = {1, 1, 2, 2, 3};
      for (int i = 0; i < 5; i++) {
        Http.Res r = i % 2 == 0 ? f.http.lock(u, SYSTEM_ROOT) : f.http.unlock(u, SYSTEM_ROOT);
        assertThat(r.status()).isEqualTo(200);
        assertThat(s3.container(u).lockCount()).isEqualTo(expected[i]);
      }
      Http.Res third = f.http.unlock(u, SYSTEM_ROOT);
      assertThat(third.status()).isEqualTo(200);
      assertThat(third.str("state")).isEqualTo("Cancelled");
      ContainerSnapshot s = s3.container(u);
      assertThat(s.lockCount()).isEqualTo(3);
      assertThat(s.runtimeStatusJson())
          .isEqualTo(
              "{\"error\":\"Failed to start container.  Cancelled after exceeding 'Containers.MaxDispatchAttempts' (lock_count=3)\"}");
      assertThat(s.authUuid()).isNull();
      assertThat(s.finishedAt()).as("inferred: set_timestamps ran before check_unlock").isNull();
      assertThat(f.http.lock(u, SYSTEM_ROOT).status()).isEqualTo(422);
    }
  }

  @Test
  @DisplayName("rows 50 and 51: cancelled is final")
  void cancelledIsFinal() {
    String q = fx.queued();
    assertThat(http.update(q, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.update(q, SYSTEM_ROOT, "{\"priority\":5}").status()).isEqualTo(422);
    assertThat(http.update(q, SYSTEM_ROOT, "{\"state\":\"Queued\"}").status()).isEqualTo(422);
    String l = fx.lockedBy(SYSTEM_ROOT, 1);
    assertThat(http.update(l, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.update(l, SYSTEM_ROOT, "{\"priority\":5}").status()).isEqualTo(422);
    assertThat(http.update(l, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(422);
  }

  @Test
  @DisplayName("row 52: lock mints non expiring token for runtime user")
  void lockMintsNonExpiringTokenForRuntimeUser() {
    String user = "zzzzz-tpzed-runtimeuser0001";
    String u = sim.createContainer(ContainerSpec.builder().runtimeUserUuid(user).build());
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    Http.Res a = http.get(c(u) + "/auth").token(SYSTEM_ROOT).send();
    assertThat(a.str("owner_uuid")).isEqualTo(user);
    assertThat(a.json().get("expires_at").isJsonNull()).isTrue();
  }

  @Test
  @DisplayName("row 53: cancel from locked with log")
  void cancelFromLockedWithLog() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    assertThat(
            http.update(
                    u,
                    SYSTEM_ROOT,
                    "{\"state\":\"Cancelled\",\"log\":\"ea10d51bcf88862dbcc36eb292017dfd+45\"}")
                .status())
        .isEqualTo(200);
    assertThat(sim.container(u).log()).isEqualTo("ea10d51bcf88862dbcc36eb292017dfd+45");
  }

  @Test
  @DisplayName("row 54: cancel from running")
  void cancelFromRunning() {
    String u = fx.running();
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(fx.state(u)).isEqualTo("Cancelled");
  }

  @Test
  @DisplayName("row 55: non-admin user gets 403 for every update in every state")
  void nonAdminUserGets403ForEveryUpdateInEveryState() {
    String q = fx.queued();
    String l = fx.lockedBy(SYSTEM_ROOT, 1);
    String r = fx.running();
    String done = fx.running();
    assertThat(http.update(done, SYSTEM_ROOT, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
    String cancelled = fx.queued();
    assertThat(http.update(cancelled, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status())
        .isEqualTo(200);
    List<String> attrs =
        List.of(
            "{\"state\":\"Cancelled\"}",
            "{\"priority\":5}",
            "{\"runtime_status\":{\"error\":\"x\"}}",
            "{\"cwd\":\"/x\"}",
            "{\"gateway_address\":\"1.2.3.4:5\"}",
            "{\"interactive_session_started\":true}");
    for (String u : List.of(q, l, r, done, cancelled)) {
      for (String a : attrs) {
        assertThat(http.update(u, ACTIVE_USER, a).status()).as(u + " " + a).isEqualTo(403);
      }
    }
    assertThat(fx.state(q)).isEqualTo("Queued");
    assertThat(fx.state(r)).isEqualTo("Running");
  }

  @Test
  @DisplayName("row 56: exit code only when running")
  void exitCodeOnlyWhenRunning() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"exit_code\":1}").status()).isEqualTo(422);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"exit_code\":1}").status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"exit_code\":1,\"state\":\"Complete\"}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).exitCode()).isEqualTo(1L);
  }

  @Test
  @DisplayName("row 57: log and output through the lifecycle")
  void logAndOutputThroughTheLifecycle() {
    String pdh = "\"fa7aeb5140e2848d39b416daeef4ffc5+45\"";
    // The only collection is the empty one; an output naming any other is refused.
    String empty = "\"d41d8cd98f00b204e9800998ecf8427e+0\"";
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"log\":" + pdh + "}").status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"output\":" + pdh + "}").errors())
        .singleElement()
        .asString()
        .startsWith("Output collection must exist and be readable by current user.");
    assertThat(http.update(u, SYSTEM_ROOT, "{\"output\":" + empty + "}").status()).isEqualTo(200);
    assertThat(
            http.update(u, SYSTEM_ROOT, "{\"log\":\"ea10d51bcf88862dbcc36eb292017dfd+45\"}")
                .status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\",\"log\":" + pdh + "}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"output\":null}").status()).isEqualTo(422);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"log\":null}").status()).isEqualTo(422);
  }

  @Test
  @DisplayName("row 58: container token writes progress but not log")
  void containerTokenWritesProgressButNotLog() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    assertContainerTokenRules(u, ctok);
    String rt = fx.runtimeTokenContainer();
    assertThat(http.update(rt, SECOND_DISPATCHER, "{\"state\":\"Running\"}").status())
        .isEqualTo(200);
    assertContainerTokenRules(rt, RUNTIME_TOKEN);
  }

  private static void assertContainerTokenRules(String u, String tok) {
    assertThat(http.update(u, tok, "{\"gateway_address\":\"127.0.0.1:9\"}").status())
        .isEqualTo(200);
    assertThat(http.update(u, tok, "{\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}").status())
        .isEqualTo(200);
    assertThat(http.update(u, tok, "{\"runtime_status\":{\"activity\":\"x\"}}").status())
        .isEqualTo(200);
    assertThat(http.update(u, tok, "{\"progress\":0.5}").status()).isEqualTo(200);
    assertThat(http.update(u, tok, "{\"exit_code\":0}").status()).isEqualTo(200);
    assertThat(http.update(u, tok, "{\"log\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}").status())
        .isEqualTo(422);
    assertThat(http.update(u, tok, "{\"priority\":99}").status()).isEqualTo(422);
    assertThat(http.update(u, tok, "{\"state\":\"Complete\",\"exit_code\":0}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).state()).isEqualTo("Complete");
    assertThat(sim.container(u).progress()).isEqualTo(0.5);
  }

  @Test
  @DisplayName("row 60: another container's token gets 403")
  void anotherContainersTokenGets403() {
    String u = fx.running();
    // A container token has its user's rights: an ordinary user's token can read (through the
    // user's container request) but not write someone else's container.
    String other =
        fx.shared(
            sim.createContainer(
                ContainerSpec.builder().runtimeUserUuid(sim.userUuid(ACTIVE_USER)).build()));
    sim.setPriority(other, 1);
    assertThat(http.lock(other, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.update(other, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    String otherTok = fx.containerToken(other, SYSTEM_ROOT);
    assertThat(
            http.update(u, otherTok, "{\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}")
                .status())
        .isEqualTo(403);
  }

  @Test
  @DisplayName("row 61: admin sets output then completes")
  void adminSetsOutputThenCompletes() {
    String u = fx.running();
    assertThat(
            http.update(u, SYSTEM_ROOT, "{\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}")
                .status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
  }

  @Test
  @DisplayName("row 63: final state scrubs secrets")
  void finalStateScrubsSecrets() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    assertThat(http.get(c(u) + "/secret_mounts").token(ctok).send().status()).isEqualTo(200);
    assertThat(
            http.update(
                    u,
                    SYSTEM_ROOT,
                    "{\"state\":\"Complete\",\"exit_code\":0,\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}")
                .status())
        .isEqualTo(200);
    assertThat(sim.service().find(u).get(Attr.SECRET_MOUNTS).toString()).isEqualTo("{}");
    String rt = fx.runtimeTokenContainer();
    assertThat(sim.container(rt).hasRuntimeToken()).isTrue();
    assertThat(http.update(rt, SECOND_DISPATCHER, "{\"state\":\"Cancelled\"}").status())
        .isEqualTo(200);
    assertThat(sim.container(rt).hasRuntimeToken()).isFalse();
  }

  @Test
  @DisplayName("row 64: cancel queued with cost")
  void cancelQueuedWithCost() {
    String u = fx.queued();
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Cancelled\",\"cost\":1.25}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).toMap().get("cost")).isEqualTo(1.25);
  }

  @Test
  @DisplayName("row 65: running accepts cost and subrequests cost")
  void runningAcceptsCostAndSubrequestsCost() {
    String u = fx.running();
    assertThat(http.update(u, SYSTEM_ROOT, "{\"cost\":0.5,\"subrequests_cost\":1.25}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
  }

  @Test
  @DisplayName("row 66: priority zero while running changes nothing else")
  void priorityZeroWhileRunningChangesNothingElse() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    sim.setPriority(u, 0);
    assertThat(fx.state(u)).isEqualTo("Running");
    assertThat(http.get("arvados/v1/containers/current").token(ctok).send().status())
        .isEqualTo(200);
  }

  @Test
  @DisplayName("row 67: runtime token container never gets auth uuid")
  void runtimeTokenContainerNeverGetsAuthUuid() {
    String u = fx.runtimeTokenContainer();
    assertThat(sim.container(u).authUuid()).isNull();
    assertThat(http.update(u, SECOND_DISPATCHER, "{\"state\":\"Running\"}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).authUuid()).isNull();
    assertThat(http.update(u, SECOND_DISPATCHER, "{\"state\":\"Complete\"}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).authUuid()).isNull();
    assertThat(sim.container(u).hasRuntimeToken()).isFalse();
  }

  @Test
  @DisplayName("row 68: lock lock unlock unlock")
  void lockLockUnlockUnlock() {
    String u = fx.queued();
    Http.Res a = http.lock(u, SYSTEM_ROOT);
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.str("state")).isEqualTo("Locked");
    Http.Res b = http.lock(u, SYSTEM_ROOT);
    assertThat(b.status()).isEqualTo(422);
    assertThat(b.body()).doesNotContain("\"uuid\":");
    Http.Res c = http.unlock(u, SYSTEM_ROOT);
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.str("state")).isEqualTo("Queued");
    assertThat(c.json().has("environment")).isFalse();
    assertThat(http.unlock(u, SYSTEM_ROOT).status()).isEqualTo(422);
  }

  @Test
  @DisplayName("row 69: list as user")
  void listAsUser() {
    for (int i = 0; i < 3; i++) {
      fx.queued();
    }
    Http.Res zero = http.get("arvados/v1/containers").token(ACTIVE_USER).query("limit", "0").send();
    assertThat(zero.json().getAsJsonArray("items")).isEmpty();
    assertThat(zero.json().get("items_available").getAsInt()).isGreaterThan(2);
    Http.Res none =
        http.get("arvados/v1/containers")
            .token(ACTIVE_USER)
            .query("filters", "[[\"uuid\",\"in\",[]]]")
            .send();
    assertThat(none.json().get("items_available").getAsInt()).isZero();
    Http.Res sel =
        http.get("arvados/v1/containers")
            .token(ACTIVE_USER)
            .query("limit", "2")
            .query("select", "[\"uuid\",\"command\"]")
            .send();
    assertThat(sel.json().getAsJsonArray("items")).hasSize(2);
    for (var item : sel.json().getAsJsonArray("items")) {
      assertThat(item.getAsJsonObject().keySet())
          .containsExactlyInAnyOrder("uuid", "command", "kind");
    }
    Http.Res full = http.get("arvados/v1/containers").token(ACTIVE_USER).send();
    assertThat(full.json().getAsJsonArray("items").get(0).getAsJsonObject().has("mounts")).isTrue();
    // OTHER_USER has no container requests: it sees nothing.
    Http.Res other = http.get("arvados/v1/containers").token(OTHER_USER).send();
    assertThat(other.json().getAsJsonArray("items")).isEmpty();
    assertThat(other.json().get("items_available").getAsInt()).isZero();
  }

  @Test
  @DisplayName("row 70: get with select")
  void getWithSelect() {
    String u = fx.queued();
    Http.Res r = http.get(c(u)).token(SYSTEM_ROOT).query("select", "[\"uuid\",\"command\"]").send();
    assertThat(r.status()).isEqualTo(200);
    // Rails path (inferred): no kind added on get; the Go router would add it.
    assertThat(r.json().keySet()).containsExactly("uuid", "command");
  }

  @Test
  @DisplayName("row 71: dispatcher queue sequence")
  void dispatcherQueueSequence() {
    String u = fx.queued();
    assertThat(http.unlock(u, SECOND_DISPATCHER).errors().get(0))
        .contains("cannot unlock when Queued");
    assertThat(http.lock(u, SECOND_DISPATCHER).status()).isEqualTo(200);
    assertThat(http.lock(u, SECOND_DISPATCHER).status()).isEqualTo(422);
    assertThat(http.unlock(u, SECOND_DISPATCHER).status()).isEqualTo(200);
    assertThat(http.unlock(u, SECOND_DISPATCHER).status()).isEqualTo(422);
    assertThat(http.update(u, SECOND_DISPATCHER, "{\"state\":\"Cancelled\"}").status())
        .isEqualTo(200);
    assertThat(http.lock(u, SECOND_DISPATCHER).status()).isEqualTo(422);
  }

  @Test
  @DisplayName("row 74: missing or bogus token is 401")
  void missingOrBogusTokenIs401() {
    Http.Res none = http.get("arvados/v1/containers").send();
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.errors().get(0)).matches("Not logged in \\(req-[a-z0-9]{20}\\)");
    Http.Res bogus = http.get("arvados/v1/containers").token("bogus").send();
    assertThat(bogus.status()).isEqualTo(401);
    assertThat(bogus.errors().get(0)).startsWith("Not logged in");
  }

  @Test
  @DisplayName("row 75: missing object is 404 with error token")
  void missingObjectIs404WithErrorToken() {
    Http.Res r = http.get(c("zzzzz-dz642-000000000000000")).token(SYSTEM_ROOT).send();
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.errors()).hasSize(1);
    assertThat(r.errors().get(0)).startsWith("Path not found (");
    assertThat(r.str("error_token")).matches("[0-9]+\\+[0-9a-f]{8}");
    assertThat(r.json().keySet()).containsExactlyInAnyOrder("errors", "error_token");
  }

  @Test
  @DisplayName("row 77: post with method override is a list")
  void postWithMethodOverrideIsAList() {
    String u = fx.queued();
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .form(Map.of("_method", "GET", "filters", "[[\"uuid\",\"=\",\"" + u + "\"]]"))
            .send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("kind")).isEqualTo("arvados#containerList");
    assertThat(r.json().getAsJsonArray("items")).hasSize(1);
    Http.Res h =
        http.post("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .header("X-Http-Method-Override", "GET")
            .form(Map.of("filters", "[[\"uuid\",\"=\",\"" + u + "\"]]"))
            .send();
    assertThat(h.str("kind")).isEqualTo("arvados#containerList");
  }
}
