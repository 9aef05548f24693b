package dev.crunchguard.benchmarks;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerUpdate;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * The two calls benchmark 1 compares, against a server in another process: a guarded {@link
 * ContainerLock#update} of a Running container, and a raw OkHttp {@code PUT} of the same JSON bytes
 * with the same headers, on an {@link OkHttpClient} with the SDK's settings sharing the SDK's
 * connection pool. The server is the simulator ({@code simulator}) or a fixed responder that
 * answers the simulator's own response to that update ({@code fixed}).
 */
final class OverheadFixture implements AutoCloseable {
  static final String TOKEN = "benchoverheadtoken0123456789";
  static final String USER_AGENT = "crunchguard-bench";
  static final String CLIENT_ID = "bench-overhead";
  static final String REQUEST_ID = "req-0123456789abcdefghij";
  private static final MediaType JSON = MediaType.get("application/json; charset=UTF-8");
  private static final Gson GSON =
      new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

  final String server;
  private final Child sim;
  private final boolean ownsSim;
  private final @Nullable Child fixed;
  private final OkHttpClient base;
  private final ArvadosClient simClient;
  private final @Nullable ArvadosClient fixedClient;
  private final ContainerLock lock;
  private final ContainerUpdate update = ContainerUpdate.builder().progress(0.5).build();
  private final OkHttpClient raw;
  private final String putUrl;
  final byte[] body;
  final int responseBytes;

  private OverheadFixture(String server, @Nullable Child shared, int index) throws IOException {
    this.server = server;
    this.ownsSim = shared == null;
    this.sim = shared != null ? shared : startSim(1);
    try {
      BenchServer.Ready simReport = sim.report(BenchServer.Ready.class);
      String simUrl = simReport.url();
      String uuid = simReport.containers().get(index);
      base = new OkHttpClient();
      simClient = client(simUrl);
      ContainerLock held = simClient.containers().lock(uuid);
      held.markRunning();
      JsonObject fields = new JsonObject();
      fields.addProperty("progress", 0.5);
      fields.addProperty("auth_uuid", held.authUuid());
      JsonObject envelope = new JsonObject();
      envelope.add("container", fields);
      body = GSON.toJson(envelope).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      // The SDK's own settings (ArvadosClient's defaults), on the same pool and dispatcher.
      raw =
          base.newBuilder()
              .connectTimeout(Duration.ofSeconds(10))
              .readTimeout(Duration.ofSeconds(60))
              .writeTimeout(Duration.ofSeconds(60))
              .retryOnConnectionFailure(false)
              .build();
      String simPut = simUrl + "arvados/v1/containers/" + uuid;
      if (server.equals("fixed")) {
        byte[] answer = rawPut(simPut, true);
        fixed =
            Child.start(
                List.of(),
                List.of(
                    "bench-serve", "--kind", "fixed", "--body-file", BenchServer.bodyFile(answer)));
        String fixedUrl = fixed.report(BenchServer.Ready.class).url();
        fixedClient = client(fixedUrl);
        lock = fixedClient.containers().resume(held.epoch());
        putUrl = fixedUrl + "arvados/v1/containers/" + uuid;
        responseBytes = answer.length;
      } else if (server.equals("simulator")) {
        fixed = null;
        fixedClient = null;
        lock = held;
        putUrl = simPut;
        responseBytes = rawPut(simPut, true).length;
      } else {
        throw new IllegalArgumentException("server must be simulator or fixed, got " + server);
      }
    } catch (IOException | RuntimeException e) {
      if (ownsSim) {
        sim.close();
      }
      throw e;
    }
  }

  static OverheadFixture start(String server) throws IOException {
    return new OverheadFixture(server, null, 0);
  }

  /** A fixture on a simulator process the caller owns, using its {@code index}-th container. */
  static OverheadFixture start(String server, Child sharedSim, int index) throws IOException {
    return new OverheadFixture(server, sharedSim, index);
  }

  static Child startSim(int containers) throws IOException {
    return Child.start(
        List.of(),
        List.of(
            "bench-serve",
            "--kind",
            "sim",
            "--containers",
            Integer.toString(containers),
            "--tokens",
            TOKEN));
  }

  private ArvadosClient client(String url) {
    return ArvadosClient.builder()
        .baseUrl(url)
        .token(TOKEN)
        .okHttpClient(base)
        .userAgent(USER_AGENT)
        .clientId(CLIENT_ID)
        .build();
  }

  /** One guarded update: what the SDK user calls. */
  Container guarded() {
    return lock.update(update);
  }

  /** One raw PUT of the same bytes; returns the response length. */
  int raw() throws IOException {
    return rawPut(putUrl, false).length;
  }

  private byte[] rawPut(String url, boolean keep) throws IOException {
    Request r =
        new Request.Builder()
            .url(url)
            .put(RequestBody.create(body, JSON))
            .header("Authorization", "Bearer " + TOKEN)
            .header("User-Agent", USER_AGENT)
            .header("X-Crunch-Guard-Client", CLIENT_ID)
            .header("Accept", "application/json")
            .header("X-Request-Id", REQUEST_ID)
            .build();
    try (Response response = raw.newCall(r).execute()) {
      ResponseBody rb = response.body();
      byte[] bytes = rb == null ? new byte[0] : rb.bytes();
      if (response.code() != 200) {
        throw new IOException(
            "raw PUT answered "
                + response.code()
                + ": "
                + new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
      }
      return bytes;
    }
  }

  @Override
  public void close() {
    if (fixedClient != null) {
      fixedClient.close();
    }
    simClient.close();
    base.dispatcher().executorService().shutdown();
    base.connectionPool().evictAll();
    if (fixed != null) {
      fixed.close();
    }
    if (ownsSim) {
      sim.close();
    }
  }
}
