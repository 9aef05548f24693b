package dev.crunchguard.testkit.internal.http;

import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import org.jspecify.annotations.Nullable;

/**
 * What the front end does to one request before (or instead of) serving it: a delay, then at most
 * one terminal fault.
 *
 * @param delayMillis the sleep before the request is handled, {@code >= 0}
 * @param terminal the fault that ends the request, or null to serve it
 * @param retryAfterSeconds the {@code Retry-After} of a 429/503 fault, or null
 */
public record FaultDecision(
    long delayMillis, @Nullable FaultKind terminal, @Nullable Integer retryAfterSeconds) {
  /** Serve the request as it is. */
  public static final FaultDecision NONE = new FaultDecision(0, null, null);

  /** Decides the fault of each request; the public {@code FaultInjector} is the one source. */
  @FunctionalInterface
  public interface Source {
    /**
     * Decides, consuming the counted rules it matches.
     *
     * @param endpoint the endpoint the request reached
     * @param containerUuid the container the request is about, or null
     * @return the decision, {@link #NONE} when no rule or random fault applies
     */
    FaultDecision decide(Endpoint endpoint, @Nullable String containerUuid);
  }
}
