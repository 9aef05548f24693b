package com.example.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ArvadosSimulatorExtension;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What a user writes first: a guarded lock life cycle against the testkit's simulator. */
@ExtendWith(ArvadosSimulatorExtension.class)
class GuardedLifecycleTest {
  @Test
  void lockRunningComplete_isThreeRequests_andAStaleWriterIsFenced(ArvadosSimulator sim) {
    String uuid = sim.createContainer(ContainerSpec.builder().priority(1).build());
    try (ArvadosClient client =
        ArvadosClient.builder()
            .baseUrl(sim.baseUrl())
            .token(ArvadosSimulatorExtension.DEFAULT_ADMIN_TOKEN)
            .build()) {
      client.tokenUuid();
      sim.resetRequestCounts();

      ContainerLock first = client.containers().lock(uuid);
      LockEpoch oldEpoch = first.epoch();
      first.unlock();
      sim.resetRequestCounts();

      ContainerLock lock = client.containers().lock(uuid);
      lock.markRunning();
      lock.complete(0, null);

      assertEquals("Complete", sim.container(uuid).state());
      assertEquals(1, sim.requestCount(Endpoint.LOCK, uuid));
      assertEquals(2, sim.requestCount(Endpoint.UPDATE, uuid));
      assertEquals(3, sim.requestCounts(uuid).values().stream().mapToLong(Long::longValue).sum());

      // A runner still holding the first epoch is refused by the server itself.
      ContainerLock staleRunner = client.containers().resume(oldEpoch);
      assertThrows(LostOwnershipException.class, staleRunner::markRunning);
      assertTrue(sim.checkSafety().isSafe(), sim.checkSafety().summary());
    }
  }
}
