package dev.crunchguard.testkit.internal.model;

import dev.crunchguard.testkit.HistoryEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/** The append-only write history. Appends are lock-free. */
public final class History {
  private final AtomicLong seq = new AtomicLong();
  private final ConcurrentLinkedQueue<HistoryEvent> events = new ConcurrentLinkedQueue<>();
  private volatile boolean enabled = true;

  public void setEnabled(boolean on) {
    enabled = on;
  }

  boolean enabled() {
    return enabled;
  }

  long nextSequence() {
    return seq.incrementAndGet();
  }

  void add(HistoryEvent e) {
    if (enabled) {
      events.add(e);
    }
  }

  public List<HistoryEvent> snapshot() {
    List<HistoryEvent> l = new ArrayList<>(events);
    l.sort((a, b) -> Long.compare(a.sequence(), b.sequence()));
    return List.copyOf(l);
  }

  public void clear() {
    events.clear();
  }
}
