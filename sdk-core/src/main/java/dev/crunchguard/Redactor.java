package dev.crunchguard;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Removes anything that looks like an Arvados token from text that may reach a log or an exception.
 */
final class Redactor {
  static final String MASK = "<redacted>";
  private static final Pattern API_TOKEN_FIELD =
      Pattern.compile("(\"api_token\"\\s*:\\s*\")[^\"]*(\"?)");
  private static final Pattern V2_TOKEN =
      Pattern.compile("(v2/[a-z0-9]{5}-gj3su-[a-z0-9]{15}/)[^/\\s\"'<>&]+");
  private static final Pattern API_TOKEN_PARAM = Pattern.compile("([?&]api_token=)[^&\\s\"'<>#]+");
  private static final Pattern BEARER = Pattern.compile("((?:Bearer|OAuth2)\\s+)\\S+");

  private final @Nullable String token;
  private final @Nullable String secretPart;

  Redactor(@Nullable String token) {
    this.token = token == null || token.isEmpty() ? null : token;
    this.secretPart = secretOf(this.token);
  }

  private static @Nullable String secretOf(@Nullable String token) {
    if (token == null || !token.startsWith("v2/")) {
      return null;
    }
    String[] parts = token.split("/");
    return parts.length >= 3 && parts[2].length() >= 8 ? parts[2] : null;
  }

  String redact(@Nullable String text) {
    if (text == null || text.isEmpty()) {
      return text == null ? "" : text;
    }
    String out = text;
    if (token != null) {
      out = out.replace(token, MASK);
    }
    if (secretPart != null) {
      out = out.replace(secretPart, MASK);
    }
    out = API_TOKEN_FIELD.matcher(out).replaceAll("$1" + Matcher.quoteReplacement(MASK) + "$2");
    out = API_TOKEN_PARAM.matcher(out).replaceAll("$1" + Matcher.quoteReplacement(MASK));
    out = V2_TOKEN.matcher(out).replaceAll("$1" + Matcher.quoteReplacement(MASK));
    out = BEARER.matcher(out).replaceAll("$1" + Matcher.quoteReplacement(MASK));
    return out;
  }

  /** A short single-line excerpt of a body, redacted. */
  String excerpt(String body, int max) {
    String flat = redact(body.replaceAll("\\s+", " ").trim());
    return flat.length() > max ? flat.substring(0, max) + "…" : flat;
  }
}
