package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link FaultProxy} in front of the real Arvados server. */
@RequiresRealArvados
class FaultProxyRealServerTest {
  private final RealArvados arv;
  private FaultProxy proxy;
  private Http http;
  private Http direct;

  FaultProxyRealServerTest(RealArvados arv) {
    this.arv = arv;
  }

  @BeforeEach
  void start() {
    proxy = FaultProxy.builder(arv.baseUrl()).insecureUpstream(arv.insecure()).build().start();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    http = new Http(proxy.baseUrl(), client);
    direct = new Http(arv.baseUrl(), client);
  }

  @AfterEach
  void stop() {
    proxy.close();
  }

  /** A lockable container (README fact 2: runtime_user_uuid and scopes, priority above 0). */
  private String create() {
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(arv.adminToken())
            .json(
                "{\"container\":{\"command\":[\"true\"],\"container_image\":\"fault-proxy-test\",\"output_path\":\"/out\","
                    + "\"priority\":1,\"runtime_user_uuid\":\""
                    + arv.userUuid()
                    + "\",\"runtime_auth_scopes\":[\"all\"]}}")
            .send();
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.str("uuid");
  }

  @Test
  void lostLockAnswerIsAppliedByTheRealServer() {
    String u = create();
    proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).container(u).build());
    assertThatThrownBy(() -> http.post(Http.c(u) + "/lock").token(arv.adminToken()).sendOrThrow())
        .isInstanceOf(IOException.class);
    Http.Res after = direct.show(u, arv.adminToken());
    assertThat(after.str("state")).isEqualTo("Locked");
    assertThat(after.str("locked_by_uuid")).startsWith(arv.clusterId() + "-gj3su-");
    assertThat(proxy.writes(u))
        .extracting(ProxiedWrite::endpoint, ProxiedWrite::status, ProxiedWrite::fault)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Endpoint.CREATE, 200, null),
            org.assertj.core.groups.Tuple.tuple(Endpoint.LOCK, 200, FaultKind.LOST_RESPONSE));
    assertThat(direct.unlock(u, arv.adminToken()).status()).isEqualTo(200);
  }

  @Test
  void gatewayFaultLeavesTheRealContainerUntouchedAndFencedWritesAreLogged() {
    String u = create();
    proxy.faults().add(FaultRule.of(FaultKind.BAD_GATEWAY).on(Endpoint.LOCK).build());
    assertThat(http.lock(u, arv.adminToken()).status()).isEqualTo(502);
    assertThat(direct.show(u, arv.adminToken()).str("state")).isEqualTo("Queued");
    Http.Res lock = http.lock(u, arv.adminToken());
    assertThat(lock.status()).as(lock.body()).isEqualTo(200);
    String epoch = lock.str("auth_uuid");
    Http.Res running =
        http.update(u, arv.adminToken(), "{\"state\":\"Running\",\"auth_uuid\":\"" + epoch + "\"}");
    assertThat(running.status()).as(running.body()).isEqualTo(200);
    Http.Res cancel =
        http.update(
            u, arv.adminToken(), "{\"state\":\"Cancelled\",\"auth_uuid\":\"" + epoch + "\"}");
    assertThat(cancel.status()).as(cancel.body()).isEqualTo(200);
    assertThat(proxy.requestCount(Endpoint.LOCK, u)).isEqualTo(2);
    assertThat(proxy.requestCount(Endpoint.UPDATE, u)).isEqualTo(2);
    assertThat(proxy.writes(u))
        .filteredOn(w -> w.endpoint() == Endpoint.UPDATE)
        .allSatisfy(w -> assertThat(w.carriedAuthUuid()).isTrue());
    assertThat(proxy.writes().toString()).doesNotContain(arv.adminToken());
  }
}
