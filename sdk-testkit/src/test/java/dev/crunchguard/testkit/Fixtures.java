package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tokens (system root, a second dispatcher, two users, a runtime token) and container fixtures,
 * built through the public API and real HTTP.
 */
final class Fixtures {
  static final String SYSTEM_ROOT = "sys-root-secret-0123456789";
  static final String SECOND_DISPATCHER = "dispatch2-secret-0123456789";
  static final String ACTIVE_USER = "active-user-secret-0123456789";
  static final String OTHER_USER = "other-user-secret-0123456789";
  static final String RUNTIME_TOKEN =
      "v2/zzzzz-gj3su-runtimetoken001/runtime-token-secret-0123456789";

  final ArvadosSimulator sim;
  final Http http;

  Fixtures(ArvadosSimulator sim) {
    this.sim = sim;
    this.http = new Http(sim);
  }

  static ArvadosSimulator.Builder builder() {
    return ArvadosSimulator.builder()
        .systemRootToken(SYSTEM_ROOT)
        .adminToken(SECOND_DISPATCHER)
        .userToken(ACTIVE_USER)
        .userToken(OTHER_USER);
  }

  String queued() {
    return queued(1);
  }

  String queued(long priority) {
    return shared(sim.createContainer(ContainerSpec.builder().priority(priority).build()));
  }

  /**
   * Gives the ordinary user ACTIVE_USER a container request for {@code uuid} (so ACTIVE_USER can
   * read it; OTHER_USER cannot), keeping the container's priority.
   */
  String shared(String uuid) {
    long p = sim.container(uuid).priority();
    sim.createContainerRequest(uuid, sim.userUuid(ACTIVE_USER));
    sim.setPriority(uuid, p);
    return uuid;
  }

  /** Locked by {@code token}, priority as given. */
  String lockedBy(String token, long priority) {
    String u = queued(1);
    assertThat(http.lock(u, token).status()).isEqualTo(200);
    if (priority != 1) {
      sim.setPriority(u, priority);
    }
    return u;
  }

  /** Running, locked by SYSTEM_ROOT, priority 12, with secret mounts. */
  String running() {
    String u =
        shared(
            sim.createContainer(
                ContainerSpec.builder()
                    .priority(12)
                    .secretMountsJson("{\"/secret/6x9\":{\"kind\":\"text\",\"content\":\"42\\n\"}}")
                    .build()));
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    return u;
  }

  /** The container's own token, v2 form, from the auth endpoint (as crunch-run gets it). */
  String containerToken(String uuid, String lockHolder) {
    Http.Res r = http.get(Http.c(uuid) + "/auth").token(lockHolder).send();
    assertThat(r.status()).isEqualTo(200);
    return "v2/" + r.str("uuid") + "/" + r.str("api_token");
  }

  /** A container with a runtime token, Locked by SECOND_DISPATCHER. */
  String runtimeTokenContainer() {
    String u =
        shared(
            sim.createContainer(
                ContainerSpec.builder().priority(1).runtimeToken(RUNTIME_TOKEN).build()));
    assertThat(http.lock(u, SECOND_DISPATCHER).status()).isEqualTo(200);
    return u;
  }

  String state(String uuid) {
    return sim.container(uuid).state();
  }
}
