package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.AUTH_B;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.OTHER_DISPATCHER_UUID;
import static dev.crunchguard.Fixtures.OUTPUT_PDH;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Writes whose response was lost (src/docs/guide.md, "Lost responses"): the retry is refused
 * because the first attempt was applied, and one read-back tells "our own earlier success" from
 * "someone else's epoch".
 */
class LostResponseTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;
  private static final String LOCK_PATH = CONTAINER_PATH + "/lock";
  private static final String TOKEN_PATH = "/arvados/v1/api_client_authorizations/current";

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static ResponseDefinitionBuilder json(int status, String body) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(body);
  }

  /**
   * The first request to {@code path} with this method gets {@code first}; every later one gets
   * {@code then}.
   */
  private static void firstThen(
      String method, String path, ResponseDefinitionBuilder first, ResponseDefinitionBuilder then) {
    var m1 = method.equals("PUT") ? put(urlPathEqualTo(path)) : post(urlPathEqualTo(path));
    var m2 = method.equals("PUT") ? put(urlPathEqualTo(path)) : post(urlPathEqualTo(path));
    wm.stubFor(
        m1.inScenario(method + path)
            .whenScenarioStateIs(STARTED)
            .willReturn(first)
            .willSetStateTo("applied"));
    wm.stubFor(m2.inScenario(method + path).whenScenarioStateIs("applied").willReturn(then));
  }

  private static void readBackShows(JsonObject record) {
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(okJson(Json.GSON.toJson(record))));
  }

  private static JsonObject completed(long exitCode, String output) {
    JsonObject r = Fixtures.record(CONTAINER, "Complete", null, null, 3);
    r.addProperty("exit_code", exitCode);
    r.addProperty("output", output);
    r.addProperty("finished_at", "2026-08-01T11:00:00.000000000Z");
    return r;
  }

  // ---- (a) complete ----

  @Test
  void completeWhoseResponseWasLost_andReadBackShowsOurResult_succeedsAndReleases() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.staleWriter("Complete", null, AUTH_A)));
    readBackShows(completed(0, OUTPUT_PDH));
    ContainerLock lock = heldLock();
    AtomicInteger lostCalls = new AtomicInteger();
    lock.onLost(e -> lostCalls.incrementAndGet());

    Container done = lock.complete(0, OUTPUT_PDH);

    assertThat(done.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(done.exitCode()).isZero();
    assertThat(done.output()).isEqualTo(OUTPUT_PDH);
    assertThat(lock.isReleased()).isTrue();
    assertThat(lock.isLost()).isFalse();
    assertThat(lock.lastSeen()).isSameAs(done);
    assertThat(lostCalls).hasValue(0);
    wm.verify(2, putRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
    wm.verify(1, getRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
  }

  @Test
  void completeWhoseResponseWasLost_butReadBackShowsAnotherExitCode_isLost() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.staleWriter("Complete", null, AUTH_A)));
    readBackShows(completed(1, OUTPUT_PDH));
    ContainerLock lock = heldLock();

    LostOwnershipException e =
        expect(LostOwnershipException.class, () -> lock.complete(0, OUTPUT_PDH));

    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.COMPLETE);
    assertThat(e.observed().orElseThrow().authUuid()).isNotEqualTo(e.heldEpoch().authUuid());
    assertThat(lock.isLost()).isTrue();
    assertThat(lock.isReleased()).isFalse();
    wm.verify(1, getRequestedFor(anyUrl()));
  }

  @Test
  void completeWhoseResponseWasLost_butReadBackShowsAnotherOutput_isLost() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.EMPTY_RESPONSE),
        json(422, Fixtures.staleWriter("Complete", null, AUTH_A)));
    readBackShows(completed(0, "fa7aeb5140e2848d39b416daeef4ffc5+45"));

    assertThat(expect(LostOwnershipException.class, () -> heldLock().complete(0, OUTPUT_PDH)))
        .isNotNull();
  }

  @Test
  void completeWhoseResponseWasLost_butReadBackShowsCancelled_isLost() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.staleWriter("Cancelled", null, AUTH_A)));
    readBackShows(Fixtures.record(CONTAINER, "Cancelled", null, null, 3));

    LostOwnershipException e =
        expect(LostOwnershipException.class, () -> heldLock().complete(0, OUTPUT_PDH));
    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.CANCELLED);
  }

  @Test
  void completeAfterGatewayError_whoseRetryIsRefused_resolvesByReadBack() {
    // A 502 from the controller may come after Rails applied the write (lib/controller/proxy.go).
    firstThen(
        "PUT",
        CONTAINER_PATH,
        json(502, "{\"errors\":[\"context deadline exceeded\"]}"),
        json(422, Fixtures.staleWriter("Complete", null, AUTH_A)));
    readBackShows(completed(0, OUTPUT_PDH));
    ContainerLock lock = heldLock();

    assertThat(lock.complete(0, OUTPUT_PDH).state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void completeAfter503_isNotAssumedApplied_soTheRefusalMeansLost() {
    // 503 (the limiter) means the request was not processed: a later refusal is someone else's
    // doing.
    firstThen(
        "PUT",
        CONTAINER_PATH,
        json(503, Fixtures.envelope("Service Unavailable")),
        json(422, Fixtures.staleWriter("Complete", null, AUTH_A)));
    readBackShows(completed(0, OUTPUT_PDH));
    ContainerLock lock = heldLock();

    assertThat(expect(LostOwnershipException.class, () -> lock.complete(0, OUTPUT_PDH)))
        .isNotNull();
    assertThat(lock.isReleased()).isFalse();
  }

  @Test
  void cancelWithReasonWhoseResponseWasLost_andReadBackShowsIt_succeeds() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.staleWriter("Cancelled", null, AUTH_A)));
    JsonObject cancelled = Fixtures.record(CONTAINER, "Cancelled", null, null, 3);
    cancelled.add("runtime_status", JsonParser.parseString("{\"error\":\"out of memory\"}"));
    readBackShows(cancelled);
    ContainerLock lock = heldLock();

    assertThat(lock.cancel("out of memory").state()).isEqualTo(ContainerState.CANCELLED);
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void markRunningWhoseResponseWasLost_butTheEpochEndedSince_isLost() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.staleWriter("Queued", null, AUTH_A)));
    readBackShows(Fixtures.record(CONTAINER, "Queued", null, null, 3));
    ContainerLock lock = heldLock();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::markRunning);

    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.QUEUED);
    wm.verify(1, getRequestedFor(anyUrl()));
  }

  @Test
  void refusalOfOwnBadField_afterALostAttempt_staysApiException() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.envelope("Exit code cannot be modified in state 'Locked' (nil, 1)")));
    readBackShows(Fixtures.record(CONTAINER, "Locked", AUTH_A, DISPATCHER_TOKEN_UUID, 3));
    ContainerLock lock = heldLock();

    ArvadosServiceException e =
        expect(
            ArvadosServiceException.class,
            () -> lock.update(ContainerUpdate.builder().exitCode(1).build()));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
    assertThat(lock.isLost()).isFalse();
  }

  // ---- (b) unlock ----

  @Test
  void unlockWhoseResponseWasLost_succeedsAndReleases() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.staleWriter("Queued", null, AUTH_A)));
    readBackShows(Fixtures.record(CONTAINER, "Queued", null, null, 3));
    ContainerLock lock = heldLock();

    Container after = lock.unlock();

    assertThat(after.state()).isEqualTo(ContainerState.QUEUED);
    assertThat(lock.isReleased()).isTrue();
    assertThat(lock.isLost()).isFalse();
    wm.verify(0, postRequestedFor(urlPathMatching(".*/unlock")));
  }

  @Test
  void unlockWhoseResponseWasLost_andMaxDispatchAttemptsCancelledIt_succeeds() {
    firstThen(
        "PUT",
        CONTAINER_PATH,
        aResponse().withFault(Fault.EMPTY_RESPONSE),
        json(422, Fixtures.staleWriter("Cancelled", null, AUTH_A)));
    readBackShows(Fixtures.record(CONTAINER, "Cancelled", null, null, 10));
    ContainerLock lock = heldLock();

    assertThat(lock.unlock().state()).isEqualTo(ContainerState.CANCELLED);
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void plainUnlockWhoseResponseWasLost_returnsTheQueuedContainer() {
    firstThen(
        "POST",
        CONTAINER_PATH + "/unlock",
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(
            422,
            Fixtures.envelope(
                "#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Queued>")));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.epochFields(CONTAINER, "Queued", null, null, 3))));

    Container c = containers().unlock(CONTAINER);

    assertThat(c.state()).isEqualTo(ContainerState.QUEUED);
    wm.verify(1, getRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
  }

  @Test
  void plainUnlockWhoseResponseWasLost_butTheContainerIsLockedAgain_isTheRefusal() {
    firstThen(
        "POST",
        CONTAINER_PATH + "/unlock",
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(
            422,
            Fixtures.envelope(
                "#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Running>")));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.epochFields(CONTAINER, "Running", AUTH_B, OTHER_DISPATCHER_UUID, 4))));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().unlock(CONTAINER));

    assertThat(e.status()).isEqualTo(422);
    assertThat(e.hasErrorContaining("cannot unlock when Running")).isTrue();
  }

  // ---- (c) lock ----

  private static void lockResponseLost_thenLocked() {
    firstThen(
        "POST",
        LOCK_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.envelope(Fixtures.LOCK_FAILED_LOCKED)));
  }

  private static void lockReadBack(String state, String lockedBy, long lockCount) {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(Fixtures.epochFields(CONTAINER, state, AUTH_A, lockedBy, lockCount))));
    wm.stubFor(
        get(urlPathEqualTo(TOKEN_PATH))
            .willReturn(okJson(Fixtures.tokenRecord(DISPATCHER_TOKEN_UUID))));
  }

  /** A client that opted in to {@link AmbiguousLockPolicy#ADOPT} (the default refuses). */
  private Containers adopting() {
    ArvadosClient c = builder().ambiguousLockPolicy(AmbiguousLockPolicy.ADOPT).build();
    closeLater(c);
    return c.containers();
  }

  @Test
  void lockResponseLost_withAdoptPolicy_resolvesByReadBack_andAdoptsTheLockHeldByThisToken() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 3);

    ContainerLock lock = adopting().lock(CONTAINER);

    assertThat(lock.authUuid()).isEqualTo(AUTH_A);
    assertThat(lock.epoch().lockedByUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);
    assertThat(lock.isFenced()).isTrue();
    assertThat(lock.epoch().lockCount()).isEqualTo(3L);
    wm.verify(2, postRequestedFor(urlPathEqualTo(LOCK_PATH)));
    wm.verify(1, getRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
    wm.verify(1, getRequestedFor(urlPathEqualTo(TOKEN_PATH)));

    // The adopted lock writes in the read-back epoch.
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
    lock.markRunning();
    String sent =
        wm.findAll(putRequestedFor(urlPathEqualTo(CONTAINER_PATH))).get(0).getBodyAsString();
    assertThat(
            JsonParser.parseString(sent)
                .getAsJsonObject()
                .getAsJsonObject("container")
                .get("auth_uuid")
                .getAsString())
        .isEqualTo(AUTH_A);
  }

  @Test
  void
      lockResponseLost_byDefault_isLockConflict_andLeavesTheContainerLocked_becauseASiblingMayShareTheToken() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 3);

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));
    assertThat(e.observedState()).isEqualTo(ContainerState.LOCKED);
    assertThat(e.containerUuid()).isEqualTo(CONTAINER);
    wm.verify(0, postRequestedFor(urlPathMatching(".*/unlock")));
    wm.verify(0, putRequestedFor(anyUrl()));
  }

  @Test
  void lockResponseLost_butLockedByAnotherToken_isLockConflictWithObservedState() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", OTHER_DISPATCHER_UUID, 3);

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));

    assertThat(e.observedState()).isEqualTo(ContainerState.LOCKED);
    assertThat(e.isPriorityZero()).isFalse();
  }

  @Test
  void lockResponseLost_butAlreadyRunning_isLockConflict() {
    firstThen(
        "POST",
        LOCK_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.envelope("#<ArvadosModel::LockFailedError: cannot lock when Running>")));
    lockReadBack("Running", DISPATCHER_TOKEN_UUID, 3);

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));
    assertThat(e.observedState()).isEqualTo(ContainerState.RUNNING);
  }

  @Test
  void lockSeenContainer_whoseLockCountAdvancedByOne_isAdopted() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 3);
    Container seen = Container.fromJson(Fixtures.record(CONTAINER, "Queued", null, null, 2));

    assertThat(adopting().lock(seen).authUuid()).isEqualTo(AUTH_A);
  }

  @Test
  void lockSeenContainer_whoseLockCountAdvancedByTwo_isLockConflict() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 3);
    Container seen = Container.fromJson(Fixtures.record(CONTAINER, "Queued", null, null, 1));

    LockConflictException e = expect(LockConflictException.class, () -> adopting().lock(seen));
    assertThat(e.observedState()).isEqualTo(ContainerState.LOCKED);
  }

  @Test
  void lockSeenContainer_whoseLockCountDidNotAdvance_isLockConflict() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 3);
    Container seen = Container.fromJson(Fixtures.record(CONTAINER, "Queued", null, null, 3));

    assertThat(expect(LockConflictException.class, () -> adopting().lock(seen))).isNotNull();
  }

  @Test
  void lockSeenContainerWithoutLockCount_isJudgedByHolderOnly() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 7);
    Container seen =
        Container.fromJson(
            JsonParser.parseString("{\"uuid\":\"" + CONTAINER + "\",\"state\":\"Queued\"}")
                .getAsJsonObject());

    assertThat(adopting().lock(seen).authUuid()).isEqualTo(AUTH_A);
  }

  @Test
  void lockRefused_withoutAnEarlierLostAttempt_isLockConflictWithoutReadBack() {
    wm.stubFor(
        post(urlPathEqualTo(LOCK_PATH))
            .willReturn(json(422, Fixtures.envelope(Fixtures.LOCK_FAILED_LOCKED))));
    lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 3);

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));

    assertThat(e.observedState()).isNull();
    wm.verify(0, getRequestedFor(anyUrl()));
  }

  @Test
  void lockRefusedForPriorityZero_afterALostAttempt_needsNoReadBack() {
    firstThen(
        "POST",
        LOCK_PATH,
        aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
        json(422, Fixtures.envelope(Fixtures.LOCK_FAILED_PRIORITY)));

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));

    assertThat(e.isPriorityZero()).isTrue();
    wm.verify(0, getRequestedFor(anyUrl()));
  }

  @Test
  void lockRefused_afterAConnectTimeout_isLockConflictWithoutReadBack() throws Exception {
    // A connect timeout never reached the server, so the refusal cannot be our own lock.
    List<Socket> backlog = new ArrayList<>();
    ServerSocket maybeFull = fullBacklogServer(backlog);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        maybeFull != null, "this OS refuses rather than drops connects to a full backlog");
    try (ServerSocket full = maybeFull) {
      OkHttpClient shared =
          new OkHttpClient.Builder()
              .socketFactory(
                  new FirstConnectGoesTo(
                      new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort())))
              .build();
      wm.stubFor(
          post(urlPathEqualTo(LOCK_PATH))
              .willReturn(json(422, Fixtures.envelope(Fixtures.LOCK_FAILED_LOCKED))));
      lockReadBack("Locked", DISPATCHER_TOKEN_UUID, 3);

      try (ArvadosClient c =
          builder().okHttpClient(shared).connectTimeout(Duration.ofMillis(300)).build()) {
        LockConflictException e =
            expect(LockConflictException.class, () -> c.containers().lock(CONTAINER));
        assertThat(e.observedState()).isNull();
      }
      assertThat(time.sleeps).as("the connect timeout was retried").hasSize(1);
      wm.verify(1, postRequestedFor(urlPathEqualTo(LOCK_PATH)));
      wm.verify(0, getRequestedFor(anyUrl()));
    } finally {
      for (Socket s : backlog) {
        s.close();
      }
    }
  }

  /**
   * A loopback server that never accepts and whose accept queue is full, so that connects time out
   * (Linux drops the SYN); null where the OS refuses such connects instead.
   */
  private static ServerSocket fullBacklogServer(List<Socket> keep) throws IOException {
    ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    for (int i = 0; i < 20; i++) {
      Socket s = new Socket();
      try {
        s.connect(ss.getLocalSocketAddress(), 200);
        keep.add(s);
      } catch (SocketTimeoutException full) {
        s.close();
        return ss;
      } catch (IOException refused) {
        s.close();
        break;
      }
    }
    ss.close();
    return null;
  }

  /** Sends the first connection to another address (a full backlog), the rest where asked. */
  private static final class FirstConnectGoesTo extends SocketFactory {
    private final SocketAddress first;
    private final AtomicBoolean used = new AtomicBoolean();

    FirstConnectGoesTo(SocketAddress first) {
      this.first = first;
    }

    @Override
    public Socket createSocket() {
      return new Socket() {
        @Override
        public void connect(SocketAddress endpoint, int timeout) throws IOException {
          super.connect(used.compareAndSet(false, true) ? first : endpoint, timeout);
        }
      };
    }

    @Override
    public Socket createSocket(String host, int port) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(
        InetAddress address, int port, InetAddress localAddress, int localPort) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void lockResponseLost_readBackUsesTheCachedTokenUuid() {
    lockResponseLost_thenLocked();
    lockReadBack("Locked", OTHER_DISPATCHER_UUID, 3);
    assertThat(client.tokenUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);

    expect(LockConflictException.class, () -> containers().lock(CONTAINER));

    wm.verify(1, getRequestedFor(urlPathEqualTo(TOKEN_PATH)));
  }

  @Test
  void cancelWithMapStatus_sendsExactlyTheReason() {
    // guards the read-back comparison above: cancel(reason) writes runtime_status = {"error":
    // reason} only
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Cancelled", null, null, 3))));
    heldLock().cancel("why");
    JsonObject c =
        JsonParser.parseString(wm.findAll(putRequestedFor(anyUrl())).get(0).getBodyAsString())
            .getAsJsonObject()
            .getAsJsonObject("container");
    assertThat(Json.toJava(c.get("runtime_status"))).isEqualTo(Map.of("error", "why"));
  }
}
