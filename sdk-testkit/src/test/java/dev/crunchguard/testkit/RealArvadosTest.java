package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link RealArvados}'s configuration from the environment, against a stand-in for {@code GET
 * /arvados/v1/users/current} (the simulator does not serve users), and against the real server when
 * one is configured.
 */
class RealArvadosTest {
  private static final String ADMIN =
      "v2/zzzzz-gj3su-000000000000001/admin-secret-abcdef0123456789";
  private static final String ADMIN2 =
      "v2/zzzzz-gj3su-000000000000002/admin2-secret-abcdef0123456789";
  private static final String USER = "v2/zzzzz-gj3su-000000000000003/user-secret-abcdef0123456789";

  static Map<String, String> env(String url) {
    Map<String, String> env = new HashMap<>();
    env.put(RealArvados.URL_VAR, url);
    env.put(RealArvados.ADMIN_TOKEN_VAR, ADMIN);
    env.put(RealArvados.ADMIN2_TOKEN_VAR, ADMIN2);
    env.put(RealArvados.USER_TOKEN_VAR, USER);
    return env;
  }

  /**
   * Answers users/current for the three tokens above, with the given admin flags; 401 otherwise.
   */
  static final class UsersStub implements AutoCloseable {
    final HttpServer server;

    UsersStub(Map<String, String> tokenToUserJson) throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext(
          "/arvados/v1/users/current",
          ex -> {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            String json =
                auth == null ? null : tokenToUserJson.get(auth.replaceFirst("^Bearer ", ""));
            byte[] body =
                (json != null ? json : "{\"errors\":[\"Not logged in\"]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(json != null ? 200 : 401, body.length);
            try (OutputStream os = ex.getResponseBody()) {
              os.write(body);
            }
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  private static String user(String uuid, boolean admin) {
    return "{\"uuid\":\"" + uuid + "\",\"is_admin\":" + admin + ",\"is_active\":true}";
  }

  static Map<String, String> users() {
    return new HashMap<>(
        Map.of(
            ADMIN, user("zzzzz-tpzed-000000000000001", true),
            ADMIN2, user("zzzzz-tpzed-000000000000002", true),
            USER, user("zzzzz-tpzed-000000000000003", false)));
  }

  @Test
  void isAbsentWithoutUrl() {
    assertThat(RealArvados.fromEnvironment(Map.of())).isEmpty();
    assertThat(
            RealArvados.fromEnvironment(
                Map.of(RealArvados.URL_VAR, "  ", RealArvados.ADMIN_TOKEN_VAR, ADMIN)))
        .isEmpty();
  }

  @Test
  void namesTheMissingTokenVariables() {
    assertThatThrownBy(
            () ->
                RealArvados.fromEnvironment(
                    Map.of(
                        RealArvados.URL_VAR,
                        "http://127.0.0.1:1/",
                        RealArvados.ADMIN_TOKEN_VAR,
                        ADMIN)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(RealArvados.ADMIN2_TOKEN_VAR)
        .hasMessageContaining(RealArvados.USER_TOKEN_VAR)
        .hasMessageNotContaining("admin-secret");
  }

  @Test
  void looksUpTheThreeUsersAndKeepsTokensOutOfToString() throws IOException {
    try (UsersStub stub = new UsersStub(users())) {
      Optional<RealArvados> found = RealArvados.fromEnvironment(env(stub.url()));
      assertThat(found).isPresent();
      RealArvados arv = found.get();
      assertThat(arv.baseUrl()).isEqualTo(stub.url() + "/");
      assertThat(arv.adminToken()).isEqualTo(ADMIN);
      assertThat(arv.admin2Token()).isEqualTo(ADMIN2);
      assertThat(arv.userToken()).isEqualTo(USER);
      assertThat(arv.adminUuid()).isEqualTo("zzzzz-tpzed-000000000000001");
      assertThat(arv.admin2Uuid()).isEqualTo("zzzzz-tpzed-000000000000002");
      assertThat(arv.userUuid()).isEqualTo("zzzzz-tpzed-000000000000003");
      assertThat(arv.clusterId()).isEqualTo("zzzzz");
      assertThat(arv.insecure()).isFalse();
      assertThat(arv.toString()).contains(arv.adminUuid()).doesNotContain("secret");
    }
  }

  @Test
  void refusesSwappedRolesWithoutNamingTheToken() throws IOException {
    try (UsersStub stub = new UsersStub(users())) {
      Map<String, String> env = env(stub.url());
      env.put(RealArvados.USER_TOKEN_VAR, ADMIN2);
      assertThatThrownBy(() -> RealArvados.fromEnvironment(env))
          .hasMessageContaining(RealArvados.USER_TOKEN_VAR)
          .hasMessageContaining("ordinary user")
          .hasMessageNotContaining("secret");
      env.put(RealArvados.USER_TOKEN_VAR, USER);
      env.put(RealArvados.ADMIN2_TOKEN_VAR, ADMIN);
      assertThatThrownBy(() -> RealArvados.fromEnvironment(env)).hasMessageContaining("same user");
    }
  }

  @Test
  void refusesAnUnknownTokenWithoutNamingIt() throws IOException {
    Map<String, String> users = users();
    users.remove(USER);
    try (UsersStub stub = new UsersStub(users)) {
      assertThatThrownBy(() -> RealArvados.fromEnvironment(env(stub.url())))
          .hasMessageContaining("401")
          .hasMessageContaining(RealArvados.USER_TOKEN_VAR)
          .hasMessageNotContaining("secret");
    }
  }

  @Test
  void reportsAnUnreachableServer() {
    assertThatThrownBy(() -> RealArvados.fromEnvironment(env("http://127.0.0.1:1/")))
        .hasMessageContaining("cannot reach")
        .hasMessageNotContaining("secret");
  }

  @Test
  void readsTheRequireListCaseAndSpaceInsensitively() {
    assertThat(RealArvados.isRequired(Map.of(RealArvados.REQUIRE_VAR, "slurm, Arvados"), "arvados"))
        .isTrue();
    assertThat(RealArvados.isRequired(Map.of(RealArvados.REQUIRE_VAR, "slurm"), "arvados"))
        .isFalse();
    assertThat(RealArvados.isRequired(Map.of(RealArvados.REQUIRE_VAR, "arvadosx"), "arvados"))
        .isFalse();
    assertThat(RealArvados.isRequired(Map.of(), "arvados")).isFalse();
  }

  @Test
  @RequiresRealArvados
  void findsTheConfiguredRealServersUsers(RealArvados arv) {
    assertThat(arv.adminUuid()).startsWith(arv.clusterId() + "-tpzed-");
    assertThat(arv.admin2Uuid())
        .startsWith(arv.clusterId() + "-tpzed-")
        .isNotEqualTo(arv.adminUuid());
    assertThat(arv.userUuid())
        .startsWith(arv.clusterId() + "-tpzed-")
        .isNotIn(arv.adminUuid(), arv.admin2Uuid());
    assertThat(arv.toString()).doesNotContain(arv.adminToken(), arv.admin2Token(), arv.userToken());
  }
}
