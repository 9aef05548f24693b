package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.ACT;
import static dev.crunchguard.testkit.Fixtures.ACT2;
import static dev.crunchguard.testkit.Fixtures.D2;
import static dev.crunchguard.testkit.Fixtures.RTOK;
import static dev.crunchguard.testkit.Fixtures.SYS;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.crunchguard.testkit.internal.model.Attr;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The scenario table of spec §7, row by row, through real HTTP. Rows not ported:
 *
 * <ul>
 *   <li>21 (update_priority recomputing from container requests): no container requests are
 *       modelled; the endpoint sets the priority to 0, as the real server does without Committed
 *       requests (see {@link #row21_updatePriorityRecomputesFromCommittedRequests}).
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
  void row01_adminCreatesContainer() {
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(SYS)
            .json(
                "{\"container\":{\"command\":[\"echo\",\"hello\"],\"container_image\":\"test\",\"output_path\":\"test\"}}")
            .send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("state")).isEqualTo("Queued");
    assertThat(r.str("kind")).isEqualTo("arvados#container");
    assertThat(sim.container(r.str("uuid")).state()).isEqualTo("Queued");
  }

  @Test
  void row02_nonAdminCannotCreate() {
    int before = sim.containers().size();
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(ACT)
            .json("{\"container\":{\"command\":[\"x\"]}}")
            .send();
    assertThat(r.status()).isEqualTo(403);
    assertThat(sim.containers()).hasSize(before);
  }

  @Test
  void row03_nonAdminCannotDelete() {
    String u = fx.queued();
    assertThat(http.delete(c(u)).token(ACT).send().status()).isEqualTo(403);
    assertThat(sim.findContainer(u)).isPresent();
    assertThat(http.delete(c(u)).token(SYS).send().status()).isEqualTo(200);
    assertThat(sim.findContainer(u)).isEmpty();
  }

  @Test
  void row04_authOnUnlockedContainerIs403() {
    String u = fx.queued();
    Http.Res r = http.get(c(u) + "/auth").token(SYS).send();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0)).contains("Not locked by your token");
  }

  @Test
  void row05_authByNonHolderIs403() {
    String u = fx.lockedBy(D2, 1);
    Http.Res r = http.get(c(u) + "/auth").token(SYS).send();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0))
        .startsWith("#<ArvadosModel::PermissionDeniedError: Not locked by your token> (req-");
  }

  @Test
  void row06_authByHolderReturnsContainerToken() {
    String u = fx.lockedBy(SYS, 1);
    Http.Res r = http.get(c(u) + "/auth").token(SYS).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("api_token").length()).isGreaterThan(32);
    assertThat(r.str("kind")).isEqualTo("arvados#apiClientAuthorization");
    assertThat(r.str("uuid")).isEqualTo(sim.container(u).authUuid());
    assertThat(r.json().get("expires_at").isJsonNull()).isTrue();
  }

  @Test
  void row07_authOfRuntimeTokenContainerReturnsRuntimeToken() {
    String u = fx.runtimeTokenContainer();
    Http.Res r = http.get(c(u) + "/auth").token(D2).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat("v2/" + r.str("uuid") + "/" + r.str("api_token")).isEqualTo(RTOK);
  }

  @Test
  void row08_getNeverRendersSecrets() {
    String u = fx.lockedBy(SYS, 1);
    JsonObject o = http.show(u, SYS).json();
    assertThat(o.has("auth")).isFalse();
    assertThat(o.has("secret_mounts")).isFalse();
    assertThat(o.has("runtime_token")).isFalse();
  }

  @Test
  void row09_lockReturnsExactlyFiveFields() {
    String u = fx.queued(1);
    Http.Res r = http.lock(u, SYS);
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
  void row10_unlockAtPriorityZero() {
    String u = fx.lockedBy(SYS, 0);
    Http.Res r = http.unlock(u, SYS);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().keySet())
        .containsExactly("uuid", "state", "priority", "auth_uuid", "locked_by_uuid");
    assertThat(r.str("state")).isEqualTo("Queued");
    assertThat(r.json().get("auth_uuid").isJsonNull()).isTrue();
    assertThat(r.json().get("locked_by_uuid").isJsonNull()).isTrue();
    assertThat(r.json().get("priority").getAsLong()).isZero();
  }

  @Test
  void row11_unlockByOtherAdminIs403() {
    String u = fx.lockedBy(SYS, 0);
    Http.Res r = http.unlock(u, D2);
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0)).contains("locked by a different token");
    assertThat(fx.state(u)).isEqualTo("Locked");
  }

  @Test
  void rows12to16_lockUnlockStateTable() {
    String q = fx.queued();
    assertThat(http.lock(q, SYS).status()).isEqualTo(200);
    assertThat(fx.state(q)).isEqualTo("Locked");

    String q2 = fx.queued();
    Http.Res r13 = http.unlock(q2, SYS);
    assertThat(r13.status()).isEqualTo(422);
    assertThat(fx.state(q2)).isEqualTo("Queued");

    String l = fx.lockedBy(SYS, 1);
    Http.Res r14 = http.lock(l, SYS);
    assertThat(r14.status()).isEqualTo(422);
    assertThat(r14.errors().get(0))
        .startsWith("#<ArvadosModel::LockFailedError: cannot lock when Locked>");
    assertThat(fx.state(l)).isEqualTo("Locked");

    String run = fx.running();
    assertThat(http.lock(run, SYS).status()).isEqualTo(422);
    assertThat(http.unlock(run, SYS).status()).isEqualTo(422);
    assertThat(fx.state(run)).isEqualTo("Running");
  }

  @Test
  void row17_currentWithContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
    Http.Res r = http.get("arvados/v1/containers/current").token(ctok).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
  }

  @Test
  void row18_currentWithDispatcherTokenIs404() {
    Http.Res r = http.get("arvados/v1/containers/current").token(SYS).send();
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.errors().get(0)).startsWith("Token is not associated with a container. (");
  }

  @Test
  void row19_currentWithoutTokenIs401() {
    Http.Res r = http.get("arvados/v1/containers/current").send();
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.errors().get(0)).startsWith("Not logged in (");
  }

  @Test
  void row20_secretMountsOnlyForContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
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
    for (String t : List.of(D2, SYS, ACT)) {
      Http.Res r = http.get(c(u) + "/secret_mounts").token(t).send();
      assertThat(r.status()).as(t).isEqualTo(403);
      assertThat(r.errors().get(0)).startsWith("Token is not associated with this container.");
    }
  }

  @Test
  void row21_updatePriorityRecomputesFromCommittedRequests() {
    String u = fx.running();
    assertThat(sim.container(u).priority()).isEqualTo(12);
    Http.Res r = http.post(c(u) + "/update_priority").token(SYS).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
    // No Committed container request: the recomputed priority is 0, as on the real server.
    assertThat(r.json().get("priority").getAsLong()).isZero();
    assertThat(sim.container(u).priority()).isZero();
  }

  @Test
  void row22_patchWithTopLevelAndWrappedAttributes() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
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
  void row23_dispatcherLearnsOwnUuidAndFindsItsLocks() {
    Http.Res me = http.get("arvados/v1/api_client_authorizations/current").token(SYS).send();
    assertThat(me.status()).isEqualTo(200);
    String myUuid = me.str("uuid");
    assertThat(myUuid).isEqualTo("zzzzz-gj3su-000000000000000");
    String u = fx.queued();
    assertThat(http.lock(u, SYS).str("locked_by_uuid")).isEqualTo(myUuid);
    Http.Res list =
        http.get("arvados/v1/containers")
            .token(SYS)
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
    assertThat(http.unlock(u, SYS).status()).isEqualTo(200);
  }

  @Test
  void row24_currentWithFourPartContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
    Http.Res r = http.get("arvados/v1/containers/current").token(ctok + "/" + u).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
  }

  @Test
  void row25_currentWithFourPartRuntimeToken() {
    String u = fx.runtimeTokenContainer();
    Http.Res r = http.get("arvados/v1/containers/current").token(RTOK + "/" + u).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(u);
  }

  @Test
  void row26_nonHolderAdminCancelsThenRuntimeTokenIsRejected() {
    String u = fx.runtimeTokenContainer();
    assertThat(http.update(u, SYS, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.get("arvados/v1/containers/current").token(RTOK + "/" + u).send().status())
        .isEqualTo(401);
  }

  @Test
  void row27_currentWithThreePartContainerToken() {
    String u = fx.running();
    Http.Res r = http.get("arvados/v1/containers/current").token(fx.containerToken(u, SYS)).send();
    assertThat(r.status()).isEqualTo(200);
  }

  @Test
  void row28_currentWithPlainRuntimeTokenIs404() {
    fx.runtimeTokenContainer();
    assertThat(http.get("arvados/v1/containers/current").token(RTOK).send().status())
        .isEqualTo(404);
  }

  @Test
  void row29_runtimeTokenWithWrongContainerIs401() {
    fx.runtimeTokenContainer();
    String other = fx.running();
    assertThat(http.get("arvados/v1/containers/current").token(RTOK + "/" + other).send().status())
        .isEqualTo(401);
  }

  @Test
  void row30_immutableFieldsOfQueuedContainer() {
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
      Http.Res r = http.update(u, SYS, "{\"" + e.getKey() + "\":" + e.getValue() + "}");
      assertThat(r.status()).as(e.getKey()).isEqualTo(422);
    }
    assertThat(http.update(u, SYS, "{\"state\":null}").status()).isEqualTo(422);
    Http.Res flubber = http.update(u, SYS, "{\"state\":\"Flubber\"}");
    assertThat(flubber.status()).isEqualTo(422);
    assertThat(flubber.errors().get(0)).startsWith("State cannot change from Queued to Flubber");
    assertThat(http.update(u, SYS, "{\"priority\":2}").status()).isEqualTo(200);
    assertThat(sim.container(u).priority()).isEqualTo(2);
    assertThat(sim.container(u).state()).isEqualTo("Queued");
  }

  @Test
  void row31_priorityBounds() {
    String u = fx.queued();
    Http.Res neg = http.update(u, SYS, "{\"priority\":-1}");
    assertThat(neg.status()).isEqualTo(422);
    assertThat(neg.errors().get(0)).startsWith("Priority must be greater than or equal to 0");
    for (long p : new long[] {0, 1, 500, 999, 1000, 1000L << 50}) {
      assertThat(http.update(u, SYS, "{\"priority\":" + p + "}").status()).isEqualTo(200);
      assertThat(sim.container(u).priority()).isEqualTo(p);
    }
  }

  @Test
  void row32_runtimeStatusWellKnownKeysMustBeStrings() {
    String u = fx.running();
    for (String k : List.of("error", "errorDetail", "warning", "warningDetail", "activity")) {
      assertThat(http.update(u, SYS, "{\"runtime_status\":{\"" + k + "\":\"str\"}}").status())
          .isEqualTo(200);
      for (String bad : List.of("42", "false", "[]", "{}", "null")) {
        Http.Res r = http.update(u, SYS, "{\"runtime_status\":{\"" + k + "\":" + bad + "}}");
        assertThat(r.status()).as(k + "=" + bad).isEqualTo(422);
        assertThat(r.errors().get(0))
            .startsWith("Runtime status '" + k + "' value must be a string");
      }
    }
  }

  @Test
  void row33_nonAdminCannotSetRuntimeStatus() {
    String u = fx.queued();
    assertThat(http.update(u, ACT, "{\"runtime_status\":{\"error\":\"Oops!\"}}").status())
        .isEqualTo(403);
  }

  @Test
  void rows34to38_runtimeStatusLifecycle() {
    String u = fx.lockedBy(SYS, 1);
    assertThat(http.update(u, SYS, "{\"runtime_status\":{\"error\":\"x\"}}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Queued\"}").status()).isEqualTo(200);
    assertThat(sim.container(u).runtimeStatusJson()).isEqualTo("{}");
    assertThat(http.lock(u, SYS).status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"runtime_status\":{\"error\":\"y\"}}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"runtime_status\":{\"error\":\"z\"}}").status())
        .isEqualTo(422);

    String v = fx.running();
    assertThat(http.update(v, SYS, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.update(v, SYS, "{\"runtime_status\":{\"error\":\"z\"}}").status())
        .isEqualTo(422);
  }

  @Test
  void row39_queuedCannotJumpToRunningOrComplete() {
    String u = fx.queued();
    Http.Res r = http.update(u, SYS, "{\"state\":\"Running\"}");
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.errors().get(0)).startsWith("State cannot change from Queued to Running");
    assertThat(http.update(u, SYS, "{\"state\":\"Complete\"}").status()).isEqualTo(422);
  }

  @Test
  void row40_runningRejectsImmutableChangesButAcceptsPriority() {
    String u = fx.running();
    for (String bad :
        List.of(
            "{\"command\":[\"x\"]}",
            "{\"cwd\":\"/x\"}",
            "{\"state\":\"Flubber\"}",
            "{\"state\":\"Queued\"}",
            "{\"state\":\"Locked\"}")) {
      assertThat(http.update(u, SYS, bad).status()).as(bad).isEqualTo(422);
    }
    assertThat(http.update(u, SYS, "{\"priority\":3}").status()).isEqualTo(200);
  }

  @Test
  void row41_lockAtPriorityZeroFails() {
    String u = fx.queued(0);
    Http.Res r = http.lock(u, SYS);
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.errors().get(0))
        .startsWith("#<ArvadosModel::LockFailedError: cannot lock when priority<=0>");
  }

  @Test
  void row42_afterPriorityRaisedLockWorks() {
    String u = fx.queued(0);
    sim.setPriority(u, 1);
    assertThat(http.update(u, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(422);
    assertThat(http.update(u, SYS, "{\"state\":\"Complete\"}").status()).isEqualTo(422);
    Http.Res r = http.lock(u, SYS);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("locked_by_uuid")).isNotNull();
    assertThat(r.str("auth_uuid")).isNotNull();
  }

  @Test
  void row43_relockByHolderFails() {
    String u = fx.lockedBy(SYS, 1);
    assertThat(http.lock(u, SYS).errors().get(0)).contains("cannot lock when Locked");
  }

  @Test
  void row44_unlockThenRunningFails() {
    String u = fx.lockedBy(SYS, 1);
    Http.Res r = http.unlock(u, SYS);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("locked_by_uuid").isJsonNull()).isTrue();
    assertThat(r.json().get("auth_uuid").isJsonNull()).isTrue();
    assertThat(http.update(u, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(422);
  }

  @Test
  void row45_runningKeepsLockAndAuth() {
    String u = fx.queued();
    Http.Res l = http.lock(u, SYS);
    assertThat(http.update(u, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    ContainerSnapshot s = sim.container(u);
    assertThat(s.lockedByUuid()).isEqualTo(l.str("locked_by_uuid"));
    assertThat(s.authUuid()).isEqualTo(l.str("auth_uuid"));
    assertThat(s.startedAt()).isNotNull();
  }

  @Test
  void rows46and47_lockAndUnlockOfRunningFail() {
    String u = fx.running();
    assertThat(http.lock(u, SYS).errors().get(0))
        .contains("#<ArvadosModel::LockFailedError: cannot lock when Running>");
    assertThat(http.unlock(u, SYS).errors().get(0))
        .contains("#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Running>");
  }

  @Test
  void row48_completeExpiresContainerToken() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
    assertThat(http.get("arvados/v1/containers/current").token(ctok).send().status())
        .isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
    ContainerSnapshot s = sim.container(u);
    assertThat(s.lockedByUuid()).isNull();
    assertThat(s.authUuid()).isNull();
    assertThat(s.finishedAt()).isNotNull();
    assertThat(http.get("arvados/v1/containers/current").token(ctok).send().status())
        .isEqualTo(401);
    assertThat(http.show(u, ctok).status()).isEqualTo(401);
  }

  @Test
  void row49_maxDispatchAttemptsCancelsOnThirdUnlock() {
    try (ArvadosSimulator s3 = Fixtures.builder().maxDispatchAttempts(3).build().start()) {
      Fixtures f = new Fixtures(s3);
      String u = f.queued();
      long[] expected = {1, 1, 2, 2, 3};
      for (int i = 0; i < 5; i++) {
        Http.Res r = i % 2 == 0 ? f.http.lock(u, SYS) : f.http.unlock(u, SYS);
        assertThat(r.status()).isEqualTo(200);
        assertThat(s3.container(u).lockCount()).isEqualTo(expected[i]);
      }
      Http.Res third = f.http.unlock(u, SYS);
      assertThat(third.status()).isEqualTo(200);
      assertThat(third.str("state")).isEqualTo("Cancelled");
      ContainerSnapshot s = s3.container(u);
      assertThat(s.lockCount()).isEqualTo(3);
      assertThat(s.runtimeStatusJson())
          .isEqualTo(
              "{\"error\":\"Failed to start container.  Cancelled after exceeding 'Containers.MaxDispatchAttempts' (lock_count=3)\"}");
      assertThat(s.authUuid()).isNull();
      assertThat(s.finishedAt()).as("inferred: set_timestamps ran before check_unlock").isNull();
      assertThat(f.http.lock(u, SYS).status()).isEqualTo(422);
    }
  }

  @Test
  void rows50and51_cancelledIsFinal() {
    String q = fx.queued();
    assertThat(http.update(q, SYS, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.update(q, SYS, "{\"priority\":5}").status()).isEqualTo(422);
    assertThat(http.update(q, SYS, "{\"state\":\"Queued\"}").status()).isEqualTo(422);
    String l = fx.lockedBy(SYS, 1);
    assertThat(http.update(l, SYS, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.update(l, SYS, "{\"priority\":5}").status()).isEqualTo(422);
    assertThat(http.update(l, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(422);
  }

  @Test
  void row52_lockMintsNonExpiringTokenForRuntimeUser() {
    String user = "zzzzz-tpzed-runtimeuser0001";
    String u = sim.createContainer(ContainerSpec.builder().runtimeUserUuid(user).build());
    assertThat(http.lock(u, SYS).status()).isEqualTo(200);
    Http.Res a = http.get(c(u) + "/auth").token(SYS).send();
    assertThat(a.str("owner_uuid")).isEqualTo(user);
    assertThat(a.json().get("expires_at").isJsonNull()).isTrue();
  }

  @Test
  void row53_cancelFromLockedWithLog() {
    String u = fx.lockedBy(SYS, 1);
    assertThat(
            http.update(
                    u,
                    SYS,
                    "{\"state\":\"Cancelled\",\"log\":\"ea10d51bcf88862dbcc36eb292017dfd+45\"}")
                .status())
        .isEqualTo(200);
    assertThat(sim.container(u).log()).isEqualTo("ea10d51bcf88862dbcc36eb292017dfd+45");
  }

  @Test
  void row54_cancelFromRunning() {
    String u = fx.running();
    assertThat(http.update(u, SYS, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(fx.state(u)).isEqualTo("Cancelled");
  }

  @Test
  void row55_nonAdminUserGets403ForEveryUpdateInEveryState() {
    String q = fx.queued();
    String l = fx.lockedBy(SYS, 1);
    String r = fx.running();
    String done = fx.running();
    assertThat(http.update(done, SYS, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
    String cancelled = fx.queued();
    assertThat(http.update(cancelled, SYS, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
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
        assertThat(http.update(u, ACT, a).status()).as(u + " " + a).isEqualTo(403);
      }
    }
    assertThat(fx.state(q)).isEqualTo("Queued");
    assertThat(fx.state(r)).isEqualTo("Running");
  }

  @Test
  void row56_exitCodeOnlyWhenRunning() {
    String u = fx.lockedBy(SYS, 1);
    assertThat(http.update(u, SYS, "{\"exit_code\":1}").status()).isEqualTo(422);
    assertThat(http.update(u, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"exit_code\":1}").status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"exit_code\":1,\"state\":\"Complete\"}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).exitCode()).isEqualTo(1L);
  }

  @Test
  void row57_logAndOutputThroughTheLifecycle() {
    String pdh = "\"fa7aeb5140e2848d39b416daeef4ffc5+45\"";
    // The only collection is the empty one; an output naming any other is refused.
    String empty = "\"d41d8cd98f00b204e9800998ecf8427e+0\"";
    String u = fx.lockedBy(SYS, 1);
    assertThat(http.update(u, SYS, "{\"log\":" + pdh + "}").status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"output\":" + pdh + "}").errors())
        .singleElement()
        .asString()
        .startsWith("Output collection must exist and be readable by current user.");
    assertThat(http.update(u, SYS, "{\"output\":" + empty + "}").status()).isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"log\":\"ea10d51bcf88862dbcc36eb292017dfd+45\"}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Complete\",\"log\":" + pdh + "}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"output\":null}").status()).isEqualTo(422);
    assertThat(http.update(u, SYS, "{\"log\":null}").status()).isEqualTo(422);
  }

  @Test
  void row58_containerTokenWritesProgressButNotLog() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
    assertContainerTokenRules(u, ctok);
    String rt = fx.runtimeTokenContainer();
    assertThat(http.update(rt, D2, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertContainerTokenRules(rt, RTOK);
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
  void row60_anotherContainersTokenGets403() {
    String u = fx.running();
    // A container token has its user's rights: an ordinary user's token can read (through the
    // user's container request) but not write someone else's container.
    String other =
        fx.shared(
            sim.createContainer(
                ContainerSpec.builder().runtimeUserUuid(sim.userUuid(ACT)).build()));
    sim.setPriority(other, 1);
    assertThat(http.lock(other, SYS).status()).isEqualTo(200);
    assertThat(http.update(other, SYS, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    String otherTok = fx.containerToken(other, SYS);
    assertThat(
            http.update(u, otherTok, "{\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}")
                .status())
        .isEqualTo(403);
  }

  @Test
  void row61_adminSetsOutputThenCompletes() {
    String u = fx.running();
    assertThat(http.update(u, SYS, "{\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
  }

  @Test
  void row63_finalStateScrubsSecrets() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
    assertThat(http.get(c(u) + "/secret_mounts").token(ctok).send().status()).isEqualTo(200);
    assertThat(
            http.update(
                    u,
                    SYS,
                    "{\"state\":\"Complete\",\"exit_code\":0,\"output\":\"d41d8cd98f00b204e9800998ecf8427e+0\"}")
                .status())
        .isEqualTo(200);
    assertThat(sim.service().find(u).get(Attr.SECRET_MOUNTS).toString()).isEqualTo("{}");
    String rt = fx.runtimeTokenContainer();
    assertThat(sim.container(rt).hasRuntimeToken()).isTrue();
    assertThat(http.update(rt, D2, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(sim.container(rt).hasRuntimeToken()).isFalse();
  }

  @Test
  void row64_cancelQueuedWithCost() {
    String u = fx.queued();
    assertThat(http.update(u, SYS, "{\"state\":\"Cancelled\",\"cost\":1.25}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).toMap().get("cost")).isEqualTo(1.25);
  }

  @Test
  void row65_runningAcceptsCostAndSubrequestsCost() {
    String u = fx.running();
    assertThat(http.update(u, SYS, "{\"cost\":0.5,\"subrequests_cost\":1.25}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYS, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
  }

  @Test
  void row66_priorityZeroWhileRunningChangesNothingElse() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYS);
    sim.setPriority(u, 0);
    assertThat(fx.state(u)).isEqualTo("Running");
    assertThat(http.get("arvados/v1/containers/current").token(ctok).send().status())
        .isEqualTo(200);
  }

  @Test
  void row67_runtimeTokenContainerNeverGetsAuthUuid() {
    String u = fx.runtimeTokenContainer();
    assertThat(sim.container(u).authUuid()).isNull();
    assertThat(http.update(u, D2, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    assertThat(sim.container(u).authUuid()).isNull();
    assertThat(http.update(u, D2, "{\"state\":\"Complete\"}").status()).isEqualTo(200);
    assertThat(sim.container(u).authUuid()).isNull();
    assertThat(sim.container(u).hasRuntimeToken()).isFalse();
  }

  @Test
  void row68_lockLockUnlockUnlock() {
    String u = fx.queued();
    Http.Res a = http.lock(u, SYS);
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.str("state")).isEqualTo("Locked");
    Http.Res b = http.lock(u, SYS);
    assertThat(b.status()).isEqualTo(422);
    assertThat(b.body()).doesNotContain("\"uuid\":");
    Http.Res c = http.unlock(u, SYS);
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.str("state")).isEqualTo("Queued");
    assertThat(c.json().has("environment")).isFalse();
    assertThat(http.unlock(u, SYS).status()).isEqualTo(422);
  }

  @Test
  void row69_listAsUser() {
    for (int i = 0; i < 3; i++) {
      fx.queued();
    }
    Http.Res zero = http.get("arvados/v1/containers").token(ACT).query("limit", "0").send();
    assertThat(zero.json().getAsJsonArray("items")).isEmpty();
    assertThat(zero.json().get("items_available").getAsInt()).isGreaterThan(2);
    Http.Res none =
        http.get("arvados/v1/containers")
            .token(ACT)
            .query("filters", "[[\"uuid\",\"in\",[]]]")
            .send();
    assertThat(none.json().get("items_available").getAsInt()).isZero();
    Http.Res sel =
        http.get("arvados/v1/containers")
            .token(ACT)
            .query("limit", "2")
            .query("select", "[\"uuid\",\"command\"]")
            .send();
    assertThat(sel.json().getAsJsonArray("items")).hasSize(2);
    for (var item : sel.json().getAsJsonArray("items")) {
      assertThat(item.getAsJsonObject().keySet())
          .containsExactlyInAnyOrder("uuid", "command", "kind");
    }
    Http.Res full = http.get("arvados/v1/containers").token(ACT).send();
    assertThat(full.json().getAsJsonArray("items").get(0).getAsJsonObject().has("mounts")).isTrue();
    // ACT2 has no container requests: it sees nothing.
    Http.Res other = http.get("arvados/v1/containers").token(ACT2).send();
    assertThat(other.json().getAsJsonArray("items")).isEmpty();
    assertThat(other.json().get("items_available").getAsInt()).isZero();
  }

  @Test
  void row70_getWithSelect() {
    String u = fx.queued();
    Http.Res r = http.get(c(u)).token(SYS).query("select", "[\"uuid\",\"command\"]").send();
    assertThat(r.status()).isEqualTo(200);
    // Rails path (inferred): no kind added on get; the Go router would add it.
    assertThat(r.json().keySet()).containsExactly("uuid", "command");
  }

  @Test
  void row71_dispatcherQueueSequence() {
    String u = fx.queued();
    assertThat(http.unlock(u, D2).errors().get(0)).contains("cannot unlock when Queued");
    assertThat(http.lock(u, D2).status()).isEqualTo(200);
    assertThat(http.lock(u, D2).status()).isEqualTo(422);
    assertThat(http.unlock(u, D2).status()).isEqualTo(200);
    assertThat(http.unlock(u, D2).status()).isEqualTo(422);
    assertThat(http.update(u, D2, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.lock(u, D2).status()).isEqualTo(422);
  }

  @Test
  void row74_missingOrBogusTokenIs401() {
    Http.Res none = http.get("arvados/v1/containers").send();
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.errors().get(0)).matches("Not logged in \\(req-[a-z0-9]{20}\\)");
    Http.Res bogus = http.get("arvados/v1/containers").token("bogus").send();
    assertThat(bogus.status()).isEqualTo(401);
    assertThat(bogus.errors().get(0)).startsWith("Not logged in");
  }

  @Test
  void row75_missingObjectIs404WithErrorToken() {
    Http.Res r = http.get(c("zzzzz-dz642-000000000000000")).token(SYS).send();
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.errors()).hasSize(1);
    assertThat(r.errors().get(0)).startsWith("Path not found (");
    assertThat(r.str("error_token")).matches("[0-9]+\\+[0-9a-f]{8}");
    assertThat(r.json().keySet()).containsExactlyInAnyOrder("errors", "error_token");
  }

  @Test
  void row77_postWithMethodOverrideIsAList() {
    String u = fx.queued();
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(SYS)
            .form(Map.of("_method", "GET", "filters", "[[\"uuid\",\"=\",\"" + u + "\"]]"))
            .send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("kind")).isEqualTo("arvados#containerList");
    assertThat(r.json().getAsJsonArray("items")).hasSize(1);
    Http.Res h =
        http.post("arvados/v1/containers")
            .token(SYS)
            .header("X-Http-Method-Override", "GET")
            .form(Map.of("filters", "[[\"uuid\",\"=\",\"" + u + "\"]]"))
            .send();
    assertThat(h.str("kind")).isEqualTo("arvados#containerList");
  }
}
