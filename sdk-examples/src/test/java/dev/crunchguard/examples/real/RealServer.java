package dev.crunchguard.examples.real;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosException;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerState;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.RetryPolicy;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.FaultProxy;
import dev.crunchguard.testkit.RealArvados;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the real-server tests share: SDK clients for the three tokens (direct, or through a {@link
 * FaultProxy}), and the containers a test created, left finished afterwards so that no later
 * dispatcher test picks them up.
 */
final class RealServer implements AutoCloseable {
  static final String IMAGE = "crunchguard-real-suite";

  final RealArvados arv;
  final FaultProxy proxy;

  /** The first admin (the dispatcher), through the proxy. */
  final ArvadosClient admin;

  /** The second admin, directly. */
  final ArvadosClient admin2;

  /** The first admin, directly: read-backs and set-up that the proxy must not count. */
  final ArvadosClient direct;

  private final List<ArvadosClient> clients = new ArrayList<>();
  private final List<String> created = new ArrayList<>();
  private final List<String> tokensMade = new ArrayList<>();
  private final okhttp3.OkHttpClient raw;

  RealServer(RealArvados arv) {
    this.arv = arv;
    this.proxy = FaultProxy.builder(arv.baseUrl()).insecureUpstream(arv.insecure()).build().start();
    this.admin = client(proxy.baseUrl(), arv.adminToken(), "real-suite-admin");
    this.admin2 = client(arv.baseUrl(), arv.admin2Token(), "real-suite-admin2");
    this.direct = client(arv.baseUrl(), arv.adminToken(), "real-suite-direct");
    this.raw = arv.newHttpClient();
  }

  /**
   * A new token of the first admin user restricted to the given scopes ({@code POST
   * /arvados/v1/api_client_authorizations}; the SDK has no call for it), revoked by {@link
   * #close()}. A secret: never log it.
   */
  String scopedAdminToken(List<String> scopes) {
    com.google.gson.JsonObject attrs = new com.google.gson.JsonObject();
    attrs.addProperty("owner_uuid", arv.adminUuid());
    com.google.gson.JsonArray a = new com.google.gson.JsonArray();
    scopes.forEach(a::add);
    attrs.add("scopes", a);
    com.google.gson.JsonObject body = new com.google.gson.JsonObject();
    body.add("api_client_authorization", attrs);
    okhttp3.Request req =
        new okhttp3.Request.Builder()
            .url(arv.baseUrl() + "arvados/v1/api_client_authorizations")
            .header("Authorization", "Bearer " + arv.adminToken())
            .post(
                okhttp3.RequestBody.create(
                    body.toString(), okhttp3.MediaType.get("application/json")))
            .build();
    try (okhttp3.Response r = raw.newCall(req).execute()) {
      String text = r.body() == null ? "" : r.body().string();
      if (r.code() != 200) {
        throw new IllegalStateException("creating a scoped token failed: HTTP " + r.code());
      }
      com.google.gson.JsonObject t = com.google.gson.JsonParser.parseString(text).getAsJsonObject();
      String uuid = t.get("uuid").getAsString();
      tokensMade.add(uuid);
      return "v2/" + uuid + "/" + t.get("api_token").getAsString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void revoke(String tokenUuid) {
    okhttp3.Request req =
        new okhttp3.Request.Builder()
            .url(arv.baseUrl() + "arvados/v1/api_client_authorizations/" + tokenUuid)
            .header("Authorization", "Bearer " + arv.adminToken())
            .delete()
            .build();
    try (okhttp3.Response r = raw.newCall(req).execute()) {
      // best effort
    } catch (java.io.IOException e) {
      // best effort
    }
  }

  /** A client of this server (or the proxy) with the given token and quick retries. */
  ArvadosClient client(String baseUrl, String token, String clientId) {
    ArvadosClient c = builder(baseUrl, token, clientId).build();
    clients.add(c);
    return c;
  }

  ArvadosClient.Builder builder(String baseUrl, String token, String clientId) {
    return ArvadosClient.builder()
        .baseUrl(baseUrl)
        .token(token)
        .insecureTls(arv.insecure() && !baseUrl.equals(proxy.baseUrl()))
        .clientId(clientId)
        .retryPolicy(
            RetryPolicy.builder()
                .initialBackoff(Duration.ofMillis(20))
                .maxBackoff(Duration.ofMillis(200))
                .build());
  }

  /** Closes {@code c} with this fixture. */
  void closeLater(ArvadosClient c) {
    clients.add(c);
  }

  /** A lockable container running {@code command}, cleaned up by {@link #close()}. */
  String create(String... command) {
    return create(ContainerSpec.builder().command(command).containerImage(IMAGE).priority(1));
  }

  /** A container from the spec (with this suite's image), cleaned up by {@link #close()}. */
  String create(ContainerSpec.Builder spec) {
    String uuid = arv.createContainer(spec.build());
    created.add(uuid);
    return uuid;
  }

  /** Marks a container made elsewhere (by a dispatcher test) for clean-up. */
  void track(String uuid) {
    created.add(uuid);
  }

  Container read(String uuid) {
    return direct.containers().get(uuid);
  }

  /** Cancels what a test left Queued, Locked or Running, as whichever admin holds it. */
  private void finish(String uuid) {
    Container c = read(uuid);
    ContainerState s = c.state();
    if (s == ContainerState.COMPLETE || s == ContainerState.CANCELLED) {
      return;
    }
    if (s == ContainerState.QUEUED) {
      if (c.priority() == null || c.priority() == 0) {
        return;
      }
      direct.containers().lock(uuid).cancel();
      return;
    }
    ArvadosClient holder = direct.tokenUuid().equals(c.lockedByUuid()) ? direct : admin2;
    holder
        .containers()
        .resume(LockEpoch.of(uuid, c.authUuid(), c.lockedByUuid(), c.lockCount()))
        .cancel();
  }

  @Override
  public void close() {
    try {
      for (String uuid : created) {
        try {
          finish(uuid);
        } catch (ArvadosException | IllegalStateException e) {
          // Best effort: a test that fails leaves its reason, not a clean-up error.
        }
      }
    } finally {
      tokensMade.forEach(this::revoke);
      clients.forEach(ArvadosClient::close);
      raw.dispatcher().executorService().shutdown();
      raw.connectionPool().evictAll();
      proxy.close();
    }
  }
}
