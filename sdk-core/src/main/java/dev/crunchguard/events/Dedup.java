package dev.crunchguard.events;

import java.util.TreeSet;

/**
 * The ids seen so far, for de-duplication and for the resume point. Keeps the {@code capacity}
 * highest ids; an id below all of them (much older than anything recent) is taken as new. Guarded
 * by its own monitor.
 */
final class Dedup {
  private final long reorderMargin;
  private final int capacity;
  private final TreeSet<Long> seen = new TreeSet<>();
  private long highest;

  Dedup(long reorderMargin, int capacity) {
    this.reorderMargin = reorderMargin;
    this.capacity = capacity;
  }

  /** Records {@code id}; false if it was seen before. */
  synchronized boolean firstSighting(long id) {
    if (!seen.add(id)) {
      return false;
    }
    if (id > highest) {
      highest = id;
    }
    while (seen.size() > capacity) {
      seen.pollFirst();
    }
    return true;
  }

  synchronized long highest() {
    return highest;
  }

  /**
   * The {@code last_log_id} to resubscribe with: the reorder margin below the highest id seen,
   * since a lower id may still have been in flight; 0 when nothing was seen (then no replay is
   * possible).
   */
  synchronized long resumePoint() {
    return highest == 0 ? 0 : Math.max(1, highest - reorderMargin);
  }
}
