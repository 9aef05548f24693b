package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.SECOND_DISPATCHER;
import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HistoryTest {
  ArvadosSimulator sim;
  Fixtures fx;
  Http http;

  @BeforeEach
  void start() {
    sim = Fixtures.builder().enableControlEndpoints(true).build().start();
    fx = new Fixtures(sim);
    http = fx.http;
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void recordsEveryWriteAndEveryRejectedWriteWithItsEpochs() {
    String u = fx.queued();
    Http.Res lock =
        http.post(c(u) + "/lock")
            .token(SYSTEM_ROOT)
            .header("X-Crunch-Guard-Client", "dispatcher-1")
            .header("X-Request-Id", "req-lock-1")
            .send();
    String epoch = lock.str("auth_uuid");
    http.put(c(u))
        .token(SYSTEM_ROOT)
        .header("X-Crunch-Guard-Client", "runner-1")
        .json("{\"container\":{\"state\":\"Running\",\"auth_uuid\":\"" + epoch + "\"}}")
        .send();
    http.put(c(u))
        .token(SYSTEM_ROOT)
        .header("User-Agent", "ua-runner")
        .json("{\"container\":{\"progress\":0.5,\"auth_uuid\":\"zzzzz-gj3su-aaaaaaaaaaaaaaa\"}}")
        .send();
    http.put(c(u))
        .token(SYSTEM_ROOT)
        .header("X-Crunch-Guard-Client", "runner-1")
        .header("X-Crunch-Guard-Epoch", epoch)
        .json("{\"container\":{\"progress\":0.5}}")
        .send();
    http.put(c(u))
        .token(SYSTEM_ROOT)
        .header("X-Crunch-Guard-Client", "runner-1")
        .json("{\"container\":{\"progress\":0.5}}")
        .send();
    http.show(u, SYSTEM_ROOT);

    List<HistoryEvent> h = sim.history(u);
    assertThat(h)
        .extracting(HistoryEvent::action)
        .containsExactly(
            WriteAction.CREATE,
            WriteAction.LOCK,
            WriteAction.UPDATE,
            WriteAction.UPDATE,
            WriteAction.UPDATE,
            WriteAction.UPDATE);
    assertThat(h).extracting(HistoryEvent::sequence).isSorted();

    HistoryEvent l = h.get(1);
    assertThat(l.requestId()).isEqualTo("req-lock-1");
    assertThat(l.clientIdentity()).isEqualTo("dispatcher-1");
    assertThat(l.tokenUuid()).isEqualTo(sim.tokenUuid(SYSTEM_ROOT));
    assertThat(l.appliedEpoch()).isNull();
    assertThat(l.epochAfter()).isEqualTo(epoch);
    assertThat(l.requestedState()).isEqualTo("Locked");
    assertThat(l.stateBefore()).isEqualTo("Queued");
    assertThat(l.stateAfter()).isEqualTo("Locked");

    HistoryEvent run = h.get(2);
    assertThat(run.accepted()).isTrue();
    assertThat(run.claimSource()).isEqualTo(ClaimSource.BODY);
    assertThat(run.claimedEpoch()).isEqualTo(epoch);
    assertThat(run.appliedEpoch()).isEqualTo(epoch);
    assertThat(run.fields()).containsExactlyInAnyOrder("state", "auth_uuid");
    assertThat(run.stateAfter()).isEqualTo("Running");

    HistoryEvent stale = h.get(3);
    assertThat(stale.accepted()).isFalse();
    assertThat(stale.status()).isEqualTo(422);
    assertThat(stale.staleEpochRejection()).isTrue();
    assertThat(stale.clientIdentity()).isEqualTo("ua-runner");
    assertThat(stale.stateAfter()).isEqualTo("Running");
    assertThat(stale.errors()).contains("Auth uuid is readonly");

    assertThat(h.get(4).claimSource()).isEqualTo(ClaimSource.HEADER);
    assertThat(h.get(4).claimedEpoch()).isEqualTo(epoch);
    assertThat(h.get(5).claimSource()).isEqualTo(ClaimSource.NONE);
    assertThat(h.get(5).accepted()).isTrue(); // an accepted no-op is recorded too
  }

  @Test
  void rejectedLocksUnlocksAndNonAdminUpdatesAreRecorded() {
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    http.lock(u, SECOND_DISPATCHER);
    http.unlock(u, SECOND_DISPATCHER);
    http.update(u, Fixtures.ACTIVE_USER, "{\"priority\":2}");
    List<HistoryEvent> h = sim.history(u);
    assertThat(h.subList(h.size() - 3, h.size()))
        .extracting(HistoryEvent::status)
        .containsExactly(422, 403, 403);
    assertThat(h.subList(h.size() - 3, h.size())).noneMatch(HistoryEvent::staleEpochRejection);
  }

  @Test
  void historyJsonNeverContainsSecretsAndCanBeCleared() {
    String u = fx.running();
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    http.update(u, ctok, "{\"progress\":0.1}");
    String json = http.get("_simulator/history").send().body();
    assertThat(json).contains(u).doesNotContain(SYSTEM_ROOT).doesNotContain(ctok.split("/")[2]);
    assertThat(sim.history()).isNotEmpty();
    assertThat(http.delete("_simulator/history").send().status()).isEqualTo(200);
    assertThat(sim.history()).isEmpty();
    assertThat(sim.requestCounts()).isEmpty();
  }

  @Test
  void requestCountersPerEndpointAndContainer() {
    String u = fx.queued();
    sim.resetRequestCounts();
    http.lock(u, SYSTEM_ROOT);
    http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}");
    http.update(u, SYSTEM_ROOT, "{\"state\":\"Complete\"}");
    http.get("arvados/v1/containers").token(SYSTEM_ROOT).send();
    assertThat(sim.requestCounts(u))
        .containsExactlyInAnyOrderEntriesOf(
            java.util.Map.of("containers.lock", 1L, "containers.update", 2L));
    assertThat(sim.requestCount(Endpoint.LIST)).isEqualTo(1);
    assertThat(
            http.get("_simulator/counts")
                .send()
                .json()
                .getAsJsonObject("containers")
                .getAsJsonObject(u)
                .get("containers.update")
                .getAsLong())
        .isEqualTo(2);
  }

  @Test
  void controlEndpointsCreateAndReadContainersAndSetPriority() {
    Http.Res created =
        http.post("_simulator/containers").json("{\"priority\":3,\"command\":[\"true\"]}").send();
    String u = created.str("uuid");
    assertThat(sim.container(u).priority()).isEqualTo(3);
    Http.Res read = http.get("_simulator/containers/" + u).send();
    assertThat(read.str("state")).isEqualTo("Queued");
    assertThat(read.json().has("runtime_token")).isFalse();
    http.post("_simulator/containers/" + u + "/priority").json("{\"priority\":0}").send();
    assertThat(sim.container(u).priority()).isZero();
    assertThat(http.get("_simulator/containers/zzzzz-dz642-000000000000000").send().status())
        .isEqualTo(404);
  }

  @Test
  void historyRecordingCanBeSwitchedOff() {
    String u = fx.queued();
    int before = sim.history().size();
    sim.setRecordHistory(false);
    http.lock(u, SYSTEM_ROOT);
    assertThat(sim.history()).hasSize(before);
    sim.setRecordHistory(true);
    http.unlock(u, SYSTEM_ROOT);
    assertThat(sim.history()).hasSize(before + 1);
  }

  @Test
  void controlEndpointsAre404UnlessEnabled() {
    try (ArvadosSimulator plain = Fixtures.builder().build().start()) {
      Http.Res r = new Http(plain).get("_simulator/history").send();
      assertThat(r.status()).isEqualTo(404);
      assertThat(new Http(plain).get("_simulator/check").token(SYSTEM_ROOT).send().status())
          .isEqualTo(404);
    }
  }

  @Test
  void setPriorityBypassesCallbacksAndModifiedAt() {
    String u = fx.running();
    ContainerSnapshot before = sim.container(u);
    int events = sim.history(u).size();
    sim.setPriority(u, 0);
    assertThat(sim.container(u).priority()).isZero();
    assertThat(sim.container(u).modifiedAt()).isEqualTo(before.modifiedAt());
    assertThat(sim.history(u)).hasSize(events);
    assertThat(sim.container(u).state()).isEqualTo("Running");
  }
}
