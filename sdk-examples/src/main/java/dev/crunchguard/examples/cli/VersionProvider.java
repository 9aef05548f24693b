package dev.crunchguard.examples.cli;

import dev.crunchguard.ArvadosClient;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: the project's version (the SDK's, {@link ArvadosClient#VERSION}: the examples
 * and the benchmarks are built with it), and the Java runtime.
 */
public final class VersionProvider implements IVersionProvider {
  /** The project's version, or {@code unknown} outside a Maven build. */
  public static final String VERSION = ArvadosClient.VERSION;

  /** Creates the provider; picocli instantiates it. */
  public VersionProvider() {}

  @Override
  public String[] getVersion() {
    return new String[] {
      "Crunch Guard " + VERSION,
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
    };
  }
}
