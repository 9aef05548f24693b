package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A client against the subclass's WireMock server, with a fake clock and sleeper (no real waits),
 * the default retry policy and the default ambiguous-lock policy.
 */
abstract class ClientTestBase {
  protected final Fixtures.FakeTime time = new Fixtures.FakeTime();
  protected ArvadosClient client;
  private final List<ArvadosClient> extraClients = new java.util.ArrayList<>();

  /** The subclass's server: each test class declares its own static extension. */
  protected abstract WireMockExtension wm();

  protected ArvadosClient.Builder builder() {
    return ArvadosClient.builder()
        .baseUrl(wm().baseUrl())
        .token(Fixtures.DISPATCHER_TOKEN)
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5))
        .sleeper(time)
        .nanoClock(time);
  }

  @BeforeEach
  void openClient() {
    client = builder().build();
  }

  @AfterEach
  void closeClient() {
    client.close();
    extraClients.forEach(ArvadosClient::close);
  }

  /** Closes {@code c} after the test. */
  protected void closeLater(ArvadosClient c) {
    extraClients.add(c);
  }

  protected Containers containers() {
    return client.containers();
  }

  /** A lock on {@link Fixtures#CONTAINER} in epoch AUTH_A, resumed without any request. */
  protected ContainerLock heldLock() {
    return containers()
        .resume(
            LockEpoch.of(Fixtures.CONTAINER, Fixtures.AUTH_A, Fixtures.DISPATCHER_TOKEN_UUID, 3L));
  }

  protected List<LoggedRequest> allRequests() {
    return wm().findAll(anyRequestedFor(anyUrl()));
  }

  protected int requestCount() {
    return allRequests().size();
  }
}
