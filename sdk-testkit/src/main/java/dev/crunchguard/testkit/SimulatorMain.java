package dev.crunchguard.testkit;

import dev.crunchguard.testkit.internal.http.ControlEndpoints;
import dev.crunchguard.testkit.internal.model.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Standalone simulator: {@code java -jar arvados-simulator.jar --port 0 --admin-token SECRET}.
 * Prints exactly one line, {@code listening on http://127.0.0.1:PORT}, once ready, then serves
 * until killed. With {@code --proxy UPSTREAM_URL} it runs a {@link FaultProxy} in front of another
 * Arvados server instead.
 */
public final class SimulatorMain {
  static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar arvados-simulator.jar [options]",
          "  --port N                   port to listen on (default 0: any free port)",
          "  --bind ADDR                address to bind (default 127.0.0.1)",
          "  --admin-token SECRET       admin (dispatcher) token; repeatable",
          "  --user-token SECRET        non-admin user token; repeatable",
          "  --system-root-token SECRET admin token with uuid <cluster>-gj3su-000000000000000",
          "  --cluster-id ID            five-character cluster id (default zzzzz)",
          "  --max-dispatch-attempts N  Containers.MaxDispatchAttempts (default 10)",
          "  --https                    serve https with a fresh self-signed certificate",
          "  --cert-out FILE            with --https: write the certificate (PEM) to FILE",
          "  --control                  serve the /_simulator/... control endpoints",
          "  --threads N                handler threads (default 16)",
          "  --disable-api ACTION       answer 404 Disabled for an action, e.g. containers.lock; repeatable",
          "  --race-window-ms N         reproduce the real server's update window (spec 4.10), pausing N ms",
          "  --help                     print this help",
          "Fault proxy mode (no simulator; --port, --bind, --threads and --control apply to the proxy):",
          "  --proxy UPSTREAM_URL       forward to this Arvados base URL, injecting faults on the way",
          "  --insecure-upstream        with --proxy: accept the upstream's self-signed certificate",
          "  --fault JSON               with --proxy: install a fault, as POST /_proxy/faults; repeatable",
          "                             e.g. '{\"kind\":\"LOST_RESPONSE\",\"endpoint\":\"lock\",\"times\":1}'",
          "                             or '{\"random\":{\"seed\":7,\"rates\":{\"BAD_GATEWAY\":0.1}}}'",
          "Prints 'listening on <url>' on stdout when ready, then serves until killed.");

  private SimulatorMain() {}

  /** Thrown for a bad command line. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** Parsed options. */
  static final class Options {
    final ArvadosSimulator.Builder builder = ArvadosSimulator.builder();
    boolean help;
    String certOut;
    boolean https;
    // Fault proxy mode.
    String proxyUpstream;
    boolean insecureUpstream;
    final java.util.List<com.google.gson.JsonObject> faults = new java.util.ArrayList<>();
    int port;
    String bind;
    Integer threads;
    boolean control;

    /** Simulator-only options seen, refused in proxy mode. */
    final java.util.List<String> simulatorOnly = new java.util.ArrayList<>();

    /** The proxy these options describe ({@code --proxy} mode). */
    FaultProxy proxy() {
      FaultProxy.Builder b =
          FaultProxy.builder(proxyUpstream)
              .port(port)
              .insecureUpstream(insecureUpstream)
              .enableControlEndpoints(control);
      if (bind != null) {
        b.bindAddress(bind);
      }
      if (threads != null) {
        b.threads(threads);
      }
      FaultProxy p = b.build();
      for (com.google.gson.JsonObject f : faults) {
        ControlEndpoints.addFault(p.faults(), f);
      }
      return p;
    }
  }

  static Options parse(String[] args) throws UsageException {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        value = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      try {
        switch (a) {
          case "--help":
          case "-h":
            o.help = true;
            break;
          case "--proxy":
            o.proxyUpstream = value != null ? value : next(args, ++i, a);
            break;
          case "--insecure-upstream":
            o.insecureUpstream = true;
            break;
          case "--fault":
            {
              String json = value != null ? value : next(args, ++i, a);
              try {
                com.google.gson.JsonElement e = Json.parseStrict(json);
                if (!e.isJsonObject()) {
                  throw new UsageException("option --fault needs a JSON object");
                }
                // Validate now: a bad rule is a usage error, not a failure after start-up.
                ControlEndpoints.addFault(new FaultInjector(), e.getAsJsonObject());
                o.faults.add(e.getAsJsonObject());
              } catch (com.google.gson.JsonParseException
                  | IllegalStateException
                  | NullPointerException
                  | ClassCastException
                  | UnsupportedOperationException e) {
                throw new UsageException("option --fault: not a fault rule: " + e.getMessage());
              }
              break;
            }
          case "--https":
            o.simulatorOnly.add(a);
            o.https = true;
            o.builder.https(true);
            break;
          case "--control":
            o.control = true;
            o.builder.enableControlEndpoints(true);
            break;
          case "--port":
            o.port = Integer.parseInt(value != null ? value : next(args, ++i, a));
            o.builder.port(o.port);
            break;
          case "--bind":
            o.bind = value != null ? value : next(args, ++i, a);
            o.builder.bindAddress(o.bind);
            break;
          case "--admin-token":
            o.simulatorOnly.add(a);
            o.builder.adminToken(value != null ? value : next(args, ++i, a));
            break;
          case "--user-token":
            o.simulatorOnly.add(a);
            o.builder.userToken(value != null ? value : next(args, ++i, a));
            break;
          case "--system-root-token":
            o.simulatorOnly.add(a);
            o.builder.systemRootToken(value != null ? value : next(args, ++i, a));
            break;
          case "--cluster-id":
            o.simulatorOnly.add(a);
            o.builder.clusterId(value != null ? value : next(args, ++i, a));
            break;
          case "--max-dispatch-attempts":
            o.simulatorOnly.add(a);
            o.builder.maxDispatchAttempts(
                Integer.parseInt(value != null ? value : next(args, ++i, a)));
            break;
          case "--cert-out":
            o.simulatorOnly.add(a);
            o.certOut = value != null ? value : next(args, ++i, a);
            break;
          case "--threads":
            o.threads = Integer.parseInt(value != null ? value : next(args, ++i, a));
            o.builder.threads(o.threads);
            break;
          case "--disable-api":
            o.simulatorOnly.add(a);
            {
              String name = value != null ? value : next(args, ++i, a);
              Endpoint e = Endpoint.parse(name);
              if (e == null) {
                throw new UsageException("unknown action " + name);
              }
              o.builder.disableApi(e);
              break;
            }
          case "--race-window-ms":
            o.simulatorOnly.add(a);
            o.builder.updateRaceWindow(
                Duration.ofMillis(Long.parseLong(value != null ? value : next(args, ++i, a))));
            break;
          default:
            throw new UsageException("unknown option " + a);
        }
      } catch (NumberFormatException e) {
        throw new UsageException("option " + a + " needs a number");
      } catch (IllegalArgumentException e) {
        // Builder validation messages never contain the token value.
        throw new UsageException("option " + a + ": " + e.getMessage());
      }
    }
    if (o.certOut != null && !o.https) {
      throw new UsageException("--cert-out needs --https");
    }
    if (o.proxyUpstream != null) {
      if (!o.simulatorOnly.isEmpty()) {
        throw new UsageException(String.join(", ", o.simulatorOnly) + ": not a --proxy option");
      }
      try {
        o.proxy(); // validates the upstream URL and the settings; never started here
      } catch (IllegalArgumentException e) {
        throw new UsageException("option --proxy: " + e.getMessage());
      }
    } else if (o.insecureUpstream || !o.faults.isEmpty()) {
      throw new UsageException("--insecure-upstream and --fault need --proxy");
    }
    return o;
  }

  private static String next(String[] args, int i, String opt) throws UsageException {
    if (i >= args.length) {
      throw new UsageException("option " + opt + " needs a value");
    }
    return args[i];
  }

  /**
   * Runs the simulator.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    // The shaded jar carries no SLF4J provider; keep its "no providers" notice off stderr.
    if (System.getProperty("slf4j.internal.verbosity") == null) {
      System.setProperty("slf4j.internal.verbosity", "ERROR");
    }
    int rc = run(args, System.out, System.err);
    if (rc != 0) {
      System.exit(rc);
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Options o;
    try {
      o = parse(args);
    } catch (UsageException e) {
      err.println("error: " + e.getMessage());
      err.println(USAGE);
      return 2;
    }
    if (o.help) {
      out.println(USAGE);
      return 0;
    }
    if (o.proxyUpstream != null) {
      return runProxy(o, out, err);
    }
    ArvadosSimulator sim;
    try {
      sim = o.builder.build().start();
    } catch (RuntimeException e) {
      err.println("error: " + e.getMessage());
      return 1;
    }
    if (o.certOut != null) {
      try {
        Files.writeString(Path.of(o.certOut), sim.certificatePem(), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        err.println("error: cannot write certificate: " + e.getMessage());
        sim.close();
        return 1;
      }
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  sim.close();
                  stopped.countDown();
                },
                "arvados-simulator-shutdown"));
    String url = sim.baseUrl();
    out.println("listening on " + url.substring(0, url.length() - 1));
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static int runProxy(Options o, PrintStream out, PrintStream err) {
    FaultProxy proxy;
    try {
      proxy = o.proxy().start();
    } catch (RuntimeException e) {
      err.println("error: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  proxy.close();
                  stopped.countDown();
                },
                "fault-proxy-shutdown"));
    String url = proxy.baseUrl();
    out.println("listening on " + url.substring(0, url.length() - 1));
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
