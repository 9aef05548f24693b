package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.AUTH_B;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.OTHER_DISPATCHER_UUID;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** After a loss or a release, a lock fails fast: no request, and listeners run exactly once. */
class FailFastTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;

  /** Every call of a lock that writes or reads the container, by name. */
  private static final Map<String, Consumer<ContainerLock>> CALLS =
      Map.of(
          "update",
          l -> l.update(ContainerUpdate.builder().priority(2).build()),
          "markRunning",
          ContainerLock::markRunning,
          "reportProgress",
          l -> l.reportProgress(0.5),
          "verify",
          ContainerLock::verify,
          "unlock",
          ContainerLock::unlock,
          "complete",
          l -> l.complete(0, Fixtures.OUTPUT_PDH),
          "cancel",
          ContainerLock::cancel,
          "cancelWithReason",
          l -> l.cancel("dispatcher shutting down"));

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static void stubStaleWriter() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(422)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.staleWriter("Running", AUTH_B, AUTH_A))));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_B, OTHER_DISPATCHER_UUID, 4))));
  }

  private LostOwnershipException loseIt(ContainerLock lock) {
    stubStaleWriter();
    LostOwnershipException first = expect(LostOwnershipException.class, lock::markRunning);
    assertThat(first).isNotNull();
    wm.resetRequests();
    return first;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "update",
        "markRunning",
        "reportProgress",
        "verify",
        "unlock",
        "complete",
        "cancel",
        "cancelWithReason"
      })
  void afterLoss_everyCallThrowsLostOwnership_withoutARequest(String call) {
    ContainerLock lock = heldLock();
    LostOwnershipException first = loseIt(lock);

    LostOwnershipException again =
        expect(LostOwnershipException.class, () -> CALLS.get(call).accept(lock));

    assertThat(requestCount()).isZero();
    assertThat(again).isNotSameAs(first);
    assertThat(again.getCause()).isSameAs(first);
    assertThat(again.containerUuid()).isEqualTo(CONTAINER);
    assertThat(again.heldEpoch().authUuid()).isEqualTo(AUTH_A);
    assertThat(again.detection()).isEqualTo(LostOwnershipException.Detection.ALREADY_LOST);
    assertThat(again.observed()).as("the first loss holds the observation").isEmpty();
    assertThat(first.detection()).isEqualTo(LostOwnershipException.Detection.STALE_EPOCH_REFUSED);
    assertThat(first.observed().map(Container::authUuid).orElse(null)).isEqualTo(AUTH_B);
    assertThat(again.getMessage()).contains("already lost");
    assertThat(lock.isLost()).isTrue();
    assertThat(lock.isReleased()).isFalse();
  }

  @Test
  void onLost_listenersRunExactlyOnce_withTheFirstLoss() {
    ContainerLock lock = heldLock();
    List<LostOwnershipException> a = new CopyOnWriteArrayList<>();
    List<LostOwnershipException> b = new CopyOnWriteArrayList<>();
    lock.onLost(a::add);
    lock.onLost(b::add);
    assertThat(lock.isLost()).isFalse();

    LostOwnershipException first = loseIt(lock);
    expect(LostOwnershipException.class, lock::markRunning);
    expect(LostOwnershipException.class, lock::verify);

    assertThat(a).containsExactly(first);
    assertThat(b).containsExactly(first);
  }

  @Test
  void onLost_registeredAfterTheLoss_runsAtOnceOnTheCallingThread_once() {
    ContainerLock lock = heldLock();
    LostOwnershipException first = loseIt(lock);
    List<Thread> threads = new CopyOnWriteArrayList<>();
    List<LostOwnershipException> seen = new CopyOnWriteArrayList<>();

    lock.onLost(
        e -> {
          threads.add(Thread.currentThread());
          seen.add(e);
        });
    expect(LostOwnershipException.class, lock::markRunning);

    assertThat(seen).containsExactly(first);
    assertThat(threads).containsExactly(Thread.currentThread());
  }

  @Test
  void onLost_aThrowingListener_doesNotStopTheOthers_norChangeTheException() {
    ContainerLock lock = heldLock();
    AtomicInteger later = new AtomicInteger();
    lock.onLost(
        e -> {
          throw new IllegalStateException("listener bug");
        });
    lock.onLost(e -> later.incrementAndGet());
    stubStaleWriter();

    try (CapturedLogs logs = new CapturedLogs()) {
      assertThatThrownBy(lock::markRunning).isInstanceOf(LostOwnershipException.class);
      assertThat(logs.rendered())
          .anyMatch(
              l ->
                  l.startsWith("WARN")
                      && l.contains("onLost listener")
                      && l.contains("listener bug"));
    }
    assertThat(later).hasValue(1);
  }

  @Test
  void onLost_rejectsNull() {
    assertThatThrownBy(() -> heldLock().onLost(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void concurrentWritersDetectingTheSameLoss_runTheListenersOnce() throws Exception {
    ContainerLock lock = heldLock();
    AtomicInteger calls = new AtomicInteger();
    lock.onLost(e -> calls.incrementAndGet());
    stubStaleWriter();
    int n = 4;
    CyclicBarrier start = new CyclicBarrier(n);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<Throwable>> results = new CopyOnWriteArrayList<>();
      for (int i = 0; i < n; i++) {
        results.add(
            pool.submit(
                () -> {
                  start.await(5, TimeUnit.SECONDS);
                  try {
                    lock.reportProgress(0.1);
                    return null;
                  } catch (Throwable t) {
                    return t;
                  }
                }));
      }
      for (Future<Throwable> f : results) {
        assertThat(f.get(10, TimeUnit.SECONDS)).isInstanceOf(LostOwnershipException.class);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(calls).hasValue(1);
    assertThat(lock.isLost()).isTrue();
  }

  @Test
  void isLost_staysFalseForRefusalsThatAreNotALoss() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(500)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        Fixtures.envelope("#<ActiveRecord::Deadlocked: PG::TRDeadlockDetected>"))));
    ContainerLock lock = heldLock();
    AtomicInteger calls = new AtomicInteger();
    lock.onLost(e -> calls.incrementAndGet());

    assertThatThrownBy(lock::markRunning).isInstanceOf(ArvadosServiceException.class);

    assertThat(lock.isLost()).isFalse();
    assertThat(calls).hasValue(0);
  }

  private static final Map<String, Function<ContainerLock, Container>> RELEASES =
      Map.of(
          "Complete", l -> l.complete(0, Fixtures.OUTPUT_PDH),
          "Cancelled", ContainerLock::cancel,
          "Queued", ContainerLock::unlock);

  @ParameterizedTest(name = "after {0}")
  @ValueSource(strings = {"Complete", "Cancelled", "Queued"})
  void afterRelease_everyCallIsIllegalState_withoutARequest(String endState) {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, endState, null, null, 3))));
    ContainerLock lock = heldLock();
    AtomicInteger lostCalls = new AtomicInteger();
    lock.onLost(e -> lostCalls.incrementAndGet());
    Container released = RELEASES.get(endState).apply(lock);
    assertThat(released.uuid()).isEqualTo(CONTAINER);
    assertThat(lock.isReleased()).isTrue();
    wm.resetRequests();

    for (Map.Entry<String, Consumer<ContainerLock>> call : CALLS.entrySet()) {
      assertThatThrownBy(() -> call.getValue().accept(lock))
          .as(call.getKey())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already released")
          .hasMessageContaining(endState);
    }

    assertThat(requestCount()).isZero();
    assertThat(lock.isLost()).isFalse();
    assertThat(lostCalls).hasValue(0);
  }

  @Test
  void update_withNoField_isRejectedWithoutARequest() {
    assertThatThrownBy(() -> heldLock().update(ContainerUpdate.builder().build()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> heldLock().update(null)).isInstanceOf(NullPointerException.class);
    assertThat(requestCount()).isZero();
  }

  @Test
  void cancelWithBlankReason_isRejectedWithoutARequest() {
    assertThatThrownBy(() -> heldLock().cancel(" ")).isInstanceOf(IllegalArgumentException.class);
    assertThat(requestCount()).isZero();
  }

  @Test
  void toString_showsTheEpochAndStatus() {
    ContainerLock lock = heldLock();
    assertThat(lock.toString())
        .contains(CONTAINER)
        .contains(AUTH_A)
        .contains(DISPATCHER_TOKEN_UUID)
        .contains("HELD");
    loseIt(lock);
    assertThat(lock.toString()).contains("LOST");
  }
}
