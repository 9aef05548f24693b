package dev.crunchguard.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/** The commands' JVM-wide setting: no Nagle for their JDK HTTP servers, unless the user chose. */
@Isolated
class CliTest {
  private static final String NODELAY = "sun.net.httpserver.nodelay";
  private String saved;

  @BeforeEach
  void save() {
    saved = System.getProperty(NODELAY);
  }

  @AfterEach
  void restore() {
    if (saved == null) {
      System.clearProperty(NODELAY);
    } else {
      System.setProperty(NODELAY, saved);
    }
  }

  @Test
  void aJvmWithoutTheSettingServesWithoutNagle() {
    System.clearProperty(NODELAY);
    Cli.serveWithoutNagleUnlessSet();
    assertThat(System.getProperty(NODELAY)).isEqualTo("true");
  }

  @Test
  void theUsersOwnSettingIsKept() {
    System.setProperty(NODELAY, "false");
    Cli.serveWithoutNagleUnlessSet();
    assertThat(System.getProperty(NODELAY)).isEqualTo("false");
  }
}
