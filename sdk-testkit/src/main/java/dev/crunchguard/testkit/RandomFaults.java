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
    this.endpoints =
        b.endpoints.isEmpty() ? EnumSet.allOf(Endpoint.class) : EnumSet.copyOf(b.endpoints);
    this.delay = b.delay;
    this.retryAfterSeconds = b.retryAfterSeconds;
  }

  /**
   * Starts a configuration with the given seed.
   *
   * @param seed the seed of the {@link java.util.Random} that draws the faults
   * @return a builder with no rates set (no faults), all endpoints and a 50 ms delay
   */
  public static Builder seed(long seed) {
    return new Builder(seed);
  }

  /**
   * The seed.
   *
   * @return the seed of the fault draws
   */
  public long seed() {
    return seed;
  }

  /**
   * The per-kind probabilities.
   *
   * @return an immutable map from fault kind to its probability in {@code [0,1]}; a kind not in the
   *     map is never drawn
   */
  public Map<FaultKind, Double> rates() {
    return Map.copyOf(rates);
  }

  /**
   * The endpoints it applies to.
   *
   * @return an immutable copy of the endpoints; all of them when none was given
   */
  public Set<Endpoint> endpoints() {
    return Set.copyOf(endpoints);
  }

  /**
   * The sleep for drawn delays.
   *
   * @return the delay of a drawn {@link FaultKind#DELAY} (default 50 ms)
   */
  public Duration delay() {
    return delay;
  }

  /**
   * The {@code Retry-After} for drawn 429s (default 1) and 503s (default none).
   *
   * @return the explicit {@code Retry-After} seconds, or null when none was set
   */
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

    /**
     * Sets the probability (0..1) of a fault kind per request.
     *
     * @param kind the fault kind; must not be null
     * @param probability the chance per request, in {@code [0,1]}; replaces an earlier rate for the
     *     kind
     * @return this builder
     * @throws IllegalArgumentException when {@code probability} is outside {@code [0,1]} or NaN
     */
    public Builder rate(FaultKind kind, double probability) {
      if (!(probability >= 0 && probability <= 1)) {
        throw new IllegalArgumentException("probability must be in [0,1]");
      }
      rates.put(Objects.requireNonNull(kind), probability);
      return this;
    }

    /**
     * Restricts random faults to these endpoints (repeatable; default all).
     *
     * @param endpoints endpoints to add; must not contain null
     * @return this builder
     */
    public Builder on(Endpoint... endpoints) {
      for (Endpoint e : endpoints) {
        this.endpoints.add(Objects.requireNonNull(e));
      }
      return this;
    }

    /**
     * The sleep of drawn {@link FaultKind#DELAY} faults (default 50 ms).
     *
     * @param d the delay; must not be null
     * @return this builder
     */
    public Builder delay(Duration d) {
      this.delay = Objects.requireNonNull(d);
      return this;
    }

    /**
     * The {@code Retry-After} of drawn 429s (default 1) and 503s (default: no header).
     *
     * @param s the {@code Retry-After} value in seconds
     * @return this builder
     */
    public Builder retryAfterSeconds(int s) {
      this.retryAfterSeconds = s;
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return a new immutable configuration; install it with {@link
     *     FaultInjector#random(RandomFaults)}
     */
    public RandomFaults build() {
      return new RandomFaults(this);
    }
  }
}
