package dev.crunchguard;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the server said in an error answer, already redacted: the one value every {@link
 * ArvadosServiceException} is built from.
 */
record ErrorDetails(
    String operation,
    int status,
    List<String> errors,
    @Nullable String errorToken,
    String requestId,
    @Nullable String bodyExcerpt) {
  ErrorDetails {
    errors = List.copyOf(errors);
  }

  String describe() {
    StringBuilder sb = new StringBuilder(operation).append(": HTTP ").append(status);
    if (!errors.isEmpty()) {
      sb.append(": ").append(String.join("; ", errors));
    } else if (bodyExcerpt != null && !bodyExcerpt.isEmpty()) {
      sb.append(": unexpected body: ").append(bodyExcerpt);
    }
    sb.append(" [").append(requestId).append(']');
    return sb.toString();
  }

  boolean hasErrorContaining(String text) {
    for (String e : errors) {
      if (e.contains(text)) {
        return true;
      }
    }
    return false;
  }
}
