package dev.crunchguard.testkit.internal.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongPredicate;
import org.jspecify.annotations.Nullable;

/**
 * An order-statistic tree (a treap whose nodes know their subtree sizes) of container records in
 * {@code priority desc, uuid asc} order, the order the Dispatcher lists the queue in. Every
 * operation is O(log n) expected, a range of k records O(log n + k). Not thread-safe: {@link
 * ContainerIndex} guards it.
 */
final class QueuedTree {
  private static final class Node {
    final long priority;
    final String uuid;
    final ContainerRecord record;
    final int heap;
    int size = 1;
    @Nullable Node left;
    @Nullable Node right;

    Node(long priority, String uuid, ContainerRecord record, int heap) {
      this.priority = priority;
      this.uuid = uuid;
      this.record = record;
      this.heap = heap;
    }
  }

  /** Seeded, so that the same inserts build the same tree (reproducible runs). */
  private final SplittableRandom random = new SplittableRandom(0x5eed);

  private @Nullable Node root;

  int size() {
    return size(root);
  }

  void clear() {
    root = null;
  }

  /** Tree order: higher priority first, then smaller uuid first. */
  private static int compare(long p1, String u1, long p2, String u2) {
    int c = Long.compare(p2, p1);
    return c != 0 ? c : u1.compareTo(u2);
  }

  /** Adds a record; the caller guarantees that no record with its uuid is in the tree. */
  void insert(long priority, String uuid, ContainerRecord record) {
    Node n = new Node(priority, uuid, record, random.nextInt());
    Node[] lr = split(root, priority, uuid);
    root = merge(merge(lr[0], n), lr[1]);
  }

  /**
   * Removes the record stored under {@code (priority, uuid)}.
   *
   * @return whether it was there
   */
  boolean remove(long priority, String uuid) {
    int before = size(root);
    root = remove(root, priority, uuid);
    return size(root) < before;
  }

  private static @Nullable Node remove(@Nullable Node t, long priority, String uuid) {
    if (t == null) {
      return null;
    }
    int c = compare(priority, uuid, t.priority, t.uuid);
    if (c == 0) {
      return merge(t.left, t.right);
    }
    if (c < 0) {
      t.left = remove(t.left, priority, uuid);
    } else {
      t.right = remove(t.right, priority, uuid);
    }
    update(t);
    return t;
  }

  /**
   * The number of leading records (in tree order) whose priority satisfies {@code leading}, which
   * must hold for a prefix of the order and for nothing after it: for example {@code p -> p > 0}
   * counts the records with a positive priority. O(log n).
   */
  int prefix(LongPredicate leading) {
    int count = 0;
    Node t = root;
    while (t != null) {
      if (leading.test(t.priority)) {
        count += size(t.left) + 1;
        t = t.right;
      } else {
        t = t.left;
      }
    }
    return count;
  }

  /** The priority of the record at {@code index} (0-based, tree order). */
  long priorityAt(int index) {
    Node t = root;
    int i = index;
    while (t != null) {
      int ls = size(t.left);
      if (i < ls) {
        t = t.left;
      } else if (i == ls) {
        return t.priority;
      } else {
        i -= ls + 1;
        t = t.right;
      }
    }
    throw new IndexOutOfBoundsException(index);
  }

  /** The records at positions {@code [from, to)}, in tree order. O(log n + (to - from)). */
  List<ContainerRecord> range(int from, int to) {
    List<ContainerRecord> out = new ArrayList<>(Math.max(0, to - from));
    collect(root, from, to, 0, out);
    return out;
  }

  private static void collect(
      @Nullable Node t, int from, int to, int base, List<ContainerRecord> out) {
    if (t == null || to <= base || from >= base + t.size) {
      return;
    }
    collect(t.left, from, to, base, out);
    int pos = base + size(t.left);
    if (pos >= from && pos < to) {
      out.add(t.record);
    }
    collect(t.right, from, to, pos + 1, out);
  }

  private static int size(@Nullable Node t) {
    return t == null ? 0 : t.size;
  }

  private static void update(Node t) {
    t.size = 1 + size(t.left) + size(t.right);
  }

  /** Splits into the records before {@code (priority, uuid)} and those at or after it. */
  private static @Nullable Node[] split(@Nullable Node t, long priority, String uuid) {
    if (t == null) {
      return new Node[2];
    }
    if (compare(t.priority, t.uuid, priority, uuid) < 0) {
      Node[] lr = split(t.right, priority, uuid);
      t.right = lr[0];
      update(t);
      return new Node[] {t, lr[1]};
    }
    Node[] lr = split(t.left, priority, uuid);
    t.left = lr[1];
    update(t);
    return new Node[] {lr[0], t};
  }

  /** Joins two treaps, every record of {@code a} before every record of {@code b}. */
  private static @Nullable Node merge(@Nullable Node a, @Nullable Node b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    if (a.heap > b.heap) {
      a.right = merge(a.right, b);
      update(a);
      return a;
    }
    b.left = merge(a, b.left);
    update(b);
    return b;
  }
}
