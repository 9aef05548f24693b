package dev.crunchguard.testkit;

import dev.crunchguard.testkit.internal.http.FaultDecision;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * The simulator's programmable faults: counted {@link FaultRule rules} (consulted first, in the
 * order added) and optional seeded {@link RandomFaults}. Thread-safe.
 */
public final class FaultInjector {
  private final CopyOnWriteArrayList<FaultRule> rules = new CopyOnWriteArrayList<>();
  private volatile @Nullable RandomState random;

  private static final class RandomState {
    final RandomFaults config;
    final Random rng;

    RandomState(RandomFaults config) {
      this.config = config;
      this.rng = new Random(config.seed());
    }
  }

  FaultInjector() {}

  /**
   * Installs a rule.
   *
   * @param rule the rule, consulted after the rules added before it; must not be null
   * @return this injector, for chaining
   */
  public FaultInjector add(FaultRule rule) {
    rules.add(Objects.requireNonNull(rule));
    return this;
  }

  /**
   * Installs (or replaces) the random faults.
   *
   * @param config the random fault configuration; its random generator restarts from the seed; must
   *     not be null
   * @return this injector, for chaining
   */
  public FaultInjector random(RandomFaults config) {
    random = new RandomState(Objects.requireNonNull(config));
    return this;
  }

  /** Removes all rules and the random faults. */
  public void clear() {
    rules.clear();
    random = null;
  }

  /**
   * The installed rules, with their remaining counts.
   *
   * @return an immutable snapshot of the rules in the order added, used-up rules included
   */
  public List<FaultRule> rules() {
    return List.copyOf(rules);
  }

  /**
   * The fault decision for one request; the front ends call it through {@link
   * FaultDecision.Source}.
   */
  FaultDecision decide(Endpoint endpoint, @Nullable String uuid) {
    long delay = 0;
    FaultKind terminal = null;
    Integer retryAfter = null;
    for (FaultRule r : rules) {
      if (!r.matches(endpoint, uuid)) {
        continue;
      }
      if (r.kind() == FaultKind.DELAY) {
        if (r.claim()) {
          delay += r.delay().toMillis();
        }
      } else if (terminal == null && r.claim()) {
        terminal = r.kind();
        retryAfter = r.retryAfterSeconds();
      }
    }
    RandomState rs = random;
    if (rs != null && rs.config.endpoints().contains(endpoint)) {
      synchronized (rs) {
        for (FaultKind k : FaultKind.values()) {
          Double rate = rs.config.rates().get(k);
          double draw = rs.rng.nextDouble();
          if (rate == null || draw >= rate) {
            continue;
          }
          if (k == FaultKind.DELAY) {
            delay += rs.config.delay().toMillis();
          } else if (terminal == null) {
            terminal = k;
            retryAfter = rs.config.retryAfterSeconds();
          }
        }
      }
    }
    if (delay == 0 && terminal == null) {
      return FaultDecision.NONE;
    }
    return new FaultDecision(delay, terminal, retryAfter);
  }
}
