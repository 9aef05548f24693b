package dev.crunchguard.testkit.internal.events;

import com.google.gson.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * The simulated {@code logs} table and its notifications: the simulator appends one row per audited
 * change ({@link #append}); each row gets the next id of one rising sequence and is handed at once
 * to every {@link Sink} (the connected clients), in id order; rows are kept for the replay window
 * so that a subscription with {@code last_log_id} can be served. Thread-safe; appends are
 * serialised, and sinks are called under that lock, so a sink must not block.
 *
 * <p>Fault control: {@link #dropNext(int)} loses the next rows' notifications silently (as when
 * arvados-ws cannot fetch a row), while the rows stay in the table, so a later replay still finds
 * them.
 */
public final class EventLog {
  /** Receives every notified row, in id order, under the log's lock. Must not block. */
  public interface Sink {
    /**
     * A new row was written and notified.
     *
     * @param entry the row
     */
    void notify(LogEntry entry);
  }

  private static final char[] BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();

  private final String cluster;

  private final List<Sink> sinks = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  // Guarded by lock.
  private final ArrayDeque<LogEntry> rows = new ArrayDeque<>();
  private long lastId;
  private int dropNext;
  private long dropped;
  private volatile Duration retention;

  /**
   * A log for one cluster.
   *
   * @param cluster the cluster id, the prefix of every log uuid
   * @param retention how long rows are kept for replay (at least the server's replay window)
   */
  public EventLog(String cluster, Duration retention) {
    this.cluster = cluster;
    this.retention = retention;
  }

  /**
   * Writes a row and notifies every sink (unless a {@link #dropNext} drop is pending).
   *
   * @param objectUuid the changed object
   * @param objectOwnerUuid its owner ({@code ""} when none)
   * @param eventType {@code create}, {@code update}, {@code delete}, ...
   * @param oldAttributes the old side, null when the row has none (a create)
   * @param newAttributes the new side, null when the row has none (a delete)
   * @return the row as written
   */
  public LogEntry append(
      String objectUuid,
      String objectOwnerUuid,
      String eventType,
      @Nullable JsonObject oldAttributes,
      @Nullable JsonObject newAttributes) {
    return write(objectUuid, objectOwnerUuid, eventType, oldAttributes, newAttributes, null);
  }

  /**
   * Writes a free-text row (such as a dispatcher's {@code dispatch} note): its properties are sent
   * whole.
   *
   * @param objectUuid the object the note is about
   * @param objectOwnerUuid its owner
   * @param eventType the log type, for example {@code dispatch}
   * @param text {@code properties.text}
   * @return the row as written
   */
  public LogEntry appendText(
      String objectUuid, String objectOwnerUuid, String eventType, String text) {
    return write(objectUuid, objectOwnerUuid, eventType, null, null, text);
  }

  private LogEntry write(
      String objectUuid,
      String objectOwnerUuid,
      String eventType,
      @Nullable JsonObject oldAttributes,
      @Nullable JsonObject newAttributes,
      @Nullable String text) {
    String uuid = cluster + "-57u5n-" + random15();
    synchronized (lock) {
      Instant now = Instant.now();
      LogEntry e =
          new LogEntry(
              ++lastId,
              uuid,
              objectUuid,
              objectOwnerUuid,
              eventType,
              now,
              oldAttributes,
              newAttributes,
              text);
      rows.addLast(e);
      prune(now);
      if (dropNext > 0) {
        dropNext--;
        dropped++;
        return e;
      }
      for (Sink s : sinks) {
        s.notify(e);
      }
      return e;
    }
  }

  /**
   * The rows a {@code last_log_id} subscription replays: {@code id > afterId} and created after
   * {@code notBefore}, in id order.
   *
   * @param afterId the client's {@code last_log_id}
   * @param notBefore the start of the replay window
   * @return a new list
   */
  public List<LogEntry> since(long afterId, Instant notBefore) {
    List<LogEntry> out = new ArrayList<>();
    synchronized (lock) {
      for (Iterator<LogEntry> it = rows.descendingIterator(); it.hasNext(); ) {
        LogEntry e = it.next();
        if (e.id() <= afterId || !e.createdAt().isAfter(notBefore)) {
          break;
        }
        out.add(e);
      }
    }
    java.util.Collections.reverse(out);
    return out;
  }

  /**
   * Registers a sink for the rows written from now on.
   *
   * @param sink the sink
   */
  public void addSink(Sink sink) {
    sinks.add(sink);
  }

  /**
   * Removes a sink.
   *
   * @param sink the sink
   */
  public void removeSink(Sink sink) {
    sinks.remove(sink);
  }

  /**
   * Loses the notifications of the next {@code count} rows (added to any pending): no client gets
   * them live; the rows stay in the table.
   *
   * @param count at least 1
   */
  public void dropNext(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1");
    }
    synchronized (lock) {
      dropNext += count;
    }
  }

  /** Cancels pending {@link #dropNext} drops. */
  public void clearDrops() {
    synchronized (lock) {
      dropNext = 0;
    }
  }

  /**
   * @return the notifications dropped so far by {@link #dropNext}
   */
  public long droppedCount() {
    synchronized (lock) {
      return dropped;
    }
  }

  /**
   * @return the id of the last row written, 0 if none
   */
  public long lastId() {
    synchronized (lock) {
      return lastId;
    }
  }

  /**
   * Sets how long rows are kept.
   *
   * @param retention positive
   */
  public void setRetention(Duration retention) {
    this.retention = retention;
  }

  private void prune(Instant now) {
    Instant limit = now.minus(retention);
    while (!rows.isEmpty() && rows.peekFirst().createdAt().isBefore(limit)) {
      rows.removeFirst();
    }
  }

  private String random15() {
    char[] c = new char[15];
    for (int i = 0; i < c.length; i++) {
      c[i] = BASE36[java.util.concurrent.ThreadLocalRandom.current().nextInt(36)];
    }
    return new String(c);
  }
}
