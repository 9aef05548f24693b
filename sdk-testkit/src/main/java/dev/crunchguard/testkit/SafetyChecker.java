package dev.crunchguard.testkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks a write {@link HistoryEvent history} for fencing violations:
 *
 * <ul>
 *   <li><b>P1</b> {@link SafetyViolation.Property#STALE_EPOCH_WRITE}: an accepted update or unlock
 *       whose claimed epoch (body {@code auth_uuid}, else header {@code X-Crunch-Guard-Epoch})
 *       differs from the container's {@code auth_uuid} when it was applied.
 *   <li><b>P2</b> {@link SafetyViolation.Property#MULTIPLE_RUNNERS_PER_EPOCH}: more than one client
 *       identity with accepted <i>runner writes</i> in one (container, epoch). A runner write is an
 *       accepted update (no-ops included) carrying {@code state} Running or Complete, or any
 *       progress attribute ({@link #PROGRESS_FIELDS}). Requeue, cancel and priority writes are
 *       administrative and excluded, also when a cancel carries {@code runtime_status} (the
 *       reason).
 *   <li><b>P3</b> {@link SafetyViolation.Property#RUNNING_MORE_THAN_ONCE_PER_EPOCH}: more than one
 *       accepted request carrying {@code state: Running} whose state before was not Running, or
 *       accepted Running requests from more than one client identity, in one (container, epoch).
 *   <li><b>P4</b> {@link SafetyViolation.Property#EPOCH_ENDED_BY_STRANGER}: an accepted unlock
 *       ({@code POST .../unlock}, or an update to {@code state} Queued) or an accepted update to
 *       Cancelled, in an epoch that had a run, by a <i>dispatcher</i> (a client identity that sent
 *       at least one lock request in the history) that neither locked that epoch nor made runner
 *       writes in it. An epoch "had a run" when another client made runner writes in it: accepted
 *       ones, or ones claiming that epoch that were refused (a runner that was about to start and
 *       was cut off). This is how a dispatcher that cancels or unlocks a run it did not start shows
 *       up, for example one sharing its token with the run's real owner. Ending an epoch nobody ran
 *       (an orphaned lock whose answer was lost) is not a violation. Clients that never lock
 *       (users, operators, a test's chaos client) are not judged.
 * </ul>
 *
 * <p>The epoch of an event is {@link HistoryEvent#epochKey()}. Stateless and thread-safe.
 */
public final class SafetyChecker {
  /** The progress attributes whose writes count as runner writes. */
  public static final Set<String> PROGRESS_FIELDS =
      Set.of(
          "progress",
          "runtime_status",
          "log",
          "output",
          "output_properties",
          "exit_code",
          "cost",
          "subrequests_cost");

  private SafetyChecker() {}

  /**
   * Checks a history (any order; it is sorted by sequence number first).
   *
   * @param history the events to check, e.g. {@link ArvadosSimulator#history()}; not modified
   * @return the report of every property violation found; {@link SafetyReport#isSafe()} when none
   */
  public static SafetyReport check(List<HistoryEvent> history) {
    List<HistoryEvent> events = new ArrayList<>(history);
    events.sort((a, b) -> Long.compare(a.sequence(), b.sequence()));
    List<SafetyViolation> p1 = new ArrayList<>();
    Map<String, Map<String, List<HistoryEvent>>> runnerWrites = new LinkedHashMap<>();
    Map<String, List<HistoryEvent>> runningRequests = new LinkedHashMap<>();
    for (HistoryEvent e : events) {
      if (!e.accepted()) {
        continue;
      }
      String key = e.containerUuid() + "\u0000" + e.epochKey();
      if ((e.action() == WriteAction.UPDATE || e.action() == WriteAction.UNLOCK)
          && e.claimed()
          && !Objects.equals(e.claimedEpoch(), e.appliedEpoch())) {
        p1.add(
            new SafetyViolation(
                SafetyViolation.Property.STALE_EPOCH_WRITE,
                e.containerUuid(),
                e.epochKey(),
                "accepted "
                    + e.action()
                    + " from "
                    + e.clientIdentity()
                    + " claiming epoch "
                    + e.claimedEpoch()
                    + " ("
                    + e.claimSource()
                    + ") applied in epoch "
                    + e.appliedEpoch(),
                List.of(e.sequence())));
      }
      if (e.action() != WriteAction.UPDATE) {
        continue;
      }
      boolean running = "Running".equals(e.requestedState());
      boolean runnerWrite = isRunnerWrite(e);
      if (runnerWrite) {
        runnerWrites
            .computeIfAbsent(key, k -> new LinkedHashMap<>())
            .computeIfAbsent(e.clientIdentity(), k -> new ArrayList<>())
            .add(e);
      }
      if (running) {
        runningRequests.computeIfAbsent(key, k -> new ArrayList<>()).add(e);
      }
    }
    List<SafetyViolation> p2 = new ArrayList<>();
    for (Map<String, List<HistoryEvent>> byClient : runnerWrites.values()) {
      if (byClient.size() > 1) {
        HistoryEvent first = byClient.values().iterator().next().get(0);
        List<Long> seqs = new ArrayList<>();
        byClient.values().forEach(l -> l.forEach(x -> seqs.add(x.sequence())));
        seqs.sort(null);
        p2.add(
            new SafetyViolation(
                SafetyViolation.Property.MULTIPLE_RUNNERS_PER_EPOCH,
                first.containerUuid(),
                first.epochKey(),
                "runner writes accepted from " + byClient.size() + " clients " + byClient.keySet(),
                seqs));
      }
    }
    List<SafetyViolation> p3 = new ArrayList<>();
    for (List<HistoryEvent> l : runningRequests.values()) {
      long transitions = l.stream().filter(x -> !"Running".equals(x.stateBefore())).count();
      Set<String> clients = new LinkedHashSet<>();
      l.forEach(x -> clients.add(x.clientIdentity()));
      if (transitions > 1 || clients.size() > 1) {
        HistoryEvent first = l.get(0);
        p3.add(
            new SafetyViolation(
                SafetyViolation.Property.RUNNING_MORE_THAN_ONCE_PER_EPOCH,
                first.containerUuid(),
                first.epochKey(),
                transitions
                    + " accepted transition(s) to Running from "
                    + clients.size()
                    + " client(s) "
                    + clients,
                l.stream().map(HistoryEvent::sequence).toList()));
      }
    }
    List<SafetyViolation> all = new ArrayList<>(p1);
    all.addAll(p2);
    all.addAll(p3);
    all.addAll(strangersEndingEpochs(events, runnerWrites));
    return new SafetyReport(all, events.size());
  }

  /**
   * Running, Complete, or a progress attribute; a requeue or a cancellation is administrative even
   * when it carries {@code runtime_status} (a dispatcher's reason for cancelling is not a run).
   */
  private static boolean isRunnerWrite(HistoryEvent e) {
    String st = e.requestedState();
    if ("Cancelled".equals(st) || "Queued".equals(st)) {
      return false;
    }
    return "Running".equals(st)
        || "Complete".equals(st)
        || e.fields().stream().anyMatch(PROGRESS_FIELDS::contains);
  }

  /** P4: unlocks and cancels by dispatchers that neither locked nor ran in the epoch they ended. */
  private static List<SafetyViolation> strangersEndingEpochs(
      List<HistoryEvent> events, Map<String, Map<String, List<HistoryEvent>>> runnerWrites) {
    Set<String> dispatchers = new LinkedHashSet<>();
    Map<String, String> lockers = new LinkedHashMap<>();
    Map<String, Set<String>> runAttempts = new LinkedHashMap<>();
    for (HistoryEvent e : events) {
      if (e.action() == WriteAction.UPDATE && !e.accepted() && e.claimed() && isRunnerWrite(e)) {
        runAttempts
            .computeIfAbsent(
                e.containerUuid() + "\u0000" + e.claimedEpoch(), k -> new LinkedHashSet<>())
            .add(e.clientIdentity());
      }
      if (e.action() == WriteAction.LOCK) {
        dispatchers.add(e.clientIdentity());
        if (e.accepted()) {
          String epoch =
              e.epochAfter() != null ? e.epochAfter() : "lock#" + (e.lockCountBefore() + 1);
          lockers.put(e.containerUuid() + "\u0000" + epoch, e.clientIdentity());
        }
      }
    }
    List<SafetyViolation> out = new ArrayList<>();
    for (HistoryEvent e : events) {
      boolean ends =
          e.accepted()
              && (e.action() == WriteAction.UNLOCK
                  || (e.action() == WriteAction.UPDATE
                      && ("Queued".equals(e.requestedState())
                          || "Cancelled".equals(e.requestedState()))
                      && !Objects.equals(e.stateBefore(), e.stateAfter())));
      if (!ends || !dispatchers.contains(e.clientIdentity())) {
        continue;
      }
      String key = e.containerUuid() + "\u0000" + e.epochKey();
      boolean locked = e.clientIdentity().equals(lockers.get(key));
      Set<String> runners = new LinkedHashSet<>(runnerWrites.getOrDefault(key, Map.of()).keySet());
      runners.addAll(runAttempts.getOrDefault(key, Set.of()));
      boolean ran = runners.contains(e.clientIdentity());
      runners.remove(e.clientIdentity());
      if (!locked && !ran && !runners.isEmpty()) {
        out.add(
            new SafetyViolation(
                SafetyViolation.Property.EPOCH_ENDED_BY_STRANGER,
                e.containerUuid(),
                e.epochKey(),
                e.clientIdentity()
                    + " moved the container "
                    + e.stateBefore()
                    + " -> "
                    + e.stateAfter()
                    + " in an epoch locked by "
                    + lockers.getOrDefault(key, "nobody seen")
                    + " and run by "
                    + runners,
                List.of(e.sequence())));
      }
    }
    return out;
  }
}
