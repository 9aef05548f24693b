package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CancellationSourceTest {
  @Test
  void theSourceFiresOnce_andTheReadOnlySignalSeesTheFirstReason() throws Exception {
    CancellationSource source = new CancellationSource();
    CancellationSignal signal = source.signal();
    List<StopReason> seen = new ArrayList<>();
    signal.onCancel(seen::add);

    assertThat(signal.isCancelled()).isFalse();
    assertThat(signal.await(Duration.ofMillis(10))).isFalse();
    assertThat(source.cancel(StopReason.PRIORITY_ZERO)).isTrue();
    assertThat(source.cancel(StopReason.LOST)).isFalse();

    assertThat(signal.isCancelled()).isTrue();
    assertThat(signal.reason()).isEqualTo(StopReason.PRIORITY_ZERO);
    assertThat(signal.await(Duration.ZERO)).isTrue();
    assertThat(seen).containsExactly(StopReason.PRIORITY_ZERO);
  }

  @Test
  void aCallbackAddedAfterFiring_runsAtOnce_andAThrowingCallbackDoesNotStopTheOthers() {
    CancellationSource source = new CancellationSource();
    List<StopReason> seen = new ArrayList<>();
    source
        .signal()
        .onCancel(
            r -> {
              throw new IllegalStateException("boom");
            });
    source.signal().onCancel(seen::add);
    source.cancel(StopReason.SHUTDOWN);
    source.signal().onCancel(seen::add);

    assertThat(seen).containsExactly(StopReason.SHUTDOWN, StopReason.SHUTDOWN);
  }

  @Test
  void theSignalHasNoWayToFireItself() {
    assertThat(CancellationSignal.class.getMethods())
        .extracting(java.lang.reflect.Method::getName)
        .doesNotContain("cancel", "fire");
    assertThat(CancellationSignal.class.getConstructors()).isEmpty();
  }

  @Test
  void callbacksAddedWhileTheSourceFires_eachRunExactlyOnce() throws Exception {
    for (int round = 0; round < 200; round++) {
      CancellationSource source = new CancellationSource();
      int adders = 4;
      int perAdder = 25;
      java.util.concurrent.atomic.AtomicIntegerArray runs =
          new java.util.concurrent.atomic.AtomicIntegerArray(adders * perAdder);
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(adders + 1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < adders; t++) {
        int first = t * perAdder;
        Thread th =
            new Thread(
                () -> {
                  try {
                    start.await();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  for (int k = 0; k < perAdder; k++) {
                    int slot = first + k;
                    source.signal().onCancel(r -> runs.incrementAndGet(slot));
                  }
                });
        th.start();
        threads.add(th);
      }
      start.await();
      source.cancel(StopReason.SHUTDOWN);
      for (Thread th : threads) {
        th.join();
      }
      for (int slot = 0; slot < runs.length(); slot++) {
        assertThat(runs.get(slot)).as("callback %d in round %d", slot, round).isEqualTo(1);
      }
    }
  }
}
