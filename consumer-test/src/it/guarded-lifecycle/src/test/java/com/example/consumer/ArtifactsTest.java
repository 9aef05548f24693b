package com.example.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.testkit.ArvadosSimulator;
import java.io.File;
import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** What the published jars promise a user: module names, and sources and Javadoc beside them. */
class ArtifactsTest {
  private static Path jarOf(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  private static JarFile attached(Path main, String classifier) throws Exception {
    String name = main.getFileName().toString().replace(".jar", "-" + classifier + ".jar");
    File f = main.resolveSibling(name).toFile();
    assertTrue(f.isFile(), "no " + classifier + " jar beside " + main);
    return new JarFile(f);
  }

  private static void check(Class<?> c, String moduleName, String source) throws Exception {
    Path main = jarOf(c);
    try (JarFile jar = new JarFile(main.toFile())) {
      assertEquals(
          moduleName, jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
    }
    try (JarFile sources = attached(main, "sources")) {
      assertNotNull(sources.getEntry(source), source + " in the sources jar");
    }
    try (JarFile javadoc = attached(main, "javadoc")) {
      assertNotNull(javadoc.getEntry("index.html"), "index.html in the Javadoc jar");
    }
  }

  @Test
  void coreJar_hasItsModuleName_andSourcesAndJavadocBesideIt() throws Exception {
    check(ArvadosClient.class, "dev.crunchguard.core", "dev/crunchguard/ContainerLock.java");
  }

  @Test
  void testkitJar_hasItsModuleName_andSourcesAndJavadocBesideIt() throws Exception {
    check(
        ArvadosSimulator.class,
        "dev.crunchguard.testkit",
        "dev/crunchguard/testkit/ArvadosSimulator.java");
  }
}
