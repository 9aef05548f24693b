package dev.crunchguard.examples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: the project's version from the build ({@code
 * crunchguard-examples-version.properties}, filtered by Maven), and the Java runtime.
 */
public final class VersionProvider implements IVersionProvider {
  /** The project's version, or {@code unknown} outside a Maven build. */
  public static final String VERSION = read();

  /** Creates the provider; picocli instantiates it. */
  public VersionProvider() {}

  private static String read() {
    try (InputStream in =
        VersionProvider.class.getResourceAsStream("crunchguard-examples-version.properties")) {
      if (in != null) {
        Properties p = new Properties();
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
      "Crunch Guard " + VERSION,
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
    };
  }
}
