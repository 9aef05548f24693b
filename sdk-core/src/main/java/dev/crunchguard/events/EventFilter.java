package dev.crunchguard.events;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * One filter of a subscription, {@code [attribute, operator, operand]} on the wire.
 *
 * <p><strong>arvados-ws honours only two forms</strong>: {@code ["event_type","in",[...]]} ({@link
 * #eventTypeIn}) and {@code ["created_at", op, time]} ({@link #createdAt}). It drops every other
 * filter without an error, so a subscription whose filters are all of other forms receives
 * <em>every</em> event the token may read. In particular the server cannot filter by object type:
 * use {@link EventStream.Builder#objectKinds} to drop other kinds on this side. {@link
 * #isHonouredByServer()} tells the two apart; the stream logs a warning for the others.
 *
 * <pre>{@code
 * EventFilter changes = EventFilter.eventTypeIn(ArvadosEvent.CREATE, ArvadosEvent.UPDATE);
 * }</pre>
 *
 * @param attribute the attribute, for example {@code "event_type"}
 * @param operator the operator, for example {@code "in"}
 * @param operand a {@code String}, a {@code Long}, a {@code Boolean} or a {@code List<String>}
 */
public record EventFilter(String attribute, String operator, Object operand) {
  private static final Set<String> TIME_OPERATORS = Set.of(">=", "<=", ">", "<", "=");

  /**
   * Validates a filter; an {@code Integer} operand becomes a {@code Long}, a list is copied.
   *
   * @param attribute the attribute
   * @param operator the operator
   * @param operand the operand
   * @throws IllegalArgumentException if an argument is blank or null, or the operand is of another
   *     type
   */
  public EventFilter {
    if (attribute == null || attribute.isBlank() || operator == null || operator.isBlank()) {
      throw new IllegalArgumentException("filter attribute and operator must not be blank");
    }
    if (operand instanceof List<?> list) {
      for (Object o : list) {
        if (!(o instanceof String)) {
          throw new IllegalArgumentException("a list operand must hold strings only");
        }
      }
      operand = List.copyOf(list);
    } else if (operand instanceof Integer i) {
      operand = Long.valueOf(i);
    } else if (!(operand instanceof String
        || operand instanceof Long
        || operand instanceof Boolean)) {
      throw new IllegalArgumentException(
          "filter operand must be a String, Long, Boolean or List<String>, got "
              + (operand == null ? "null" : operand.getClass().getSimpleName()));
    }
  }

  /**
   * {@code ["event_type","in",[types...]]}: honoured by the server.
   *
   * @param types event types, for example {@link ArvadosEvent#CREATE}, {@link ArvadosEvent#UPDATE}
   * @return the filter
   */
  public static EventFilter eventTypeIn(String... types) {
    if (types == null
        || types.length == 0
        || Arrays.stream(types).anyMatch(t -> t == null || t.isBlank())) {
      throw new IllegalArgumentException("eventTypeIn needs at least one non-blank event type");
    }
    return new EventFilter("event_type", "in", List.of(types));
  }

  /**
   * {@code ["created_at", operator, time]} on the log row's creation time: honoured by the server.
   *
   * @param operator one of {@code >=}, {@code <=}, {@code >}, {@code <}, {@code =}
   * @param time the time, sent as RFC 3339
   * @return the filter
   */
  public static EventFilter createdAt(String operator, Instant time) {
    if (!TIME_OPERATORS.contains(operator) || time == null) {
      throw new IllegalArgumentException(
          "createdAt needs one of " + TIME_OPERATORS + " and a time");
    }
    return new EventFilter("created_at", operator, time.toString());
  }

  /**
   * Whether arvados-ws applies this filter; it silently ignores all others (they match everything).
   *
   * @return true for {@code event_type in [...]} and {@code created_at <op> time}
   */
  public boolean isHonouredByServer() {
    if ("event_type".equals(attribute)) {
      return "in".equals(operator) && operand instanceof List;
    }
    if ("created_at".equals(attribute)) {
      if (!TIME_OPERATORS.contains(operator) || !(operand instanceof String s)) {
        return false;
      }
      try {
        java.time.OffsetDateTime.parse(s);
        return true;
      } catch (java.time.format.DateTimeParseException e) {
        return false;
      }
    }
    return false;
  }
}
