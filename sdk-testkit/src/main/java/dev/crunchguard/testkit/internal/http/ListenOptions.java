package dev.crunchguard.testkit.internal.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/** The checks of the listening options that the simulator and the fault proxy both take. */
public final class ListenOptions {
  private ListenOptions() {}

  /** A TCP port to listen on, 0 for any free one. */
  public static int port(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    return port;
  }

  /** The address to bind. */
  public static InetAddress bindAddress(String address) {
    try {
      return InetAddress.getByName(Objects.requireNonNull(address, "address"));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("unknown bind address " + address, e);
    }
  }

  /** Handler threads, at least one. */
  public static int threads(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + n);
    }
    return n;
  }
}
