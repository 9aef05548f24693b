package dev.crunchguard.testkit;

import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Seeded random faults: each request to a selected endpoint draws once per fault kind, in {@link
 * FaultKind} declaration order, and gets the first kind whose draw falls under its rate ({@link
 * FaultKind#DELAY} combines with the others). Deterministic for a given seed and request arrival
 * order; concurrent requests arrive in an order the scheduler decides.
 */
public final class RandomFaults {
  private final long seed;
  private final Map<FaultKind, Double> rates;
  private final Set<Endpoint> endpoints;
  private final Duration delay;
  private final @Nullable Integer retryAfterSeconds;

  private RandomFaults(Builder b) {
    this.seed = b.seed;
    this.rates = new EnumMap<>(b.rates);
    this.endpoints = b.endpoints.isEmpty() ? EnumSet.allOf(Endpoint.class) : EnumSet.copyOf(b.endpoints);
    this.delay = b.delay;
    this.retryAfterSeconds = b.retryAfterSeconds;
  }

  /** Starts a configuration with the given seed. */
  public static Builder seed(long seed) {
    return new Builder(seed);
  }

  /** The seed. */
  public long seed() {
    return seed;
  }

  /** The per-kind probabilities. */
  public Map<FaultKind, Double> rates() {
    return Map.copyOf(rates);
  }

  /** The endpoints it applies to. */
  public Set<Endpoint> endpoints() {
    return Set.copyOf(endpoints);
  }

  /** The sleep for drawn delays. */
  public Duration delay() {
    return delay;
  }

  /** The {@code Retry-After} for drawn 429s (default 1) and 503s (default none). */
  public @Nullable Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** Builder of {@link RandomFaults}. */
  public static final class Builder {
    private final long seed;
    private final Map<FaultKind, Double> rates = new EnumMap<>(FaultKind.class);
    private final Set<Endpoint> endpoints = EnumSet.noneOf(Endpoint.class);
    private Duration delay = Duration.ofMillis(50);
    private @Nullable Integer retryAfterSeconds;

    private Builder(long seed) {
      this.seed = seed;
    }

    /** Sets the probability (0..1) of a fault kind per request. */
    public Builder rate(FaultKind kind, double probability) {
      if (!(probability >= 0 && probability <= 1)) {
        throw new IllegalArgumentException("probability must be in [0,1]");
      }
      rates.put(Objects.requireNonNull(kind), probability);
      return this;
    }

    /** Restricts random faults to these endpoints (repeatable; default all). */
    public Builder on(Endpoint... endpoints) {
      for (Endpoint e : endpoints) {
        this.endpoints.add(Objects.requireNonNull(e));
      }
      return this;
    }

    /** The sleep of drawn {@link FaultKind#DELAY} faults (default 50 ms). */
    public Builder delay(Duration d) {
      this.delay = Objects.requireNonNull(d);
      return this;
    }

    /** The {@code Retry-After} of drawn 429s (default 1) and 503s (default: no header). */
    public Builder retryAfterSeconds(int s) {
      this.retryAfterSeconds = s;
      return this;
    }

    /** Builds the configuration. */
    public RandomFaults build() {
      return new RandomFaults(this);
    }
  }
}
