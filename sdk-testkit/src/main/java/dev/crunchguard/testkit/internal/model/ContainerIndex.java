package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The containers table's secondary indexes, for the list queries a dispatcher polls with: the
 * Queued containers in {@code priority desc, uuid asc} order (an order-statistic tree, so a page
 * and the exact count are O(log n)), and the containers by {@code locked_by_uuid}.
 *
 * <p>{@link ContainersService} calls {@link #replace} with a row's old and new record while it
 * holds that row's lock, so the index changes in the same order as each row does. The index has one
 * read-write lock of its own: a change holds it for O(log n), a list query for reading its page;
 * neither holds a row lock, and no row lock is taken under it. The records stored are the table's
 * own immutable records, so a query reads one consistent state of the index.
 */
final class ContainerIndex {
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final QueuedTree queued = new QueuedTree();

  /**
   * Queued records whose priority is not a 64-bit integer. The save rules never store one (an
   * integer is required and null becomes 0); kept so that the index stays exact whatever is stored,
   * and any query finding one here takes the general path.
   */
  private final Map<String, ContainerRecord> queuedUnordered = new HashMap<>();

  private final Map<String, TreeMap<String, ContainerRecord>> byLockedBy = new HashMap<>();

  /**
   * Records a row's change: {@code before} null for a new row, {@code after} null for a gone one.
   */
  void replace(@Nullable ContainerRecord before, @Nullable ContainerRecord after) {
    lock.writeLock().lock();
    try {
      if (before != null) {
        remove(before);
      }
      if (after != null) {
        add(after);
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  void clear() {
    lock.writeLock().lock();
    try {
      queued.clear();
      queuedUnordered.clear();
      byLockedBy.clear();
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void add(ContainerRecord r) {
    String uuid = r.uuid();
    if (isQueued(r)) {
      Long p = integerPriority(r);
      if (p == null) {
        queuedUnordered.put(uuid, r);
      } else {
        queued.insert(p, uuid, r);
      }
    }
    String by = r.lockedByUuid();
    if (by != null) {
      byLockedBy.computeIfAbsent(by, k -> new TreeMap<>()).put(uuid, r);
    }
  }

  private void remove(ContainerRecord r) {
    String uuid = r.uuid();
    if (isQueued(r)) {
      Long p = integerPriority(r);
      boolean removed = p == null ? queuedUnordered.remove(uuid) != null : queued.remove(p, uuid);
      if (!removed) {
        throw new IllegalStateException("container index out of step for " + uuid);
      }
    }
    String by = r.lockedByUuid();
    if (by != null) {
      TreeMap<String, ContainerRecord> set = byLockedBy.get(by);
      if (set == null || set.remove(uuid) == null) {
        throw new IllegalStateException("container index out of step for " + uuid);
      }
      if (set.isEmpty()) {
        byLockedBy.remove(by);
      }
    }
  }

  /** Whether a {@code ["state","=","Queued"]} filter matches the record (exact text). */
  static boolean isQueued(ContainerRecord r) {
    return State.QUEUED.wire.equals(r.string(Attr.STATE));
  }

  /** The priority as a 64-bit integer, or null when the stored value is anything else. */
  static @Nullable Long integerPriority(ContainerRecord r) {
    JsonElement e = r.get(Attr.PRIORITY);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      return null;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    try {
      return new BigDecimal(p.getAsString()).longValueExact();
    } catch (ArithmeticException | NumberFormatException x) {
      return null;
    }
  }

  /**
   * The records whose {@code locked_by_uuid} is {@code lockedBy}, in uuid order (a copy).
   *
   * @param lockedBy the token uuid
   */
  List<ContainerRecord> lockedBy(String lockedBy) {
    lock.readLock().lock();
    try {
      TreeMap<String, ContainerRecord> set = byLockedBy.get(lockedBy);
      return set == null ? new ArrayList<>() : new ArrayList<>(set.values());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** A read of the Queued index, valid only inside {@link #readQueued}. */
  interface QueuedView {
    /** The tree of Queued records with an integer priority. */
    QueuedTree tree();

    /** The Queued records without an integer priority (none, unless something stored one). */
    List<ContainerRecord> unordered();
  }

  /** Runs {@code body} under the index's read lock; it must not keep the view. */
  <T> T readQueued(Function<QueuedView, T> body) {
    lock.readLock().lock();
    try {
      return body.apply(
          new QueuedView() {
            @Override
            public QueuedTree tree() {
              return queued;
            }

            @Override
            public List<ContainerRecord> unordered() {
              return new ArrayList<>(queuedUnordered.values());
            }
          });
    } finally {
      lock.readLock().unlock();
    }
  }
}
