package dev.crunchguard.events;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that calls the listener. Events are bounded ({@code capacity}; {@link #offerEvent}
 * refuses when full, never blocks); notices (gaps, connection changes) are few and always queued,
 * in order with the events.
 */
final class Delivery {
  private static final Logger log = LoggerFactory.getLogger(EventStream.class);
  private static final Runnable STOP = () -> {};

  private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queuedEvents = new AtomicInteger();
  private final int capacity;
  private final EventStreamListener listener;
  private final UnaryOperator<String> redactor;
  private final Thread thread;
  private final Runnable onDelivered;
  private volatile boolean stopped;

  Delivery(
      String threadName,
      int capacity,
      EventStreamListener listener,
      UnaryOperator<String> redactor,
      Runnable onDelivered) {
    this.capacity = capacity;
    this.listener = listener;
    this.redactor = redactor;
    this.onDelivered = onDelivered;
    this.thread = new Thread(this::run, threadName);
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /**
   * Queues {@code event}; false (and nothing queued) if {@code capacity} events are already
   * waiting.
   */
  boolean offerEvent(ArvadosEvent event) {
    if (stopped) {
      return true;
    }
    if (queuedEvents.incrementAndGet() > capacity) {
      queuedEvents.decrementAndGet();
      return false;
    }
    queue.add(
        () -> {
          queuedEvents.decrementAndGet();
          listener.onEvent(event);
          onDelivered.run();
        });
    return true;
  }

  /** Queues a call that is not an event (a gap, a connection change); never refused. */
  void notice(java.util.function.Consumer<EventStreamListener> call) {
    if (!stopped) {
      queue.add(() -> call.accept(listener));
    }
  }

  private void run() {
    while (true) {
      Runnable r;
      try {
        r = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (r == STOP || stopped) {
        return;
      }
      try {
        r.run();
      } catch (RuntimeException | Error e) {
        String msg = e.getMessage();
        log.warn(
            "event listener threw {}{}",
            e.getClass().getName(),
            msg == null ? "" : ": " + redactor.apply(msg));
      }
    }
  }

  /**
   * Stops the thread: what is still queued is dropped; waits up to {@code waitMillis} for a running
   * call.
   */
  void stop(long waitMillis) {
    stopped = true;
    queue.clear();
    queue.add(STOP);
    if (Thread.currentThread() != thread) {
      try {
        thread.join(waitMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (thread.isAlive()) {
        thread.interrupt();
        log.warn(
            "event listener still busy {} ms after close(); its thread was interrupted",
            waitMillis);
      }
    }
  }

  boolean isAlive() {
    return thread.isAlive();
  }

  int queuedEvents() {
    return queuedEvents.get();
  }
}
