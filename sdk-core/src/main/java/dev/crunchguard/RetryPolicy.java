package dev.crunchguard;

import dev.crunchguard.internal.Checks;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When and how long the SDK retries a call. Immutable and thread-safe.
 *
 * <p>Retried: connection failures and timeouts, and the HTTP statuses in {@link #retryStatuses()}
 * (by default 429, 500, 502, 503 and 504). Never retried: TLS handshake and certificate failures
 * (they do not heal), any other 4xx, and in particular the refusal of a stale writer (422, which
 * {@link Builder#retryStatuses} refuses), which is reported as {@link LostOwnershipException}.
 * Waits grow exponentially from {@link #initialBackoff()} to at most {@link #maxBackoff()}, each
 * chosen at random between half and all of that bound (jitter); a {@code Retry-After} header
 * (seconds or an HTTP date) on 429 or 503 replaces the computed wait. A call stops after {@link
 * #maxAttempts()} attempts, or as soon as the next wait would end past {@link #maxElapsed()} since
 * the first attempt. Every attempt of one call carries the same {@code X-Request-Id}.
 *
 * <pre>{@code
 * RetryPolicy patient = RetryPolicy.builder()
 *     .maxAttempts(10)
 *     .maxElapsed(Duration.ofMinutes(5))
 *     .build();
 * }</pre>
 */
public final class RetryPolicy {
  private static final RetryPolicy DEFAULTS = builder().build();
  private static final RetryPolicy NONE = builder().maxAttempts(1).build();

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration maxElapsed;
  private final Set<Integer> retryStatuses;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.maxElapsed = b.maxElapsed;
    this.retryStatuses = Set.copyOf(b.retryStatuses);
  }

  /**
   * The default policy: 6 attempts, waits from 250 ms up to 8 s, at most 60 s in all, retrying 429,
   * 500, 502, 503 and 504.
   *
   * @return the default policy
   */
  public static RetryPolicy defaults() {
    return DEFAULTS;
  }

  /**
   * A policy that makes exactly one attempt.
   *
   * @return the no-retry policy
   */
  public static RetryPolicy none() {
    return NONE;
  }

  /**
   * A builder starting from the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * @return the maximum number of attempts per call, at least 1
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * @return the wait before the first retry (before jitter)
   */
  public Duration initialBackoff() {
    return initialBackoff;
  }

  /**
   * @return the largest computed wait between two attempts
   */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /**
   * @return the time budget of one call, from its first attempt
   */
  public Duration maxElapsed() {
    return maxElapsed;
  }

  /**
   * @return the HTTP statuses that are retried
   */
  public Set<Integer> retryStatuses() {
    return retryStatuses;
  }

  boolean isRetryableStatus(int status) {
    return retryStatuses.contains(status);
  }

  /**
   * The jittered wait before retry number {@code retry} (1 for the first retry), in nanoseconds.
   */
  long backoffNanos(int retry) {
    long bound = Checks.exponentialNanos(initialBackoff.toNanos(), maxBackoff.toNanos(), retry);
    long half = bound / 2;
    return half + (bound - half <= 0 ? 0 : ThreadLocalRandom.current().nextLong(bound - half + 1));
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts="
        + maxAttempts
        + ", initialBackoff="
        + initialBackoff
        + ", maxBackoff="
        + maxBackoff
        + ", maxElapsed="
        + maxElapsed
        + ", retryStatuses="
        + new TreeSet<>(retryStatuses)
        + '}';
  }

  /** Builds a {@link RetryPolicy}. Not thread-safe. */
  public static final class Builder {
    private int maxAttempts = 6;
    private Duration initialBackoff = Duration.ofMillis(250);
    private Duration maxBackoff = Duration.ofSeconds(8);
    private Duration maxElapsed = Duration.ofSeconds(60);
    private Set<Integer> retryStatuses = Set.of(429, 500, 502, 503, 504);

    private Builder() {}

    /**
     * @param maxAttempts attempts per call, 1 (no retry) to 100
     * @return this builder
     */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1 || maxAttempts > 100) {
        throw new IllegalArgumentException(
            "maxAttempts must be between 1 and 100, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * @param initialBackoff the wait before the first retry; positive
     * @return this builder
     */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = Checks.positive(initialBackoff, "initialBackoff");
      return this;
    }

    /**
     * @param maxBackoff the largest computed wait; positive
     * @return this builder
     */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = Checks.positive(maxBackoff, "maxBackoff");
      return this;
    }

    /**
     * @param maxElapsed the time budget of one call including waits; positive
     * @return this builder
     */
    public Builder maxElapsed(Duration maxElapsed) {
      this.maxElapsed = Checks.positive(maxElapsed, "maxElapsed");
      return this;
    }

    /**
     * Replaces the set of retried HTTP statuses.
     *
     * @param statuses statuses from 408 to 599 except 422, which is final: it is how the server
     *     refuses a stale writer and a bad field, and retrying cannot change it
     * @return this builder
     */
    public Builder retryStatuses(int... statuses) {
      for (int s : statuses) {
        if (s < 408 || s > 599) {
          throw new IllegalArgumentException("only statuses 408..599 can be retried, got " + s);
        }
        if (s == 422) {
          throw new IllegalArgumentException(
              "422 cannot be retried: it is the server's final refusal (a stale writer or a bad field)");
        }
      }
      this.retryStatuses = Set.copyOf(Arrays.stream(statuses).boxed().toList());
      return this;
    }

    /**
     * @return the policy
     * @throws IllegalArgumentException if {@code maxBackoff} is shorter than {@code initialBackoff}
     */
    public RetryPolicy build() {
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException(
            "maxBackoff ("
                + maxBackoff
                + ") must not be shorter than initialBackoff ("
                + initialBackoff
                + ")");
      }
      return new RetryPolicy(this);
    }
  }
}
