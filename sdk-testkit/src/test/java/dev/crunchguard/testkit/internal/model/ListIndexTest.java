package dev.crunchguard.testkit.internal.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The list index: every query answered through it equals the general path's answer (rows, order,
 * count, paging, select) on random tables after random changes, and the Dispatcher's two poll
 * queries read only the rows they return.
 */
class ListIndexTest {
  private static final String[] POLL_FIELDS = {
    "uuid",
    "state",
    "priority",
    "auth_uuid",
    "locked_by_uuid",
    "lock_count",
    "command",
    "container_image",
    "runtime_constraints",
    "scheduling_parameters",
    "created_at",
    "modified_at"
  };

  /** A containers table with three admin tokens (three dispatchers) and one ordinary user. */
  private static final class Table {
    final TokenRegistry tokens = new TokenRegistry("zzzzz");
    final ContainerRequests requests = new ContainerRequests("zzzzz");
    final ContainersService svc;
    final List<Caller> admins = new ArrayList<>();
    final Caller user;
    final List<String> uuids = new ArrayList<>();

    Table(int maxDispatchAttempts) {
      ContainerRules rules =
          new ContainerRules(tokens, maxDispatchAttempts, requests::highestPriorityRequester);
      svc = new ContainersService("zzzzz", tokens, rules, new History(), requests);
      for (int i = 0; i < 3; i++) {
        admins.add(
            new Caller(
                tokens.addConfigured("admin-secret-" + i + "-0123456789", true, false), null));
      }
      user = new Caller(tokens.addConfigured("user-secret-0123456789", false, false), null);
    }

    String create(long priority) {
      Map<String, JsonElement> a = new LinkedHashMap<>();
      JsonArray cmd = new JsonArray();
      cmd.add("true");
      a.put("command", cmd);
      a.put("container_image", new JsonPrimitive("img"));
      a.put("output_path", new JsonPrimitive("/out"));
      a.put("priority", new JsonPrimitive(priority));
      a.put("runtime_user_uuid", new JsonPrimitive(Ids.systemUserUuid("zzzzz")));
      a.put("runtime_auth_scopes", Json.stringArray(List.of("all")));
      String u = svc.create(a, svc.systemCaller(), RequestContext.direct()).uuid();
      uuids.add(u);
      return u;
    }

    /** One random change; refused ones (422, 403, 404) are part of the point and ignored. */
    void mutate(Random rnd) {
      String u = uuids.get(rnd.nextInt(uuids.size()));
      Caller admin = admins.get(rnd.nextInt(admins.size()));
      RequestContext ctx = RequestContext.direct();
      try {
        switch (rnd.nextInt(11)) {
          case 0:
          case 1:
            svc.lock(u, admin, ctx);
            break;
          case 2:
            svc.unlock(u, admin, ctx);
            break;
          case 3:
            svc.update(u, Map.of("state", new JsonPrimitive("Running")), admin, ctx);
            break;
          case 4:
            svc.update(u, Map.of("state", new JsonPrimitive("Cancelled")), admin, ctx);
            break;
          case 5:
            svc.update(u, Map.of("priority", new JsonPrimitive(priority(rnd))), admin, ctx);
            break;
          case 6:
            svc.setPriorityDirect(u, priority(rnd));
            break;
          case 7:
            svc.update(u, Map.of("progress", new JsonPrimitive(rnd.nextDouble())), admin, ctx);
            break;
          case 8:
            if (rnd.nextInt(4) == 0) {
              svc.delete(u, admin, ctx);
            } else {
              create(priority(rnd));
            }
            break;
          case 9:
            Map<String, JsonElement> cr = new LinkedHashMap<>();
            cr.put("owner_uuid", new JsonPrimitive(user.token().ownerUuid));
            cr.put("container_uuid", new JsonPrimitive(u));
            cr.put("priority", new JsonPrimitive(1));
            svc.createRequest(cr, svc.systemCaller());
            svc.setPriorityDirect(u, priority(rnd));
            break;
          default:
            create(priority(rnd));
        }
      } catch (ApiException | IllegalArgumentException refused) {
        // a refused change changes nothing
      }
    }
  }

  /** Few distinct priorities, so that ties (and the tie-break) are common. */
  private static long priority(Random rnd) {
    long[] ps = {0, 1, 1, 2, 3, 3, 5, 8, 1000};
    return ps[rnd.nextInt(ps.length)];
  }

  private static JsonArray filter(String attr, String op, JsonElement operand) {
    JsonArray f = new JsonArray();
    f.add(attr);
    f.add(op);
    f.add(operand);
    return f;
  }

  private static JsonArray array(Object... xs) {
    JsonArray a = new JsonArray();
    for (Object x : xs) {
      if (x instanceof JsonElement) {
        a.add((JsonElement) x);
      } else if (x instanceof Number) {
        a.add((Number) x);
      } else {
        a.add(String.valueOf(x));
      }
    }
    return a;
  }

  private static Map<String, JsonElement> params(
      JsonArray filters,
      List<String> order,
      int limit,
      int offset,
      boolean exact,
      String[] select) {
    Map<String, JsonElement> p = new LinkedHashMap<>();
    p.put("filters", new JsonPrimitive(filters.toString()));
    if (order != null) {
      JsonArray o = new JsonArray();
      order.forEach(o::add);
      p.put("order", new JsonPrimitive(o.toString()));
    }
    p.put("limit", new JsonPrimitive(Integer.toString(limit)));
    p.put("offset", new JsonPrimitive(Integer.toString(offset)));
    p.put("count", new JsonPrimitive(exact ? "exact" : "none"));
    if (select != null) {
      p.put("select", array((Object[]) select));
    }
    return p;
  }

  /** The Dispatcher's queue page (Dispatcher.lockQueued). */
  private static Map<String, JsonElement> queuePage(int limit, int offset) {
    return params(
        array(
            filter("state", "=", new JsonPrimitive("Queued")),
            filter("priority", ">", new JsonPrimitive(0))),
        List.of("priority desc", "uuid asc"),
        limit,
        offset,
        offset == 0,
        POLL_FIELDS);
  }

  /** The Dispatcher's own containers (Dispatcher.poll). */
  private static Map<String, JsonElement> minePage(String tokenUuid, int limit, int offset) {
    return params(
        array(filter("locked_by_uuid", "=", new JsonPrimitive(tokenUuid))),
        List.of("uuid asc"),
        limit,
        offset,
        offset == 0,
        POLL_FIELDS);
  }

  /** A random query, mostly of the shapes the index answers, some it does not. */
  private static Map<String, JsonElement> randomQuery(Random rnd, Table t) {
    int limit = new int[] {0, 1, 3, 7, 20, 100, 1000}[rnd.nextInt(7)];
    int offset = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(t.uuids.size() + 5);
    boolean exact = rnd.nextBoolean();
    String[] select =
        new String[][] {null, POLL_FIELDS, {"uuid"}, {"priority", "kind", "uuid"}}[rnd.nextInt(4)];
    JsonArray filters = new JsonArray();
    List<String> order;
    switch (rnd.nextInt(4)) {
      case 0:
      case 1:
        {
          filters.add(filter("state", "=", new JsonPrimitive("Queued")));
          String[][] ranges = {
            {">", "0"},
            {">", "\"0\""},
            {">=", "2"},
            {"<", "5"},
            {"<=", "3"},
            {"=", "1"},
            {">", "2.5"}
          };
          int nRanges = rnd.nextInt(3);
          for (int i = 0; i < nRanges; i++) {
            String[] r = ranges[rnd.nextInt(ranges.length)];
            filters.add(filter("priority", r[0], com.google.gson.JsonParser.parseString(r[1])));
          }
          if (rnd.nextInt(5) == 0) {
            filters.add(filter("lock_count", ">=", new JsonPrimitive(1)));
          }
          List<List<String>> orders =
              List.of(
                  List.of("priority desc", "uuid asc"),
                  List.of("priority desc"),
                  List.of("priority asc", "uuid desc"),
                  List.of("priority asc"),
                  List.of("priority desc", "uuid desc"),
                  List.of("priority desc", "created_at asc"),
                  List.of("created_at desc"),
                  List.of());
          order = orders.get(rnd.nextInt(orders.size()));
          break;
        }
      case 2:
        {
          Caller who = t.admins.get(rnd.nextInt(t.admins.size()));
          filters.add(filter("locked_by_uuid", "=", new JsonPrimitive(who.tokenUuid())));
          if (rnd.nextBoolean()) {
            filters.add(filter("state", "in", array("Locked", "Running")));
          }
          order =
              List.<List<String>>of(List.of("uuid asc"), List.of("priority desc"), List.of())
                  .get(rnd.nextInt(3));
          break;
        }
      default:
        {
          if (rnd.nextBoolean()) {
            JsonArray in = new JsonArray();
            int n = rnd.nextInt(25);
            for (int i = 0; i < n; i++) {
              in.add(t.uuids.get(rnd.nextInt(t.uuids.size())));
            }
            in.add("zzzzz-dz642-nosuchcontainer");
            filters.add(filter("uuid", "in", in));
          } else {
            filters.add(filter("state", "=", new JsonPrimitive("Locked")));
          }
          order = rnd.nextBoolean() ? List.of("uuid asc") : null;
        }
    }
    return params(filters, order, limit, offset, exact, select);
  }

  /** Asserts that the answer through the index is the general path's, and returns it. */
  private static ListQuery.Answer assertSameAsScan(Table t, Map<String, JsonElement> p, Caller c) {
    ListQuery q = ListQuery.parse(p);
    ListQuery.Answer a = q.answer(t.svc, c);
    JsonObject scan = q.envelope(t.svc.readableBy(c));
    assertThat(a.envelope())
        .as("%s as %s: %s", p, c.admin() ? "admin" : "user", a.plan())
        .isEqualTo(scan);
    return a;
  }

  @Test
  void indexedAnswersEqualTheScanOnRandomTablesAfterRandomChanges() {
    int queries = 0;
    int[] plans = new int[ListQuery.Plan.values().length];
    for (long seed = 1; seed <= 12; seed++) {
      Random rnd = new Random(seed);
      Table t = new Table(1 + rnd.nextInt(4));
      int rows = 20 + rnd.nextInt(200);
      for (int i = 0; i < rows; i++) {
        t.create(priority(rnd));
      }
      for (int step = 0; step < 60; step++) {
        int changes = rnd.nextInt(15);
        for (int i = 0; i < changes; i++) {
          t.mutate(rnd);
        }
        for (int i = 0; i < 8; i++) {
          Caller c = rnd.nextInt(4) == 0 ? t.user : t.admins.get(rnd.nextInt(3));
          ListQuery.Answer a = assertSameAsScan(t, randomQuery(rnd, t), c);
          plans[a.plan().ordinal()]++;
          queries++;
        }
        Caller me = t.admins.get(rnd.nextInt(3));
        int off = rnd.nextInt(rows);
        assertThat(assertSameAsScan(t, queuePage(1 + rnd.nextInt(100), off), me).plan())
            .isEqualTo(ListQuery.Plan.QUEUED_PAGE);
        assertThat(
                assertSameAsScan(t, minePage(me.tokenUuid(), 1 + rnd.nextInt(100), 0), me).plan())
            .isEqualTo(ListQuery.Plan.LOCKED_BY);
        queries += 2;
      }
    }
    // Every path was exercised, not only the easy ones.
    for (ListQuery.Plan p : ListQuery.Plan.values()) {
      assertThat(plans[p.ordinal()]).as("queries answered by %s", p).isGreaterThan(20);
    }
    assertThat(queries).isGreaterThan(6000);
  }

  @Test
  void theDispatchersPollQueriesReadOnlyTheRowsTheyReturn() {
    Random rnd = new Random(7);
    Table t = new Table(100);
    int n = 20_000;
    for (int i = 0; i < n; i++) {
      t.create(1 + rnd.nextInt(1000));
    }
    Caller me = t.admins.get(0);
    Caller other = t.admins.get(1);
    for (int i = 0; i < 300; i++) {
      t.svc.lock(t.uuids.get(i), i % 3 == 0 ? me : other, RequestContext.direct());
    }
    long queued = n - 300;

    ListQuery.Answer first = assertSameAsScan(t, queuePage(100, 0), me);
    assertThat(first.plan()).isEqualTo(ListQuery.Plan.QUEUED_PAGE);
    assertThat(first.examined()).isEqualTo(100);
    assertThat(first.envelope().get("items_available").getAsLong()).isEqualTo(queued);

    ListQuery.Answer deep = assertSameAsScan(t, queuePage(100, 15_000), me);
    assertThat(deep.examined()).isEqualTo(100);
    assertThat(deep.envelope().getAsJsonArray("items")).hasSize(100);

    ListQuery.Answer mine = assertSameAsScan(t, minePage(me.tokenUuid(), 1000, 0), me);
    assertThat(mine.plan()).isEqualTo(ListQuery.Plan.LOCKED_BY);
    assertThat(mine.examined()).isEqualTo(100);
    assertThat(mine.envelope().get("items_available").getAsLong()).isEqualTo(100);

    // Without the uuid tie-break the page widens to its priority groups (about 20 rows each here).
    ListQuery.Answer groups =
        assertSameAsScan(
            t,
            params(
                array(filter("state", "=", new JsonPrimitive("Queued"))),
                List.of("priority desc"),
                100,
                0,
                true,
                null),
            me);
    assertThat(groups.plan()).isEqualTo(ListQuery.Plan.QUEUED_PAGE);
    assertThat(groups.examined()).isBetween(100L, 300L);

    // Any other query still reads the table.
    ListQuery.Answer locked =
        assertSameAsScan(
            t,
            params(
                array(filter("state", "=", new JsonPrimitive("Locked"))), null, 10, 0, true, null),
            me);
    assertThat(locked.plan()).isEqualTo(ListQuery.Plan.SCAN);
    assertThat(locked.examined()).isEqualTo(n);
  }

  @Test
  void theIndexStaysExactUnderConcurrentChangesAndLists() throws Exception {
    Table t = new Table(1_000_000);
    Random seedRnd = new Random(11);
    for (int i = 0; i < 400; i++) {
      t.create(priority(seedRnd));
    }
    List<String> fixed = List.copyOf(t.uuids);
    ExecutorService pool = Executors.newFixedThreadPool(6);
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> fs = new ArrayList<>();
    try {
      for (int w = 0; w < 4; w++) {
        Random rnd = new Random(100 + w);
        Caller admin = t.admins.get(w % 3);
        fs.add(
            pool.submit(
                () -> {
                  go.await();
                  while (!stop.get()) {
                    String u = fixed.get(rnd.nextInt(fixed.size()));
                    try {
                      switch (rnd.nextInt(4)) {
                        case 0:
                          t.svc.lock(u, admin, RequestContext.direct());
                          break;
                        case 1:
                          t.svc.unlock(u, admin, RequestContext.direct());
                          break;
                        case 2:
                          t.svc.setPriorityDirect(u, priority(rnd));
                          break;
                        default:
                          t.svc.update(
                              u,
                              Map.of("priority", new JsonPrimitive(priority(rnd))),
                              admin,
                              RequestContext.direct());
                      }
                    } catch (ApiException refused) {
                      // lost a race or not allowed: nothing changed
                    }
                  }
                  return null;
                }));
      }
      for (int r = 0; r < 2; r++) {
        Caller me = t.admins.get(r);
        fs.add(
            pool.submit(
                () -> {
                  go.await();
                  while (!stop.get()) {
                    JsonObject page =
                        ListQuery.parse(queuePage(100, 0)).answer(t.svc, me).envelope();
                    assertThat(page.getAsJsonArray("items").size()).isLessThanOrEqualTo(100);
                    ListQuery.parse(minePage(me.tokenUuid(), 1000, 0)).answer(t.svc, me);
                  }
                  return null;
                }));
      }
      go.countDown();
      Thread.sleep(1500);
      stop.set(true);
      for (Future<?> f : fs) {
        f.get(30, TimeUnit.SECONDS); // rethrows an index-out-of-step or assertion failure
      }
    } finally {
      pool.shutdownNow();
    }
    // At rest, the index agrees with the table for every offset and holder.
    for (int off = 0; off < 420; off += 37) {
      assertSameAsScan(t, queuePage(50, off), t.admins.get(0));
    }
    for (Caller c : t.admins) {
      assertSameAsScan(t, minePage(c.tokenUuid(), 1000, 0), c);
    }
  }
}
