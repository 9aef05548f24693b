package dev.crunchguard.testkit;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import dev.crunchguard.testkit.internal.http.ControlEndpoints;
import dev.crunchguard.testkit.internal.model.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Standalone simulator: {@code java -jar arvados-simulator.jar --port 0 --admin-token SECRET}.
 * Prints exactly one line, {@code listening on http://127.0.0.1:PORT}, once ready, then serves
 * until killed. With {@code --events} it also serves the event stream, which clients find as the
 * discovery document's {@code websocketUrl}; the line stays the same. It sets {@code
 * sun.net.httpserver.nodelay=true} unless given on the command line. With {@code --proxy
 * UPSTREAM_URL} it runs a {@link FaultProxy} in front of another Arvados server instead. The
 * command line is picocli's (an optional dependency of the testkit, shaded into the standalone
 * jar): {@code --help} and {@code --version} on stdout with exit status 0, a usage error on stderr
 * with exit status 2, a failure to start on stderr with exit status 1.
 */
public final class SimulatorMain {
  /** Exit status of a usage error. */
  static final int USAGE = 2;

  /** Exit status of a simulator or proxy that could not start. */
  static final int FAILED = 1;

  private SimulatorMain() {}

  /** Thrown for a bad command line. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** {@code --version}: the testkit's version from the build, and the Java runtime. */
  static final class Version implements CommandLine.IVersionProvider {
    static final String VERSION = read();

    private static String read() {
      try (java.io.InputStream in =
          SimulatorMain.class.getResourceAsStream("arvados-simulator-version.properties")) {
        if (in != null) {
          java.util.Properties p = new java.util.Properties();
          p.load(in);
          String v = p.getProperty("version");
          if (v != null && !v.isBlank() && !v.startsWith("${")) {
            return v.trim();
          }
        }
      } catch (IOException e) {
        // fall through
      }
      return "unknown";
    }

    @Override
    public String[] getVersion() {
      return new String[] {
        "arvados-simulator (Crunch Guard testkit) " + VERSION,
        "Java " + System.getProperty("java.version")
      };
    }
  }

  /** The command line, as picocli reads it; {@link #parse} checks it and fills the builder. */
  @Command(
      name = "arvados-simulator.jar",
      mixinStandardHelpOptions = true,
      versionProvider = Version.class,
      usageHelpAutoWidth = true,
      description = {
        "A simulator of the Arvados containers API, or (--proxy) a fault proxy in front of another"
            + " Arvados server. Prints 'listening on <url>' on stdout when ready, then serves until"
            + " killed."
      },
      exitCodeListHeading = "%nExit status:%n",
      exitCodeList = {
        "0:--help, --version",
        "1:could not start (e.g. the port is taken)",
        "2:usage error",
        "143:stopped by SIGTERM (as any JVM)"
      })
  static final class Options {
    final ArvadosSimulator.Builder builder = ArvadosSimulator.builder();
    @Nullable CommandLine commandLine;

    /** Simulator-only options seen, refused in proxy mode. */
    final List<String> simulatorOnly = new ArrayList<>();

    final List<JsonObject> faults = new ArrayList<>();

    @Option(
        names = "--port",
        defaultValue = "0",
        paramLabel = "N",
        description = "port to listen on (default 0: any free port)")
    int port;

    @Option(
        names = "--bind",
        paramLabel = "ADDR",
        description = "address to bind (default 127.0.0.1)")
    @Nullable String bind;

    @Option(
        names = "--admin-token",
        paramLabel = "SECRET",
        description = "admin (dispatcher) token; repeatable")
    List<String> adminTokens = new ArrayList<>();

    @Option(
        names = "--user-token",
        paramLabel = "SECRET",
        description = "non-admin user token; repeatable")
    List<String> userTokens = new ArrayList<>();

    @Option(
        names = "--system-root-token",
        paramLabel = "SECRET",
        description = "admin token with uuid <cluster>-gj3su-000000000000000")
    @Nullable String systemRootToken;

    @Option(
        names = "--cluster-id",
        paramLabel = "ID",
        description = "five-character cluster id (default zzzzz)")
    @Nullable String clusterId;

    @Option(
        names = "--max-dispatch-attempts",
        paramLabel = "N",
        description = "Containers.MaxDispatchAttempts (default 10)")
    @Nullable Integer maxDispatchAttempts;

    @Option(names = "--https", description = "serve https with a fresh self-signed certificate")
    boolean https;

    @Option(
        names = "--cert-out",
        paramLabel = "FILE",
        description = "with --https: write the certificate (PEM) to FILE")
    @Nullable String certOut;

    @Option(names = "--control", description = "serve the /_simulator/... control endpoints")
    boolean control;

    @Option(names = "--threads", paramLabel = "N", description = "handler threads (default 16)")
    @Nullable Integer threads;

    @Option(
        names = "--disable-api",
        paramLabel = "ACTION",
        description = "answer 404 Disabled for an action, e.g. containers.lock; repeatable")
    List<String> disabledApis = new ArrayList<>();

    @Option(
        names = "--race-window-ms",
        paramLabel = "N",
        description = "reproduce the real server's update window, pausing N ms")
    @Nullable Long raceWindowMs;

    @Option(
        names = "--events",
        description =
            "serve the event stream (arvados-ws protocol v0) on its own port, announced as the"
                + " discovery document's websocketUrl")
    boolean events;

    @Option(
        names = "--events-port",
        paramLabel = "N",
        description = "with --events: the stream's port (default 0: any free port)")
    @Nullable Integer eventsPort;

    @Option(
        names = "--events-keepalive",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description =
            "with --events: keepalive period and write limit, API.SendTimeout (default 60s;"
                + " a DURATION is 250ms, 5s, 1.5s, 2m or plain milliseconds)")
    @Nullable Duration eventsKeepalive;

    @Option(
        names = "--events-queue",
        paramLabel = "N",
        description =
            "with --events: events queued per client before it is closed,"
                + " API.WebsocketClientEventQueue (default 64)")
    @Nullable Integer eventsQueue;

    @Option(
        names = "--events-replay-window",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description = "with --events: how far back last_log_id replays (default 10m)")
    @Nullable Duration eventsReplayWindow;

    @Option(
        names = "--proxy",
        paramLabel = "UPSTREAM_URL",
        description =
            "fault proxy mode: forward to this Arvados base URL, injecting faults on the way"
                + " (--port, --bind, --threads and --control apply to the proxy)")
    @Nullable String proxyUpstream;

    @Option(
        names = "--insecure-upstream",
        description = "with --proxy: accept the upstream's self-signed certificate")
    boolean insecureUpstream;

    @Option(
        names = "--fault",
        paramLabel = "JSON",
        description = {
          "with --proxy: install a fault, as POST /_proxy/faults; repeatable, e.g."
              + " '{\"kind\":\"LOST_RESPONSE\",\"endpoint\":\"lock\",\"times\":1}' or"
              + " '{\"random\":{\"seed\":7,\"rates\":{\"BAD_GATEWAY\":0.1}}}'"
        })
    List<String> faultJson = new ArrayList<>();

    boolean helpRequested() {
      return commandLine != null && commandLine.isUsageHelpRequested();
    }

    boolean versionRequested() {
      return commandLine != null && commandLine.isVersionHelpRequested();
    }

    /** The proxy these options describe ({@code --proxy} mode). */
    FaultProxy proxy() {
      FaultProxy.Builder b =
          FaultProxy.builder(java.util.Objects.requireNonNull(proxyUpstream))
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
      for (JsonObject f : faults) {
        ControlEndpoints.addFault(p.faults(), f);
      }
      return p;
    }
  }

  /**
   * A positive duration on the command line: {@code 250ms}, {@code 5s}, {@code 1.5s}, {@code 2m},
   * or plain milliseconds, as the project's other command lines write them.
   */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
      Duration d;
      try {
        if (text.endsWith("ms")) {
          d = Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
        } else if (text.endsWith("s")) {
          d =
              Duration.ofMillis(
                  Math.round(Double.parseDouble(text.substring(0, text.length() - 1)) * 1000));
        } else if (text.endsWith("m")) {
          d = Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
        } else {
          d = Duration.ofMillis(Long.parseLong(text));
        }
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException(
            "'" + text + "' is not a duration like 500ms, 5s, 1.5s or 2m");
      }
      if (d.isNegative() || d.isZero()) {
        throw new CommandLine.TypeConversionException("must be positive, got " + text);
      }
      return d;
    }
  }

  static Options parse(String[] args) throws UsageException {
    Options o = new Options();
    CommandLine cl = new CommandLine(o);
    try {
      cl.parseArgs(args);
    } catch (CommandLine.UnmatchedArgumentException e) {
      throw new UsageException(unmatched(e.getUnmatched()));
    } catch (CommandLine.ParameterException e) {
      throw new UsageException(String.valueOf(e.getMessage()));
    }
    o.commandLine = cl;
    if (o.helpRequested() || o.versionRequested()) {
      return o;
    }
    String option = null;
    try {
      option = "--port";
      o.builder.port(o.port);
      if (o.bind != null) {
        option = "--bind";
        o.builder.bindAddress(o.bind);
      }
      if (o.threads != null) {
        option = "--threads";
        o.builder.threads(o.threads);
      }
      option = "--control";
      o.builder.enableControlEndpoints(o.control);
      for (String t : o.adminTokens) {
        option = simulatorOnly(o, "--admin-token");
        o.builder.adminToken(t);
      }
      for (String t : o.userTokens) {
        option = simulatorOnly(o, "--user-token");
        o.builder.userToken(t);
      }
      if (o.systemRootToken != null) {
        option = simulatorOnly(o, "--system-root-token");
        o.builder.systemRootToken(o.systemRootToken);
      }
      if (o.clusterId != null) {
        option = simulatorOnly(o, "--cluster-id");
        o.builder.clusterId(o.clusterId);
      }
      if (o.maxDispatchAttempts != null) {
        option = simulatorOnly(o, "--max-dispatch-attempts");
        o.builder.maxDispatchAttempts(o.maxDispatchAttempts);
      }
      if (o.https) {
        option = simulatorOnly(o, "--https");
        o.builder.https(true);
      }
      if (o.certOut != null) {
        simulatorOnly(o, "--cert-out");
      }
      for (String name : o.disabledApis) {
        option = simulatorOnly(o, "--disable-api");
        Endpoint e = Endpoint.parse(name);
        if (e == null) {
          throw new UsageException("unknown action " + name);
        }
        o.builder.disableApi(e);
      }
      if (o.raceWindowMs != null) {
        option = simulatorOnly(o, "--race-window-ms");
        o.builder.updateRaceWindow(Duration.ofMillis(o.raceWindowMs));
      }
      if (o.events) {
        option = simulatorOnly(o, "--events");
        o.builder.events(true);
      }
      if (o.eventsPort != null) {
        option = eventsOnly(o, "--events-port");
        o.builder.eventsPort(o.eventsPort);
      }
      if (o.eventsKeepalive != null) {
        option = eventsOnly(o, "--events-keepalive");
        o.builder.eventsKeepalive(o.eventsKeepalive);
      }
      if (o.eventsQueue != null) {
        option = eventsOnly(o, "--events-queue");
        o.builder.eventsClientQueue(o.eventsQueue);
      }
      if (o.eventsReplayWindow != null) {
        option = eventsOnly(o, "--events-replay-window");
        o.builder.eventsReplayWindow(o.eventsReplayWindow);
      }
    } catch (IllegalArgumentException e) {
      // Builder validation messages never contain the token value.
      throw new UsageException("option " + option + ": " + e.getMessage());
    }
    for (String json : o.faultJson) {
      try {
        JsonElement e = Json.parseStrict(json);
        if (!e.isJsonObject()) {
          throw new UsageException("option --fault needs a JSON object");
        }
        // Validate now: a bad rule is a usage error, not a failure after start-up.
        ControlEndpoints.addFault(new FaultInjector(), e.getAsJsonObject());
        o.faults.add(e.getAsJsonObject());
      } catch (JsonParseException
          | IllegalArgumentException
          | IllegalStateException
          | NullPointerException
          | ClassCastException
          | UnsupportedOperationException e) {
        throw new UsageException("option --fault: not a fault rule: " + e.getMessage());
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

  /**
   * The message for arguments nobody asked for. picocli's own names every one of them, and the
   * argument after a misspelt {@code --admin-tokn} is a token: only the option-like ones are named.
   */
  static String unmatched(List<String> args) {
    List<String> options = new ArrayList<>();
    for (String a : args) {
      if (a.startsWith("-")) {
        int eq = a.indexOf('=');
        options.add("'" + (eq > 0 ? a.substring(0, eq) : a) + "'");
      }
    }
    if (options.isEmpty()) {
      return "unexpected argument (the simulator takes options only)";
    }
    return (options.size() == 1 ? "Unknown option: " : "Unknown options: ")
        + String.join(", ", options);
  }

  /** A stream setting: a simulator option that also needs {@code --events}. */
  private static String eventsOnly(Options o, String option) throws UsageException {
    if (!o.events) {
      throw new UsageException(option + " needs --events");
    }
    return simulatorOnly(o, option);
  }

  private static String simulatorOnly(Options o, String option) {
    if (!o.simulatorOnly.contains(option)) {
      o.simulatorOnly.add(option);
    }
    return option;
  }

  /**
   * Runs the simulator.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    // Before any server is built: the JDK HTTP server reads this once, at its first start, and
    // without it each answer waits about 40 ms for the client's delayed ACK (Nagle). The testkit
    // leaves this JVM-wide property alone when embedded; this JVM is the simulator's own.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
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
      err.println("Try 'arvados-simulator.jar --help' for more information.");
      err.flush();
      return USAGE;
    }
    CommandLine cl = java.util.Objects.requireNonNull(o.commandLine);
    if (o.helpRequested()) {
      cl.usage(out);
      out.flush();
      return 0;
    }
    if (o.versionRequested()) {
      cl.printVersionHelp(out);
      out.flush();
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
      return FAILED;
    }
    if (o.certOut != null) {
      try {
        Files.writeString(Path.of(o.certOut), sim.certificatePem(), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        err.println("error: cannot write certificate: " + e.getMessage());
        sim.close();
        return FAILED;
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
      return FAILED;
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
