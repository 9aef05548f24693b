package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.ACTIVE_USER;
import static dev.crunchguard.testkit.Fixtures.SECOND_DISPATCHER;
import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The no-op rule (container.rb validate_change: assigning the current value is no change),
 * auth_uuid staleness, the transitions of container.rb's State_transitions and lock/unlock, and
 * update encodings (application_controller.rb resource_attrs).
 */
class UpdateRulesTest {
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

  @Test
  void echoingUnchangedFieldsIsANoOpEvenForFieldsThatCouldNeverChange() {
    String u = fx.running();
    ContainerSnapshot s = sim.container(u);
    Http.Res r =
        http.update(
            u,
            SYSTEM_ROOT,
            "{\"command\":[\"echo\",\"hello\"],\"locked_by_uuid\":\""
                + s.lockedByUuid()
                + "\",\"auth_uuid\":\""
                + s.authUuid()
                + "\",\"uuid\":\""
                + u
                + "\",\"state\":\"Running\",\"cwd\":\".\"}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(sim.container(u).modifiedAt()).isEqualTo(s.modifiedAt());
    assertThat(sim.container(u).json()).isEqualTo(s.json());
  }

  @Test
  void nullEmptyArrayAndEmptyHashAreTheSameForTheWhitelist() {
    String u = sim.createContainer(ContainerSpec.builder().build());
    String before = sim.container(u).json();
    assertThat(
            http.update(u, SYSTEM_ROOT, "{\"mounts\":null,\"environment\":null,\"output_glob\":[]}")
                .status())
        .isEqualTo(200);
    assertThat(sim.container(u).json()).isEqualTo(before);
  }

  @Test
  void emptyStringAuthUuidDiffersFromNull() {
    String u = fx.queued();
    Http.Res r = http.update(u, SYSTEM_ROOT, "{\"auth_uuid\":\"\"}");
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.errors()).hasSize(2);
    assertThat(r.errors().get(0))
        .startsWith("Auth uuid cannot be modified in state 'Queued' (nil, \"\") (");
    assertThat(r.errors().get(1)).startsWith("Auth uuid is readonly (");
    assertThat(http.update(u, SYSTEM_ROOT, "{\"auth_uuid\":null,\"priority\":3}").status())
        .isEqualTo(200);
  }

  @Test
  void nonAdminNoOpIsStill403() {
    String u = fx.queued();
    assertThat(http.update(u, ACTIVE_USER, "{}").status()).isEqualTo(403);
    Http.Res r = http.update(u, ACTIVE_USER, "{\"priority\":1}");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0))
        .startsWith(
            "#<ArvadosModel::PermissionDeniedError: ArvadosModel::PermissionDeniedError> (");
  }

  @Test
  void sameStateIsNotAChange_putLockedOnLockedIs200UnlikeTheLockEndpoint() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    String auth = sim.container(u).authUuid();
    assertThat(http.update(u, SECOND_DISPATCHER, "{\"state\":\"Locked\"}").status()).isEqualTo(200);
    assertThat(http.lock(u, SECOND_DISPATCHER).status()).isEqualTo(422);
    assertThat(sim.container(u).authUuid()).isEqualTo(auth);
    assertThat(sim.container(u).lockCount()).isEqualTo(1);
  }

  @Test
  void relockBySameToken_rejectsUpdateCarryingOldAuthUuid() {
    String u = fx.queued();
    String a = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    assertThat(http.unlock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    Http.Res relock = http.lock(u, SYSTEM_ROOT);
    String b = relock.str("auth_uuid");
    assertThat(b).isNotEqualTo(a);
    assertThat(relock.str("locked_by_uuid")).isEqualTo(sim.tokenUuid(SYSTEM_ROOT));

    Http.Res stale =
        http.update(
            u, SYSTEM_ROOT, "{\"auth_uuid\":\"" + a + "\",\"state\":\"Running\",\"priority\":9}");
    assertThat(stale.status()).isEqualTo(422);
    assertThat(stale.errors()).hasSize(2);
    assertThat(stale.errors().get(0))
        .isEqualTo(
            "Auth uuid cannot be modified in state 'Running' (\""
                + b
                + "\", \""
                + a
                + "\") ("
                + stale.header("X-Request-Id")
                + ")");
    assertThat(stale.errors().get(1))
        .isEqualTo("Auth uuid is readonly (" + stale.header("X-Request-Id") + ")");
    ContainerSnapshot s = sim.container(u);
    assertThat(s.state()).isEqualTo("Locked");
    assertThat(s.priority()).isEqualTo(1);
    assertThat(s.authUuid()).isEqualTo(b);

    Http.Res fresh =
        http.update(u, SYSTEM_ROOT, "{\"auth_uuid\":\"" + b + "\",\"state\":\"Running\"}");
    assertThat(fresh.status()).isEqualTo(200);
    assertThat(sim.container(u).state()).isEqualTo("Running");
  }

  @Test
  void afterRequeueAnyClaimedAuthUuidIsStale() {
    String u = fx.queued();
    String a = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    assertThat(http.unlock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    Http.Res r =
        http.update(u, SYSTEM_ROOT, "{\"auth_uuid\":\"" + a + "\",\"state\":\"Cancelled\"}");
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.errors().get(0))
        .startsWith("Auth uuid cannot be modified in state 'Cancelled' (nil, \"" + a + "\")");
    assertThat(fx.state(u)).isEqualTo("Queued");
    Http.Res nullClaim =
        http.update(u, SYSTEM_ROOT, "{\"auth_uuid\":null,\"state\":\"Cancelled\"}");
    assertThat(nullClaim.status()).isEqualTo(200);
  }

  @Test
  void claimingNullWhileLockedIsStale() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    Http.Res r = http.update(u, SYSTEM_ROOT, "{\"auth_uuid\":null}");
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.errors()).anyMatch(m -> m.startsWith("Auth uuid is readonly"));
  }

  @Test
  void containerTokenHelperMatchesTheAuthEndpointAndSnapshotAccessorsReadTheRecord() {
    assertThat(sim.containerToken(fx.queued())).isEmpty();
    String u = fx.running();
    assertThat(sim.containerToken(u)).contains(fx.containerToken(u, SYSTEM_ROOT));
    assertThat(http.update(u, SYSTEM_ROOT, "{\"gateway_address\":\"gw:1\",\"cost\":0.25}").status())
        .isEqualTo(200);
    ContainerSnapshot s = sim.container(u);
    assertThat(s.command()).containsExactly("echo", "hello");
    assertThat(s.containerImage()).isEqualTo("test");
    assertThat(s.gatewayAddress()).isEqualTo("gw:1");
    assertThat(s.cost()).isEqualTo(0.25);
    assertThat(s.createdAt()).endsWith("Z");
    // The Java API's default: the system user, so that the container can be locked.
    assertThat(s.runtimeUserUuid()).isEqualTo("zzzzz-tpzed-000000000000000");
    assertThat(s.toMap()).containsEntry("state", "Running");
  }

  @Test
  void unlockExpiresTheContainerTokenAndClearsRuntimeStatus() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    assertThat(http.show(u, ctok).status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"runtime_status\":{\"warning\":\"w\"}}").status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Queued\"}").status()).isEqualTo(200);
    assertThat(http.show(u, ctok).status()).isEqualTo(401);
    assertThat(sim.container(u).runtimeStatusJson()).isEqualTo("{}");
    assertThat(sim.container(u).lockCount()).isEqualTo(1);
  }

  @Test
  void requeueThroughUpdateByNonHolderIs403() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    Http.Res r = http.update(u, SECOND_DISPATCHER, "{\"state\":\"Queued\"}");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0)).contains("locked by a different token");
  }

  @Test
  void lockThroughUpdateCountsAndMintsLikeTheLockEndpoint() {
    String u = fx.queued();
    Http.Res r = http.update(u, SECOND_DISPATCHER, "{\"state\":\"Locked\"}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("locked_by_uuid")).isEqualTo(sim.tokenUuid(SECOND_DISPATCHER));
    assertThat(r.str("auth_uuid")).isNotNull();
    assertThat(r.json().get("lock_count").getAsLong()).isEqualTo(1);
    String z = sim.createContainer(ContainerSpec.builder().priority(0).build());
    Http.Res zero = http.update(z, SECOND_DISPATCHER, "{\"state\":\"Locked\"}");
    assertThat(zero.status()).isEqualTo(422);
    assertThat(zero.errors().get(0)).contains("cannot lock when priority<=0");
  }

  @Test
  void changingLockedByUuidIsRefused() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    // check_unlock compares the value after assignment with the caller's token (real server).
    Http.Res r = http.update(u, SYSTEM_ROOT, "{\"state\":\"Queued\",\"locked_by_uuid\":null}");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errors().get(0))
        .startsWith("#<ArvadosModel::PermissionDeniedError: locked by a different token>");
    Http.Res other =
        http.update(u, SYSTEM_ROOT, "{\"locked_by_uuid\":\"zzzzz-gj3su-aaaaaaaaaaaaaaa\"}");
    assertThat(other.errors())
        .anyMatch(
            m -> m.startsWith("Locked by uuid can only change to " + sim.tokenUuid(SYSTEM_ROOT)));
  }

  @Test
  void nonHolderAdminMayRunAndCompleteButNotWriteProgress() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    assertThat(http.update(u, SECOND_DISPATCHER, "{\"state\":\"Running\"}").status())
        .isEqualTo(200);
    assertThat(sim.container(u).lockedByUuid()).isEqualTo(sim.tokenUuid(SYSTEM_ROOT));
    assertThat(
            http.update(u, SECOND_DISPATCHER, "{\"state\":\"Complete\",\"exit_code\":0}").status())
        .isEqualTo(422);
    assertThat(http.update(u, SECOND_DISPATCHER, "{\"state\":\"Complete\"}").status())
        .isEqualTo(200);
  }

  @Test
  void formEncodedContainerJsonAsTheGoSdkSendsIt() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    String auth = sim.container(u).authUuid();
    Http.Res r =
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .form(
                Map.of(
                    "container",
                    "{\"state\":\"Running\",\"auth_uuid\":\"" + auth + "\"}",
                    "select",
                    "[\"uuid\"]"))
            .send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().keySet()).containsExactly("uuid");
    assertThat(fx.state(u)).isEqualTo("Running");
    Http.Res patch =
        http.patch(c(u)).token(SYSTEM_ROOT).form(Map.of("container", "{\"progress\":0.75}")).send();
    assertThat(patch.status()).isEqualTo(200);
    assertThat(sim.container(u).progress()).isEqualTo(0.75);
  }

  @Test
  void formEncodedTopLevelAttributesAreNotWrapped() {
    String u = fx.queued();
    Http.Res r = http.put(c(u)).token(SYSTEM_ROOT).form(Map.of("priority", "5")).send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(sim.container(u).priority()).isEqualTo(1);
  }

  @Test
  void jsonTopLevelAttributesAreWrappedButNonAttributesIgnored() {
    String u = fx.queued();
    Http.Res r =
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .json("{\"priority\":5,\"select\":[\"uuid\",\"priority\"]}")
            .send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().keySet()).containsExactly("uuid", "priority");
    assertThat(sim.container(u).priority()).isEqualTo(5);
  }

  @Test
  void selectQueryParameterOnUpdate() {
    String u = fx.queued();
    Http.Res r =
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .query("select", "[\"uuid\",\"state\"]")
            .json("{\"container\":{\"priority\":4}}")
            .send();
    assertThat(r.json().keySet()).containsExactly("uuid", "state");
  }

  @Test
  void kindEtagAndHrefAreDroppedOnUpdate() {
    String u = fx.queued();
    Http.Res r =
        http.update(
            u,
            SYSTEM_ROOT,
            "{\"kind\":\"x\",\"etag\":\"y\",\"href\":\"z\",\"priority\":2,\"modified_at\":\"2000-01-01T00:00:00Z\"}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(sim.container(u).priority()).isEqualTo(2);
  }

  @Test
  void timestampsUseNineFractionDigitsUtc() {
    String u = fx.running();
    Http.Res r = http.show(u, SYSTEM_ROOT);
    for (String k : new String[] {"created_at", "modified_at", "started_at"}) {
      assertThat(r.str(k)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");
    }
    assertThat(r.json().get("finished_at").isJsonNull()).isTrue();
  }

  @Test
  void fullRenderingHasEveryFieldWithItsJsonType() {
    String u = fx.queued();
    var o = http.show(u, SYSTEM_ROOT).json();
    assertThat(o.keySet())
        .containsExactly(
            "kind",
            "etag",
            "uuid",
            "owner_uuid",
            "created_at",
            "modified_by_user_uuid",
            "modified_at",
            "command",
            "container_image",
            "cwd",
            "environment",
            "exit_code",
            "finished_at",
            "locked_by_uuid",
            "log",
            "mounts",
            "output",
            "output_path",
            "output_glob",
            "priority",
            "progress",
            "runtime_constraints",
            "runtime_status",
            "started_at",
            "state",
            "auth_uuid",
            "scheduling_parameters",
            "runtime_user_uuid",
            "runtime_auth_scopes",
            "lock_count",
            "gateway_address",
            "interactive_session_started",
            "output_storage_classes",
            "output_properties",
            "cost",
            "subrequests_cost",
            "service",
            "published_ports");
    assertThat(o.get("command").isJsonArray()).isTrue();
    assertThat(o.get("priority").getAsJsonPrimitive().isNumber()).isTrue();
    assertThat(o.get("cost").getAsJsonPrimitive().isNumber()).isTrue();
    assertThat(o.get("service").getAsJsonPrimitive().isBoolean()).isTrue();
    assertThat(o.get("runtime_status").isJsonObject()).isTrue();
    assertThat(o.get("kind").getAsString()).isEqualTo("arvados#container");
    assertThat(o.get("uuid").getAsString()).matches("zzzzz-dz642-[a-z0-9]{15}");
  }
}
