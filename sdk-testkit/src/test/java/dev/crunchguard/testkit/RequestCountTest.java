package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestCountTest {
  private static final String ADMIN = "count-admin-secret-0123456789";

  @Test
  void theTotalCountsEveryApiRequest_faultedAndUnroutedOnes_butNotControlRequests()
      throws InterruptedException {
    try (ArvadosSimulator sim =
            ArvadosSimulator.builder()
                .adminToken(ADMIN)
                .enableControlEndpoints(true)
                .build()
                .start();
        RivalWriter w = RivalWriter.forSimulator(sim, ADMIN)) {
      String uuid = sim.createContainer();
      assertThat(sim.totalRequestCount()).isZero();

      w.lock(uuid);
      w.get(uuid);
      sim.faults().add(FaultRule.of(FaultKind.SERVICE_UNAVAILABLE).on(Endpoint.GET).build());
      assertThat(w.get(uuid).status()).isEqualTo(503);
      Http http = new Http(sim);
      assertThat(http.get("arvados/v1/no_such_resource").token(ADMIN).send().status())
          .isEqualTo(404);
      assertThat(http.get("_simulator/history").send().status()).isEqualTo(200);

      assertThat(sim.totalRequestCount()).isEqualTo(4);
      assertThat(sim.requestCounts().values().stream().mapToLong(Long::longValue).sum())
          .as("the per-endpoint counts miss the unrouted request")
          .isEqualTo(3);
      long deadline = System.nanoTime() + 2_000_000_000L;
      while (sim.requestsInFlight() > 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait(); // the count drops just after the last answer is written
      }
      assertThat(sim.requestsInFlight()).isZero();

      sim.resetRequestCounts();
      assertThat(sim.totalRequestCount()).isZero();
    }
  }
}
