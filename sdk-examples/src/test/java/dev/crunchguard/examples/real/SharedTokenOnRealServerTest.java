package dev.crunchguard.examples.real;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerState;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.RandomFaults;
import dev.crunchguard.testkit.RealArvados;
import dev.crunchguard.testkit.RequiresRealArvados;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shared-token race torture, small, on the real server: three dispatchers in this JVM use one
 * admin token (as clusters run theirs with the SystemRootToken) and reach the server through the
 * fault proxy, which loses 10% of the answers of lock, update and unlock after the server applied
 * them. Every run records the epoch it was handed; the server's records are read at the end.
 */
@RequiresRealArvados
class SharedTokenOnRealServerTest {
  private static final int CONTAINERS = 20;
  private final RealArvados arv;
  private RealServer real;

  SharedTokenOnRealServerTest(RealArvados arv) {
    this.arv = arv;
  }

  @BeforeEach
  void start() {
    real = new RealServer(arv);
  }

  @AfterEach
  void stop() {
    real.close();
  }

  @Test
  void
      threeDispatchersSharingOneToken_withLostAnswers_neverRunAnEpochTwice_andFinishEveryContainer()
          throws Exception {
    long seed = Long.getLong("torture.seed", System.nanoTime() & 0xffffffffL);
    System.out.println("SharedTokenOnRealServerTest seed=" + seed);
    List<String> uuids = new ArrayList<>();
    for (int i = 0; i < CONTAINERS; i++) {
      uuids.add(real.create("true"));
    }
    real.proxy
        .faults()
        .random(
            RandomFaults.seed(seed)
                .on(Endpoint.LOCK, Endpoint.UPDATE, Endpoint.UNLOCK)
                .rate(FaultKind.LOST_RESPONSE, 0.10)
                .build());
    Map<String, AtomicInteger> runsPerEpoch = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> completions = new ConcurrentHashMap<>();
    AtomicInteger falseLosses = new AtomicInteger();
    List<Dispatcher> dispatchers = new ArrayList<>();
    try {
      for (int d = 0; d < 3; d++) {
        String id = "shared-" + d;
        ArvadosClient client = real.client(real.proxy.baseUrl(), arv.adminToken(), id);
        dispatchers.add(
            Dispatcher.builder(
                    client,
                    ctx -> {
                      runsPerEpoch
                          .computeIfAbsent(
                              ctx.containerUuid() + " " + ctx.lock().authUuid(),
                              k -> new AtomicInteger())
                          .incrementAndGet();
                      ctx.reportStarted();
                      try (ArvadosClient runner =
                          client.newBuilder().clientId(id + "/run").build()) {
                        ContainerLock lock = runner.containers().resume(ctx.lock().epoch());
                        lock.markRunning();
                        lock.complete(0, null);
                        completions
                            .computeIfAbsent(ctx.containerUuid(), k -> new AtomicInteger())
                            .incrementAndGet();
                      } catch (LostOwnershipException e) {
                        Container now = real.read(ctx.containerUuid());
                        if (ctx.lock().epoch().isCurrentIn(now)) {
                          falseLosses.incrementAndGet();
                        }
                      }
                    })
                .pollInterval(Duration.ofMillis(150))
                .lockRetryInterval(Duration.ofMillis(150))
                .orphanGrace(Duration.ofSeconds(2))
                .maxConcurrentRuns(4)
                .build());
      }
      dispatchers.forEach(Dispatcher::start);
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (System.nanoTime() < deadline
          && !uuids.stream().map(real::read).allMatch(SharedTokenOnRealServerTest::isFinal)) {
        Thread.sleep(200);
      }
    } finally {
      dispatchers.forEach(Dispatcher::close);
    }

    real.proxy.faults().clear();
    long lost =
        real.proxy.writes().stream().filter(w -> w.fault() == FaultKind.LOST_RESPONSE).count();
    System.out.println(
        "SharedTokenOnRealServerTest: " + lost + " answers lost, " + runsPerEpoch.size() + " runs");
    assertThat(lost).as("the proxy really lost answers").isPositive();
    assertThat(runsPerEpoch.values())
        .as("runs per (container, epoch), seed " + seed)
        .allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    assertThat(falseLosses).as("losses reported while the epoch was current").hasValue(0);
    for (String uuid : uuids) {
      Container c = real.read(uuid);
      assertThat(isFinal(c)).as(uuid + " final, seed " + seed).isTrue();
      if (c.state() == ContainerState.COMPLETE) {
        assertThat(completions.get(uuid)).as(uuid + " completed once").hasValue(1);
      } else {
        // only the server's MaxDispatchAttempts rule may cancel: the SDK never cancels here
        assertThat(c.lockCount())
            .as(uuid + " cancelled below MaxDispatchAttempts, seed " + seed)
            .isGreaterThanOrEqualTo(3);
      }
    }
  }

  private static boolean isFinal(Container c) {
    return c.state() == ContainerState.COMPLETE || c.state() == ContainerState.CANCELLED;
  }
}
