package dev.crunchguard.events;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Records every listener call, in order, with the thread it ran on. */
class RecordingListener implements EventStreamListener {
  final BlockingQueue<Object> calls = new LinkedBlockingQueue<>();
  final List<Object> history = new ArrayList<>();
  final List<String> threads = new ArrayList<>();

  record Connected() {}

  record Disconnected(String reason) {}

  record ConnectFailed(String reason) {}

  private void record(Object o) {
    synchronized (history) {
      history.add(o);
      threads.add(Thread.currentThread().getName());
    }
    calls.add(o);
  }

  @Override
  public void onEvent(ArvadosEvent event) {
    record(event);
  }

  @Override
  public void onGap(GapReason reason) {
    record(reason);
  }

  @Override
  public void onConnected() {
    record(new Connected());
  }

  @Override
  public void onDisconnected(String reason) {
    record(new Disconnected(reason));
  }

  @Override
  public void onConnectFailed(String reason) {
    record(new ConnectFailed(reason));
  }

  /** Waits for the next call that matches, skipping others; fails after 10 s. */
  <T> T await(Class<T> type, Predicate<T> p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      long left = deadline - System.nanoTime();
      Object o = left <= 0 ? null : calls.poll(left, TimeUnit.NANOSECONDS);
      if (o == null) {
        throw new AssertionError(
            "no " + type.getSimpleName() + " call matched within 10 s; history: " + history());
      }
      if (type.isInstance(o) && p.test(type.cast(o))) {
        return type.cast(o);
      }
    }
  }

  <T> T await(Class<T> type) throws InterruptedException {
    return await(type, x -> true);
  }

  List<Object> history() {
    synchronized (history) {
      return new ArrayList<>(history);
    }
  }

  List<Long> eventIds() {
    return history().stream()
        .filter(ArvadosEvent.class::isInstance)
        .map(o -> ((ArvadosEvent) o).id())
        .toList();
  }

  List<GapReason> gaps() {
    return history().stream()
        .filter(GapReason.class::isInstance)
        .map(GapReason.class::cast)
        .toList();
  }
}
