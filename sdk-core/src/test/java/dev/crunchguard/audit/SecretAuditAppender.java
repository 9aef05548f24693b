package dev.crunchguard.audit;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Sees every log event of the whole test run (configured at TRACE for {@code dev.crunchguard} in
 * {@code logback-test.xml}) and records any that contains a secret: a token constant of any test
 * class (a {@code static final String} whose name mentions TOKEN or SECRET), a v2 token, a bearer
 * header, or an {@code api_token} value that was not redacted. {@link WholeSuiteSecretAuditTest},
 * ordered last, asserts that nothing was recorded.
 */
public final class SecretAuditAppender extends AppenderBase<ILoggingEvent> {
  private static final Pattern V2 =
      Pattern.compile("v2/[a-z0-9]{5}-gj3su-[a-z0-9]{15}/(?!<redacted>)[A-Za-z0-9]{8,}");
  private static final Pattern BEARER =
      Pattern.compile("(?:Bearer|OAuth2)\\s+(?!<redacted>)[^\\s\"']{8,}");
  private static final Pattern API_TOKEN =
      // A token has no '<', spaces or ellipsis: a redaction marker cut short by an excerpt's
      // ellipsis ("<re…") is not a token, and the match must not run on to a later quote; a real
      // token cut short by an excerpt ("abcdefgh…") still is one.
      Pattern.compile("\"api_token\"\\s*:\\s*\"(?!<)[^\"\\s\u2026]{8,}[\"\u2026]");

  static final AtomicLong EVENTS = new AtomicLong();
  static final List<String> LEAKS = Collections.synchronizedList(new ArrayList<>());
  private static volatile Set<String> secrets;

  @Override
  protected void append(ILoggingEvent e) {
    EVENTS.incrementAndGet();
    StringBuilder sb =
        new StringBuilder(e.getLoggerName()).append(" - ").append(e.getFormattedMessage());
    if (e.getArgumentArray() != null) {
      sb.append(" args=").append(Arrays.deepToString(e.getArgumentArray()));
    }
    if (!e.getMDCPropertyMap().isEmpty()) {
      sb.append(" mdc=").append(e.getMDCPropertyMap());
    }
    if (e.getThrowableProxy() != null) {
      sb.append('\n').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
    }
    String text = sb.toString();
    String why = leak(text);
    if (why != null && LEAKS.size() < 100) {
      LEAKS.add(why + ": " + (text.length() > 400 ? text.substring(0, 400) : text));
    }
  }

  static String leak(String text) {
    for (String s : secrets()) {
      if (text.contains(s)) {
        return "test secret";
      }
    }
    if (V2.matcher(text).find()) {
      return "v2 token";
    }
    if (BEARER.matcher(text).find()) {
      return "bearer credential";
    }
    if (API_TOKEN.matcher(text).find()) {
      return "api_token value";
    }
    return null;
  }

  static Set<String> secrets() {
    Set<String> s = secrets;
    if (s == null) {
      s = collectSecrets();
      secrets = s;
    }
    return s;
  }

  /**
   * A bare secret (no spaces, no path) or a v2 token; not a path or a message that merely mentions
   * tokens.
   */
  private static boolean looksLikeToken(String v) {
    return v.length() >= 8
        && (v.matches("[A-Za-z0-9_.+=-]+")
            || v.matches("v2/[a-z0-9]{5}-gj3su-[a-z0-9]{15}/[^/\\s]+(/.*)?"));
  }

  /** Every token constant declared by a compiled test class of this module. */
  private static Set<String> collectSecrets() {
    Set<String> out = new LinkedHashSet<>();
    Path root = Paths.get("target", "test-classes");
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
        String name = root.relativize(p).toString().replace('/', '.').replace(".class", "");
        try {
          Class<?> c = Class.forName(name, false, SecretAuditAppender.class.getClassLoader());
          for (Field f : c.getDeclaredFields()) {
            int m = f.getModifiers();
            String n = f.getName().toUpperCase(Locale.ROOT);
            if (Modifier.isStatic(m)
                && Modifier.isFinal(m)
                && f.getType() == String.class
                && (n.contains("TOKEN") || n.contains("SECRET"))) {
              f.setAccessible(true);
              Object v = f.get(null);
              if (v instanceof String && looksLikeToken((String) v)) {
                out.add((String) v);
                String[] parts = ((String) v).split("/");
                if (parts.length >= 3 && parts[2].length() >= 8) {
                  out.add(parts[2]);
                }
              }
            }
          }
        } catch (ReflectiveOperationException | LinkageError | RuntimeException skip) {
          // not loadable in isolation; its constants are not audited
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }
}
