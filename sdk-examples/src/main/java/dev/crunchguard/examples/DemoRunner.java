package dev.crunchguard.examples;

import com.google.gson.JsonObject;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.dispatch.ContainerRunner;
import dev.crunchguard.dispatch.RunContext;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;

/**
 * The race demo's runner: in-process stand-in for a crunch-run, with its own client identity per
 * run, as a separate runner process would have. It stages for a moment, marks the container
 * Running, "works", and completes it. It does not look at the stop signal before writing: like a
 * stale process that missed the news, it simply writes, and only the guard (or nothing, in plain
 * mode) stops it.
 *
 * <p>Chaos: with probability {@code relockRate}, while this runner stages, a confused peer that
 * shares the dispatcher's token unlocks the container under it with the plain {@code POST
 * .../unlock} (identity {@code chaos}), so that some dispatcher locks it again while this runner is
 * still alive. With probability {@code cancelRate}, the container is cancelled while Running.
 */
final class DemoRunner implements ContainerRunner {
  private final ArvadosClient client;
  private final OkHttpClient sharedHttp;
  private final String baseUrl;
  private final String token;
  private final String dispatcherId;
  private final boolean guarded;
  private final double relockRate;
  private final double cancelRate;
  private final PlainWriter chaos;
  private final AtomicLong runs = new AtomicLong();
  private final AtomicLong fencedOff = new AtomicLong();
  private final AtomicLong falseLosses = new AtomicLong();

  DemoRunner(
      ArvadosClient client,
      OkHttpClient sharedHttp,
      String baseUrl,
      String token,
      String dispatcherId,
      boolean guarded,
      double relockRate,
      double cancelRate) {
    this.client = client;
    this.relockRate = relockRate;
    this.cancelRate = cancelRate;
    this.chaos = new PlainWriter(sharedHttp, baseUrl, token, "chaos");
    this.sharedHttp = sharedHttp;
    this.baseUrl = baseUrl;
    this.token = token;
    this.dispatcherId = dispatcherId;
    this.guarded = guarded;
  }

  @Override
  public void run(RunContext ctx) throws InterruptedException {
    String identity = dispatcherId + "/run-" + runs.incrementAndGet();
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    Thread.sleep(rnd.nextLong(10, 30)); // staging: fetching the image, mounting inputs...
    if (rnd.nextDouble() < relockRate) {
      chaos.unlock(ctx.containerUuid());
    }
    Thread.sleep(rnd.nextLong(10, 30));
    boolean cancelLater = rnd.nextDouble() < cancelRate;
    if (guarded) {
      try (ArvadosClient runnerClient = client.newBuilder().clientId(identity).build()) {
        ContainerLock lock = runnerClient.containers().resume(ctx.lock().epoch());
        ctx.reportStarted(); // this run writes through its own client: tell the dispatcher it
        // started
        lock.markRunning();
        if (cancelLater) {
          chaos.update(ctx.containerUuid(), cancelled(), null);
        }
        Thread.sleep(rnd.nextLong(20, 80));
        lock.complete(0, null);
      } catch (LostOwnershipException e) {
        // the guard at work: this run's epoch ended; stop without another write
        fencedOff.incrementAndGet();
        checkLossWasReal(e);
      }
    } else {
      PlainWriter plain = new PlainWriter(sharedHttp, baseUrl, token, identity);
      ctx.reportStarted();
      String epoch = ctx.lock().authUuid();
      JsonObject running = new JsonObject();
      running.addProperty("state", "Running");
      plain.update(ctx.containerUuid(), running, epoch);
      if (cancelLater) {
        chaos.update(ctx.containerUuid(), cancelled(), null);
      }
      Thread.sleep(rnd.nextLong(20, 80));
      JsonObject complete = new JsonObject();
      complete.addProperty("state", "Complete");
      complete.addProperty("exit_code", 0);
      plain.update(ctx.containerUuid(), complete, epoch);
    }
  }

  private static JsonObject cancelled() {
    JsonObject c = new JsonObject();
    c.addProperty("state", "Cancelled");
    return c;
  }

  /**
   * A loss reported while the epoch is still current would kill good work. Epochs never come back,
   * so if the container still shows the held auth_uuid in Locked/Running after the exception, the
   * report was false.
   */
  private void checkLossWasReal(LostOwnershipException e) {
    if (e.heldEpoch().authUuid() == null) {
      return;
    }
    JsonObject now = chaos.read(e.containerUuid());
    if (now == null) {
      return;
    }
    String state = now.get("state").getAsString();
    boolean current =
        (state.equals("Locked") || state.equals("Running"))
            && now.get("auth_uuid") != null
            && !now.get("auth_uuid").isJsonNull()
            && now.get("auth_uuid").getAsString().equals(e.heldEpoch().authUuid());
    if (current) {
      falseLosses.incrementAndGet();
      System.err.println("FALSE LOSS: " + e.getMessage());
    }
  }

  /**
   * @return runs whose writes the guard refused
   */
  long fencedOff() {
    return fencedOff.get();
  }

  /**
   * @return losses reported while the epoch was still current (must be 0)
   */
  long falseLosses() {
    return falseLosses.get();
  }
}
