package dev.crunchguard.testkit;

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
 * until killed.
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
          case "--https":
            o.https = true;
            o.builder.https(true);
            break;
          case "--control":
            o.builder.enableControlEndpoints(true);
            break;
          case "--port":
            o.builder.port(Integer.parseInt(value != null ? value : next(args, ++i, a)));
            break;
          case "--bind":
            o.builder.bindAddress(value != null ? value : next(args, ++i, a));
            break;
          case "--admin-token":
            o.builder.adminToken(value != null ? value : next(args, ++i, a));
            break;
          case "--user-token":
            o.builder.userToken(value != null ? value : next(args, ++i, a));
            break;
          case "--system-root-token":
            o.builder.systemRootToken(value != null ? value : next(args, ++i, a));
            break;
          case "--cluster-id":
            o.builder.clusterId(value != null ? value : next(args, ++i, a));
            break;
          case "--max-dispatch-attempts":
            o.builder.maxDispatchAttempts(Integer.parseInt(value != null ? value : next(args, ++i, a)));
            break;
          case "--cert-out":
            o.certOut = value != null ? value : next(args, ++i, a);
            break;
          case "--threads":
            o.builder.threads(Integer.parseInt(value != null ? value : next(args, ++i, a)));
            break;
          case "--disable-api":
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
            o.builder.updateRaceWindow(Duration.ofMillis(Long.parseLong(value != null ? value : next(args, ++i, a))));
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
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      sim.close();
      stopped.countDown();
    }, "arvados-simulator-shutdown"));
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
}
