package dev.crunchguard.testkit;

import dev.crunchguard.testkit.internal.events.EventLog;
import dev.crunchguard.testkit.internal.events.EventServer;
import java.time.Duration;

/**
 * The simulator's event stream (arvados-ws), when built with {@link
 * ArvadosSimulator.Builder#events(boolean) events(true)}: its URL, its counters, and its fault
 * controls. Thread-safe; the controls act at once on a running simulator.
 *
 * <pre>{@code
 * SimulatorEvents ws = sim.events();
 * ws.dropNext(1);                        // the next event reaches no client (the poll must repair)
 * ws.delayDelivery(Duration.ofMillis(200));
 * ws.restart();                          // every client dropped at once, as when arvados-ws restarts
 * ws.stallClients();                     // current clients stop reading: the 65th event closes them
 * }</pre>
 */
public final class SimulatorEvents {
  private final EventLog log;
  private final EventServer server;
  private final String url;

  SimulatorEvents(EventLog log, EventServer server, String url) {
    this.log = log;
    this.server = server;
    this.url = url;
  }

  /**
   * The stream's URL, as the discovery document's {@code websocketUrl} announces it.
   *
   * @return for example {@code ws://127.0.0.1:41235/websocket} ({@code wss://} in https mode)
   */
  public String websocketUrl() {
    return url;
  }

  /**
   * @return the port the stream listens on (its own, not the API's)
   */
  public int port() {
    return server.port();
  }

  /**
   * Loses the next {@code count} events silently: no client receives them live (as when arvados-ws
   * fails to fetch a log row), while they stay in the log, so a later {@code last_log_id} replay
   * still finds them.
   *
   * @param count at least 1
   * @throws IllegalArgumentException when {@code count < 1}
   */
  public void dropNext(int count) {
    log.dropNext(count);
  }

  /**
   * Delivers every event no earlier than {@code delay} after the change that produced it (zero
   * switches the delay off). Events wait in each client's queue meanwhile: a burst larger than the
   * queue (64) during the delay closes the client, as a lagging arvados-ws would.
   *
   * @param delay not negative
   * @throws IllegalArgumentException when {@code delay} is negative
   */
  public void delayDelivery(Duration delay) {
    server.setDeliveryDelay(delay);
  }

  /**
   * Drops every connected client at once, without a close frame, as when arvados-ws restarts (it
   * does on any trouble with its database listener); new connections are accepted again at once.
   *
   * @return the number of clients dropped
   */
  public int restart() {
    return server.restart(Duration.ZERO);
  }

  /**
   * Drops every connected client at once and refuses new connections for {@code downtime}.
   *
   * @param downtime how long upgrades are refused
   * @return the number of clients dropped
   */
  public int restart(Duration downtime) {
    if (downtime.isNegative()) {
      throw new IllegalArgumentException("downtime must not be negative");
    }
    return server.restart(downtime);
  }

  /**
   * Turns every client connected now into a slow client that reads nothing more: its queue fills
   * and the next event it should get after that closes its connection ("client queue full").
   * Clients that connect later are healthy.
   *
   * @return the number of clients stalled
   */
  public int stallClients() {
    return server.stallClients();
  }

  /** Cancels pending {@link #dropNext} drops and switches {@link #delayDelivery} off. */
  public void clearFaults() {
    log.clearDrops();
    server.setDeliveryDelay(Duration.ZERO);
  }

  /**
   * @return clients connected now
   */
  public int openConnections() {
    return server.openConnections();
  }

  /**
   * @return connections accepted since start
   */
  public long connectionsAccepted() {
    return server.connectionsAccepted();
  }

  /**
   * @return connections closed because their queue was full
   */
  public long queueFullDisconnects() {
    return server.queueFullDisconnects();
  }

  /**
   * @return event messages sent to all clients (acknowledgements and keepalives not counted)
   */
  public long eventsSent() {
    return server.eventsSent();
  }

  /**
   * @return the id of the last event written, 0 if none
   */
  public long lastEventId() {
    return log.lastId();
  }

  /**
   * @return events lost on purpose by {@link #dropNext}
   */
  public long droppedEvents() {
    return log.droppedCount();
  }

  @Override
  public String toString() {
    return "SimulatorEvents[" + url + "]";
  }
}
