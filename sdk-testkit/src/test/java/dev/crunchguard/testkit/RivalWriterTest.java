package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RivalWriterTest {
  private static final String DISPATCHER = "dispatcher-secret-0123456789";
  private static final String SECOND_DISPATCHER = "second-dispatcher-secret-0123456789";

  private static ArvadosSimulator simulator() {
    return ArvadosSimulator.builder()
        .adminToken(DISPATCHER)
        .adminToken(SECOND_DISPATCHER)
        .build()
        .start();
  }

  @Test
  void aRivalDispatcherIsRefusedTheLockAndTheUnlock_andTheHolderIsNot() {
    try (ArvadosSimulator sim = simulator();
        RivalWriter holder = RivalWriter.forSimulator(sim, DISPATCHER);
        RivalWriter rival = RivalWriter.forSimulator(sim, SECOND_DISPATCHER)) {
      String uuid = sim.createContainer();

      RivalWriter.Response locked = holder.lock(uuid);
      assertThat(locked.status()).isEqualTo(200);
      assertThat(locked.field("state")).isEqualTo("Locked");
      assertThat(locked.field("locked_by_uuid")).isEqualTo(sim.tokenUuid(DISPATCHER));

      RivalWriter.Response refused = rival.lock(uuid);
      assertThat(refused.status()).isEqualTo(422);
      assertThat(refused.isSuccessful()).isFalse();
      assertThat(refused.errors()).isNotEmpty();
      assertThat(rival.unlock(uuid).status()).isEqualTo(403);

      assertThat(holder.unlock(uuid).status()).isEqualTo(200);
      assertThat(sim.container(uuid).state()).isEqualTo("Queued");
    }
  }

  @Test
  void aStaleRunnersOldContainerTokenIsRefusedAfterARelock_andAnAdminsPlainWritesGoThrough() {
    try (ArvadosSimulator sim = simulator();
        RivalWriter dispatcher = RivalWriter.forSimulator(sim, DISPATCHER)) {
      String uuid = sim.createContainer();
      assertThat(dispatcher.lock(uuid).status()).isEqualTo(200);
      String oldContainerToken = sim.containerToken(uuid).orElseThrow();
      assertThat(dispatcher.unlock(uuid).status()).isEqualTo(200);
      assertThat(dispatcher.lock(uuid).status()).isEqualTo(200);

      // The old container token expired with the first epoch: the stale runner cannot write.
      try (RivalWriter staleRunner = RivalWriter.forSimulator(sim, oldContainerToken)) {
        assertThat(staleRunner.update(uuid, "{\"state\":\"Running\"}").status()).isEqualTo(401);
      }
      assertThat(dispatcher.update(uuid, "{\"state\":\"Running\"}").status()).isEqualTo(200);
      assertThat(dispatcher.get(uuid).field("state")).isEqualTo("Running");
      assertThat(dispatcher.cancel(uuid).status()).isEqualTo(200);
      assertThat(sim.container(uuid).state()).isEqualTo("Cancelled");
    }
  }

  @Test
  void theClientIdIsSentAndRecorded() {
    try (ArvadosSimulator sim = simulator();
        RivalWriter rival =
            RivalWriter.builder(sim.baseUrl(), DISPATCHER).clientId("rival-dispatcher").build()) {
      String uuid = sim.createContainer();
      assertThat(rival.lock(uuid).status()).isEqualTo(200);
      assertThat(sim.history(uuid))
          .extracting(HistoryEvent::clientIdentity)
          .contains("rival-dispatcher");
    }
  }

  @Test
  void worksOverHttps() {
    try (ArvadosSimulator sim =
            ArvadosSimulator.builder().adminToken(DISPATCHER).https(true).build().start();
        RivalWriter rival = RivalWriter.forSimulator(sim, DISPATCHER)) {
      String uuid = sim.createContainer();
      assertThat(rival.get(uuid).field("uuid")).isEqualTo(uuid);
    }
  }

  @Test
  void aMissingAnswerThrows_withoutTheToken() {
    ArvadosSimulator sim = simulator();
    String url = sim.baseUrl();
    sim.close();
    try (RivalWriter rival =
        RivalWriter.builder(url, DISPATCHER).timeout(Duration.ofSeconds(2)).build()) {
      assertThatThrownBy(() -> rival.get("zzzzz-dz642-000000000000000"))
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining("got no answer")
          .hasMessageNotContaining(DISPATCHER);
      assertThat(rival.toString()).doesNotContain(DISPATCHER);
    }
  }

  @Test
  void rejectsWhatIsNotAContainerObject() {
    try (RivalWriter rival = RivalWriter.builder("http://127.0.0.1:1/", DISPATCHER).build()) {
      assertThatThrownBy(() -> rival.update("u", "[1]"))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> rival.update("u", "{")).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> RivalWriter.builder("ftp://x/", DISPATCHER))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RivalWriter.builder("http://x/", ""))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void errorsAndFieldsOfBodiesThatAreNotObjectsAreEmpty() {
    RivalWriter.Response r = new RivalWriter.Response(502, "<html>bad gateway</html>");
    assertThat(r.errors()).isEmpty();
    assertThat(r.field("state")).isNull();
    assertThat(new RivalWriter.Response(422, "{\"errors\":[\"a\",\"b\"]}").errors())
        .isEqualTo(List.of("a", "b"));
  }
}
