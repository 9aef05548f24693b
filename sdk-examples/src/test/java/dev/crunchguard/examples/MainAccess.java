package dev.crunchguard.examples;

import java.io.PrintStream;
import java.util.List;

/** Test access to {@link Main#run} from other test packages. */
public final class MainAccess {
  private MainAccess() {}

  public static int run(List<String> args, PrintStream out, PrintStream err)
      throws InterruptedException {
    return Main.run(args, out, err);
  }
}
