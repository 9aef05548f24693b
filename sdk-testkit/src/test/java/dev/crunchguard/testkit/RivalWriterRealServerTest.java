package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RivalWriter} and {@link StartGate} against the real Arvados server. */
@RequiresRealArvados
class RivalWriterRealServerTest {
  private final RealArvados arv;
  private OkHttpClient http;
  private RivalWriter dispatcher;
  private RivalWriter secondDispatcher;

  RivalWriterRealServerTest(RealArvados arv) {
    this.arv = arv;
  }

  @BeforeEach
  void start() {
    http = arv.newHttpClient();
    dispatcher = RivalWriter.builder(arv.baseUrl(), arv.adminToken()).okHttpClient(http).build();
    secondDispatcher =
        RivalWriter.builder(arv.baseUrl(), arv.admin2Token()).okHttpClient(http).build();
  }

  @AfterEach
  void stop() {
    dispatcher.close();
    secondDispatcher.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  @Test
  void twoAdminsRacingForOneLock_exactlyOneWins_andOnlyTheHolderUnlocks() {
    String uuid =
        arv.createContainer(
            ContainerSpec.builder().containerImage("crunchguard-rival-writer").priority(1).build());
    try {
      List<RivalWriter.Response> answers =
          StartGate.race(
                  Duration.ofSeconds(30),
                  () -> dispatcher.lock(uuid),
                  () -> secondDispatcher.lock(uuid))
              .values();
      assertThat(answers)
          .extracting(RivalWriter.Response::status)
          .containsExactlyInAnyOrder(200, 422);
      RivalWriter winner = answers.get(0).status() == 200 ? dispatcher : secondDispatcher;
      RivalWriter loser = winner == dispatcher ? secondDispatcher : dispatcher;
      assertThat(loser.unlock(uuid).status()).isEqualTo(403);
      RivalWriter.Response unlocked = winner.unlock(uuid);
      assertThat(unlocked.status()).as(unlocked.body()).isEqualTo(200);
      assertThat(unlocked.field("state")).isEqualTo("Queued");
    } finally {
      dispatcher.update(uuid, "{\"priority\":0}");
    }
  }
}
