package dev.crunchguard.testkit;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A programmed fault: "the next N requests to these endpoints (for this container) get fault K".
 * Build with {@link #of(FaultKind)}; install with {@link FaultInjector#add(FaultRule)}.
 */
public final class FaultRule {
  private final FaultKind kind;
  private final Set<Endpoint> endpoints;
  private final @Nullable String containerUuid;
  private final int times;
  private final Duration delay;
  private final @Nullable Integer retryAfterSeconds;
  private final AtomicInteger remaining;

  private FaultRule(Builder b) {
    this.kind = b.kind;
    this.endpoints =
        b.endpoints.isEmpty() ? EnumSet.allOf(Endpoint.class) : EnumSet.copyOf(b.endpoints);
    this.containerUuid = b.containerUuid;
    this.times = b.times;
    this.delay = b.delay;
    this.retryAfterSeconds = b.retryAfterSeconds;
    this.remaining = new AtomicInteger(b.times);
  }

  /**
   * Starts a rule of the given kind (all endpoints, any container, once).
   *
   * @param kind the fault to inject; must not be null
   * @return a builder for the rule
   */
  public static Builder of(FaultKind kind) {
    return new Builder(kind);
  }

  /**
   * The fault kind.
   *
   * @return the kind of fault this rule injects
   */
  public FaultKind kind() {
    return kind;
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
   * The container it applies to, or null for any.
   *
   * @return the container uuid the rule is restricted to, or null
   */
  public @Nullable String containerUuid() {
    return containerUuid;
  }

  /**
   * How many matching requests it was programmed for ({@code -1}: unlimited).
   *
   * @return the programmed count, {@code >= 1}, or {@code -1} for {@link Builder#always()}
   */
  public int times() {
    return times;
  }

  /**
   * How many matching requests it will still affect ({@code -1}: unlimited).
   *
   * @return the remaining uses, {@code 0} when used up, or {@code -1} when unlimited
   */
  public int remaining() {
    return times < 0 ? -1 : Math.max(0, remaining.get());
  }

  /**
   * The sleep of a {@link FaultKind#DELAY} rule.
   *
   * @return the delay (default 200 ms); ignored for other kinds
   */
  public Duration delay() {
    return delay;
  }

  /**
   * The {@code Retry-After} seconds: always sent with {@link FaultKind#TOO_MANY_REQUESTS} (default
   * 1), sent with {@link FaultKind#SERVICE_UNAVAILABLE} only when set explicitly.
   *
   * @return the explicit value, or null when none was set
   */
  public @Nullable Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }

  boolean matches(Endpoint e, @Nullable String uuid) {
    return endpoints.contains(e) && (containerUuid == null || containerUuid.equals(uuid));
  }

  /** Atomically takes one use of the rule; false when it is used up. */
  boolean claim() {
    if (times < 0) {
      return true;
    }
    while (true) {
      int r = remaining.get();
      if (r <= 0) {
        return false;
      }
      if (remaining.compareAndSet(r, r - 1)) {
        return true;
      }
    }
  }

  @Override
  public String toString() {
    return "FaultRule["
        + kind
        + " on "
        + endpoints
        + (containerUuid == null ? "" : " for " + containerUuid)
        + ", remaining "
        + remaining()
        + "]";
  }

  /** Builder of {@link FaultRule}. */
  public static final class Builder {
    private final FaultKind kind;
    private final Set<Endpoint> endpoints = EnumSet.noneOf(Endpoint.class);
    private @Nullable String containerUuid;
    private int times = 1;
    private Duration delay = Duration.ofMillis(200);
    private @Nullable Integer retryAfterSeconds;

    private Builder(FaultKind kind) {
      this.kind = Objects.requireNonNull(kind, "kind");
    }

    /**
     * Restricts the rule to these endpoints (repeatable; default: all).
     *
     * @param endpoints endpoints to add to the rule; must not contain null
     * @return this builder
     */
    public Builder on(Endpoint... endpoints) {
      for (Endpoint e : endpoints) {
        this.endpoints.add(Objects.requireNonNull(e));
      }
      return this;
    }

    /**
     * Restricts the rule to requests about this container.
     *
     * @param uuid the container uuid; must not be null
     * @return this builder
     */
    public Builder container(String uuid) {
      this.containerUuid = Objects.requireNonNull(uuid);
      return this;
    }

    /**
     * Affects the next {@code n} matching requests (default 1).
     *
     * @param n the number of matching requests, {@code >= 1}
     * @return this builder
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public Builder times(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("times must be >= 1");
      }
      this.times = n;
      return this;
    }

    /**
     * Affects every matching request until the faults are cleared.
     *
     * @return this builder
     */
    public Builder always() {
      this.times = -1;
      return this;
    }

    /**
     * The sleep for {@link FaultKind#DELAY} (default 200 ms).
     *
     * @param d the delay before the request is handled; must not be negative
     * @return this builder
     * @throws IllegalArgumentException when {@code d} is negative
     */
    public Builder delay(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("delay must not be negative");
      }
      this.delay = d;
      return this;
    }

    /**
     * The {@code Retry-After} seconds for {@link FaultKind#TOO_MANY_REQUESTS} (default 1) and
     * {@link FaultKind#SERVICE_UNAVAILABLE} (default: no header).
     *
     * @param s the {@code Retry-After} value in seconds, {@code >= 0}
     * @return this builder
     * @throws IllegalArgumentException when {@code s} is negative
     */
    public Builder retryAfterSeconds(int s) {
      if (s < 0) {
        throw new IllegalArgumentException("retryAfterSeconds must not be negative");
      }
      this.retryAfterSeconds = s;
      return this;
    }

    /**
     * Builds the rule.
     *
     * @return a new rule with its full count of uses remaining
     */
    public FaultRule build() {
      return new FaultRule(this);
    }
  }
}
