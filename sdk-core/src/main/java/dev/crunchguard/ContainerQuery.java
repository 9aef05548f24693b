package dev.crunchguard;

import com.google.gson.JsonArray;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An immutable list query for {@link Containers#list(ContainerQuery)}: filters, order, page size,
 * an optional cap on the number of items, and an optional field selection.
 *
 * <pre>{@code
 * ContainerQuery queued = ContainerQuery.builder()
 *     .filter("state", "=", "Queued")
 *     .filter("priority", ">", 0)
 *     .order("priority desc")
 *     .pageSize(100)
 *     .build();
 * client.containers().list(queued).forEach(c -> System.out.println(c.uuid()));
 * }</pre>
 */
public final class ContainerQuery {
  private static final Set<String> OPERATORS =
      Set.of("=", "!=", "<", "<=", ">", ">=", "like", "ilike", "in", "not in", "is_a", "exists");
  private static final Pattern FIELD = Pattern.compile("^[a-z][a-z0-9_]*$");
  private static final Pattern ORDER = Pattern.compile("^[a-z][a-z0-9_]*( (asc|desc))?$");
  private static final ContainerQuery ALL = builder().build();

  private final JsonArray filters;
  private final List<String> order;
  private final int pageSize;
  private final long limit;
  private final long offset;
  private final List<String> select;

  private ContainerQuery(Builder b) {
    this.filters = b.filters.deepCopy();
    this.order = List.copyOf(b.order);
    this.pageSize = b.pageSize;
    this.limit = b.limit;
    this.offset = b.offset;
    this.select = List.copyOf(b.select);
  }

  /**
   * A query for every readable container, in {@code uuid} order (the order {@link Containers#list}
   * appends for stable paging).
   *
   * @return the query
   */
  public static ContainerQuery all() {
    return ALL;
  }

  /**
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** The filters as the JSON array the API takes. */
  String filtersJson() {
    return filters.toString();
  }

  /**
   * @return the order clauses, for example {@code ["priority desc"]}
   */
  public List<String> order() {
    return order;
  }

  /**
   * @return how many items each page request asks for
   */
  public int pageSize() {
    return pageSize;
  }

  /**
   * @return the maximum number of items the listing yields; {@link Long#MAX_VALUE} for all
   */
  public long limit() {
    return limit;
  }

  /**
   * @return how many matching items the listing skips first (the API's {@code offset}); 0 by
   *     default
   */
  public long offset() {
    return offset;
  }

  /**
   * @return the selected fields, empty for all fields
   */
  public List<String> select() {
    return select;
  }

  JsonArray filters() {
    return filters;
  }

  @Override
  public String toString() {
    return "ContainerQuery{filters="
        + filters
        + ", order="
        + order
        + ", pageSize="
        + pageSize
        + (limit == Long.MAX_VALUE ? "" : ", limit=" + limit)
        + (select.isEmpty() ? "" : ", select=" + select)
        + '}';
  }

  /** Builds a {@link ContainerQuery}; setters validate at once. Not thread-safe. */
  public static final class Builder {
    private final JsonArray filters = new JsonArray();
    private final List<String> order = new ArrayList<>();
    private int pageSize = 100;
    private long limit = Long.MAX_VALUE;
    private long offset;
    private final List<String> select = new ArrayList<>();

    private Builder() {}

    /**
     * Adds a filter {@code [field, operator, operand]}; all filters must match.
     *
     * @param field a container field, for example {@code "state"}
     * @param operator one of {@code = != < <= > >= like ilike in not in is_a exists}
     * @param operand a String, Number, Boolean or null; a Collection of those for {@code in} and
     *     {@code not in}
     * @return this builder
     */
    public Builder filter(String field, String operator, @Nullable Object operand) {
      if (field == null || !FIELD.matcher(field).matches()) {
        throw new IllegalArgumentException(
            "filter field must be a container field name, got " + field);
      }
      if (operator == null || !OPERATORS.contains(operator)) {
        throw new IllegalArgumentException(
            "unsupported filter operator " + operator + "; use one of " + OPERATORS);
      }
      boolean wantsList = operator.equals("in") || operator.equals("not in");
      if (wantsList != (operand instanceof Collection)) {
        throw new IllegalArgumentException(
            wantsList
                ? "operator '" + operator + "' needs a collection operand"
                : "operator '" + operator + "' needs a single value, not a collection");
      }
      if (operand instanceof ContainerState) {
        operand = ((ContainerState) operand).wireName();
      }
      if (operand instanceof Collection) {
        List<Object> mapped = new ArrayList<>();
        for (Object o : (Collection<?>) operand) {
          mapped.add(o instanceof ContainerState ? ((ContainerState) o).wireName() : o);
        }
        operand = mapped;
      }
      JsonArray f = new JsonArray();
      f.add(new JsonPrimitive(field));
      f.add(new JsonPrimitive(operator));
      f.add(Json.toJson(operand));
      filters.add(f);
      return this;
    }

    /**
     * Adds an order clause.
     *
     * @param clause {@code "<field>"}, {@code "<field> asc"} or {@code "<field> desc"}
     * @return this builder
     */
    public Builder order(String clause) {
      if (clause == null || !ORDER.matcher(clause).matches()) {
        throw new IllegalArgumentException(
            "order clause must be '<field> [asc|desc]', got " + clause);
      }
      order.add(clause);
      return this;
    }

    /**
     * @param pageSize items per page request, 1 to 1000 (the server may return fewer)
     * @return this builder
     */
    public Builder pageSize(int pageSize) {
      if (pageSize < 1 || pageSize > 1000) {
        throw new IllegalArgumentException("pageSize must be between 1 and 1000, got " + pageSize);
      }
      this.pageSize = pageSize;
      return this;
    }

    /**
     * @param limit the most items the listing yields, at least 1
     * @return this builder
     */
    public Builder limit(long limit) {
      if (limit < 1) {
        throw new IllegalArgumentException("limit must be >= 1, got " + limit);
      }
      this.limit = limit;
      return this;
    }

    /**
     * Starts the listing after this many matching items (the API's {@code offset}), for callers
     * that page themselves, for example to correct for items their own writes removed from the
     * filter's result since the previous page.
     *
     * @param offset items to skip, at least 0
     * @return this builder
     */
    public Builder offset(long offset) {
      if (offset < 0) {
        throw new IllegalArgumentException("offset must be >= 0, got " + offset);
      }
      this.offset = offset;
      return this;
    }

    /**
     * Asks only for these fields (plus {@code uuid}, which paging needs).
     *
     * @param fields container field names
     * @return this builder
     */
    public Builder select(String... fields) {
      for (String f : fields) {
        if (f == null || !FIELD.matcher(f).matches()) {
          throw new IllegalArgumentException(
              "select field must be a container field name, got " + f);
        }
        if (!select.contains(f)) {
          select.add(f);
        }
      }
      if (!select.isEmpty() && !select.contains("uuid")) {
        select.add(0, "uuid");
      }
      return this;
    }

    /**
     * @return the query
     */
    public ContainerQuery build() {
      return new ContainerQuery(this);
    }
  }
}
