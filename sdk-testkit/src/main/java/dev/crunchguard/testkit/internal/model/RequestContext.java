package dev.crunchguard.testkit.internal.model;

import org.jspecify.annotations.Nullable;

/**
 * Per-request facts the history needs.
 *
 * @param requestId the request id
 * @param clientIdentity X-Crunch-Guard-Client, else User-Agent, else "unknown"
 * @param headerEpochPresent whether X-Crunch-Guard-Epoch was sent
 * @param headerEpoch its value (an empty value or {@code null} means "no epoch")
 */
public record RequestContext(
    String requestId,
    String clientIdentity,
    boolean headerEpochPresent,
    @Nullable String headerEpoch) {
  public static RequestContext direct() {
    return new RequestContext(Ids.requestId(), "simulator", false, null);
  }
}
