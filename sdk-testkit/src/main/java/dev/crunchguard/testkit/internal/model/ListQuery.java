package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The list parameters of services/api/lib/load_param.rb (load_where_param, load_filters_param,
 * load_limit_offset_order_params, load_select_param) (filters, where, order, limit, offset, count,
 * select), parsed and validated up front, then evaluated over a snapshot of container records.
 */
public final class ListQuery {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_ITEMS_PER_RESPONSE = 1000;
  private static final Pattern DIGITS = Pattern.compile("[0-9]+");
  private static final Set<String> OPERATORS =
      Set.of("=", "!=", "<", "<=", ">", ">=", "like", "ilike", "in", "not in", "is_a");
  private static final Map<String, String> KIND_INFIX =
      Map.of(
          "arvados#container", "dz642",
          "arvados#containerRequest", "xvhdp",
          "arvados#user", "tpzed",
          "arvados#group", "j7d0g",
          "arvados#apiClientAuthorization", "gj3su",
          "arvados#collection", "4zz18");

  private record Filter(Attr attr, String op, JsonElement operand) {}

  private record Order(Attr attr, boolean desc) {}

  private final List<Filter> filters = new ArrayList<>();
  private final List<Order> orders = new ArrayList<>();
  final int limit;
  final int offset;
  final boolean countExact;
  final @Nullable List<String> select;

  private ListQuery(Map<String, JsonElement> params) {
    parseFilters(params.get("filters"));
    parseWhere(params.get("where"));
    parseOrder(params.get("order"));
    limit =
        Math.min(
            parseNonNegative(params.get("limit"), "limit", DEFAULT_LIMIT), MAX_ITEMS_PER_RESPONSE);
    offset = parseNonNegative(params.get("offset"), "offset", 0);
    JsonElement count = params.get("count");
    if (count == null || count.isJsonNull()) {
      countExact = true;
    } else if (count.isJsonPrimitive() && "exact".equals(count.getAsString())) {
      countExact = true;
    } else if (count.isJsonPrimitive() && "none".equals(count.getAsString())) {
      countExact = false;
    } else {
      throw argumentError("count parameter must be 'exact' or 'none'");
    }
    select = parseSelect(params.get("select"));
  }

  public static ListQuery parse(Map<String, JsonElement> params) {
    return new ListQuery(params);
  }

  /** Parses the {@code select} parameter; null when absent. Shared with get/update. */
  public static @Nullable List<String> parseSelect(@Nullable JsonElement v) {
    if (v == null || v.isJsonNull()) {
      return null;
    }
    JsonElement arr = loadParam(v, "select", "an array");
    if (arr.isJsonNull()
        || (arr.isJsonPrimitive() && arr.getAsJsonPrimitive().isBoolean() && !arr.getAsBoolean())) {
      return null;
    }
    if (!arr.isJsonArray()) {
      throw argumentError("Could not parse \"select\" param as an array");
    }
    List<String> out = new ArrayList<>();
    for (JsonElement e : arr.getAsJsonArray()) {
      String name = e.isJsonPrimitive() ? e.getAsString() : Json.GSON.toJson(e);
      Attr a = Attr.byName(name);
      boolean ok = (a != null && !a.hidden) || "kind".equals(name) || "etag".equals(name);
      if (!ok) {
        throw argumentError("Invalid attribute '" + name + "' of Container in select parameter");
      }
      if (!out.contains(name)) {
        out.add(name);
      }
    }
    return out;
  }

  private static JsonElement jsonParam(JsonElement v, String name) {
    if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
      try {
        return Json.parseStrict(v.getAsString());
      } catch (JsonParseException e) {
        throw argumentError("Could not parse \"" + name + "\" parameter as JSON");
      }
    }
    return v;
  }

  /**
   * load_param.rb: a string is parsed with SafeJSON ("" is nil); a parse failure is its message.
   */
  private static JsonElement loadParam(JsonElement v, String name, String what) {
    if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
      if (v.getAsString().isEmpty()) {
        return com.google.gson.JsonNull.INSTANCE;
      }
      try {
        return Json.parseStrict(v.getAsString());
      } catch (JsonParseException e) {
        throw argumentError("Could not parse \"" + name + "\" param as " + what);
      }
    }
    return v;
  }

  private static ApiException argumentError(String message) {
    return ApiException.raised(422, "ArgumentError", message);
  }

  private static int parseNonNegative(@Nullable JsonElement v, String name, int dflt) {
    if (v == null || v.isJsonNull()) {
      return dflt;
    }
    String s = v.isJsonPrimitive() ? v.getAsString() : "";
    if (!DIGITS.matcher(s).matches()) {
      throw argumentError("Invalid value for " + name + " parameter");
    }
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  private void parseFilters(@Nullable JsonElement v) {
    if (v == null || v.isJsonNull()) {
      return;
    }
    JsonElement f = loadParam(v, "filters", "an array");
    if (f.isJsonNull() || (v.isJsonObject())) {
      return; // an empty string, JSON null, or a hash parameter (which load_filters_param ignores)
    }
    if (!f.isJsonArray()) {
      throw argumentError("Could not parse \"filters\" param as an array");
    }
    JsonArray arr = f.getAsJsonArray();
    // A single filter given as a flat triple is accepted like Rails does.
    if (arr.size() == 3 && arr.get(0).isJsonPrimitive() && arr.get(1).isJsonPrimitive()) {
      JsonArray wrapped = new JsonArray();
      wrapped.add(arr);
      arr = wrapped;
    }
    for (JsonElement e : arr) {
      if (!e.isJsonArray()) {
        throw argumentError(
            "Invalid element in filters array: " + Attr.rubyInspect(e) + " is not an array");
      }
      // record_filters.rb destructures [attr, operator, operand]: missing elements are nil,
      // extra ones ignored.
      JsonArray t = new JsonArray();
      e.getAsJsonArray().forEach(t::add);
      while (t.size() < 3) {
        t.add(com.google.gson.JsonNull.INSTANCE);
      }
      if (!t.get(1).isJsonPrimitive() || !t.get(1).getAsJsonPrimitive().isString()) {
        String cls = t.get(1).isJsonNull() ? "NilClass" : typeName(t.get(1));
        throw argumentError(
            "Invalid operator '"
                + (t.get(1).isJsonNull() ? "" : Attr.rubyInspect(t.get(1)))
                + "' ("
                + cls
                + ") in filter");
      }
      if (!t.get(0).isJsonPrimitive()) {
        throw argumentError("Invalid attribute '" + Attr.rubyInspect(t.get(0)) + "' in filter");
      }
      String attrName = t.get(0).getAsString();
      if (attrName.startsWith("containers.")) {
        attrName = attrName.substring("containers.".length());
      }
      String op = t.get(1).getAsString().toLowerCase(Locale.ROOT);
      Attr a = Attr.byName(attrName);
      // record_filters.rb: the attribute must be searchable with this operator (text-only
      // operators search string columns only; float columns are never searchable) before the
      // operator itself is checked.
      if (a == null || a.hidden || (!"is_a".equals(op) && !searchable(a, op))) {
        throw argumentError("Invalid attribute '" + t.get(0).getAsString() + "' in filter");
      }
      if (!OPERATORS.contains(op)) {
        throw argumentError("Invalid operator '" + t.get(1).getAsString() + "'");
      }
      JsonElement operand = t.get(2);
      validate(a, op, operand);
      filters.add(new Filter(a, op, operand));
    }
  }

  private void parseWhere(@Nullable JsonElement v) {
    if (v == null || v.isJsonNull()) {
      return;
    }
    JsonElement w = loadParam(v, "where", "an object");
    if (w.isJsonNull()) {
      return;
    }
    if (!w.isJsonObject()) {
      throw argumentError("Could not parse \"where\" param as an object");
    }
    for (Map.Entry<String, JsonElement> e : w.getAsJsonObject().entrySet()) {
      Attr a = Attr.byName(e.getKey());
      if (a == null || a.hidden) {
        throw argumentError("Invalid attribute '" + e.getKey() + "' in where");
      }
      String op = e.getValue().isJsonArray() ? "in" : "=";
      validate(a, op, e.getValue());
      filters.add(new Filter(a, op, e.getValue()));
    }
  }

  /** ArvadosModel.searchable_columns(operator), for scalar columns. */
  private static boolean searchable(Attr a, String op) {
    boolean textOnly = !op.matches(".*[<=>].*") && !op.equals("in") && !op.equals("not in");
    switch (a.type) {
      case STRING:
      case NSTRING:
        return true;
      case INT:
      case NINT:
      case TIME:
      case NTIME:
      case BOOL:
        return !textOnly;
      case NUMBER:
      case NNUMBER:
        return false;
      default:
        return true; // hash/array columns: refused below with the simulator's own message
    }
  }

  private static boolean scalar(Attr a) {
    return a.type != Attr.Type.HASH && a.type != Attr.Type.STRING_ARRAY;
  }

  private static void validate(Attr a, String op, JsonElement operand) {
    if (!scalar(a)
        && (op.equals("=") || op.equals("!="))
        && operand.isJsonPrimitive()
        && operand.getAsJsonPrimitive().isString()) {
      return; // compared with the column's serialized text (the Rails 6.1 revision's text columns)
    }
    if (!scalar(a)) {
      throw argumentError(
          "Invalid attribute '"
              + a.json
              + "' for operator '"
              + op
              + "' in filter (the simulator filters scalar columns only)");
    }
    switch (op) {
      case "in":
      case "not in":
        if (!operand.isJsonArray()) {
          throw argumentError(
              "Invalid operand type '"
                  + typeName(operand)
                  + "' for '"
                  + op
                  + "' operator in filters");
        }
        for (JsonElement x : operand.getAsJsonArray()) {
          if (!x.isJsonNull()) {
            key(a, x);
          }
        }
        return;
      case "is_a":
        if (!(operand.isJsonArray()
            || (operand.isJsonPrimitive() && operand.getAsJsonPrimitive().isString()))) {
          throw argumentError(
              "Invalid operand type '" + typeName(operand) + "' for 'is_a' operator in filters");
        }
        return;
      case "like":
      case "ilike":
        if (!(operand.isJsonPrimitive() && operand.getAsJsonPrimitive().isString())
            || !(a.type == Attr.Type.STRING || a.type == Attr.Type.NSTRING)) {
          throw argumentError(
              "Invalid operand type '"
                  + typeName(operand)
                  + "' for '"
                  + op
                  + "' operator in filters");
        }
        return;
      default:
        if (operand.isJsonNull()) {
          return;
        }
        if (!operand.isJsonPrimitive()) {
          throw argumentError(
              "Invalid operand type '"
                  + typeName(operand)
                  + "' for '"
                  + op
                  + "' operator in filters");
        }
        if (a.type == Attr.Type.BOOL && operand.getAsJsonPrimitive().isString()) {
          // record_filters.rb: a string operand on a boolean column
          if (!op.equals("=") && !op.equals("!=")) {
            throw argumentError(
                "Invalid operator '" + op + "' for boolean attribute '" + a.json + "'");
          }
          if (booleanOperand(operand.getAsString()) == null) {
            throw argumentError(
                "Invalid operand '"
                    + operand.getAsString()
                    + "' for boolean attribute '"
                    + a.json
                    + "'");
          }
          return;
        }
        key(a, operand);
    }
  }

  /** The string operands record_filters.rb accepts for a boolean column. */
  static @Nullable Boolean booleanOperand(String s) {
    switch (s.toLowerCase(Locale.ROOT)) {
      case "1":
      case "t":
      case "true":
      case "y":
      case "yes":
        return true;
      case "0":
      case "f":
      case "false":
      case "n":
      case "no":
        return false;
      default:
        return null;
    }
  }

  private static String typeName(JsonElement e) {
    if (e.isJsonArray()) {
      return "Array";
    }
    if (e.isJsonObject()) {
      return "Hash";
    }
    if (e.isJsonNull()) {
      return "NilClass";
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    return p.isBoolean()
        ? (p.getAsBoolean() ? "TrueClass" : "FalseClass")
        : p.isNumber() ? "Integer" : "String";
  }

  /** A comparable key for a non-null value of {@code a}; raises 422 like PostgreSQL would. */
  @SuppressWarnings({"rawtypes"})
  private static Comparable key(Attr a, JsonElement v) {
    if (!v.isJsonPrimitive()) {
      return Json.GSON.toJson(v);
    }
    String s = v.getAsString();
    switch (a.type) {
      case INT:
      case NINT:
      case NUMBER:
      case NNUMBER:
        try {
          return new BigDecimal(s.trim());
        } catch (NumberFormatException e) {
          String pgType =
              (a.type == Attr.Type.INT || a.type == Attr.Type.NINT) ? "bigint" : "double precision";
          throw ApiException.raised(
              422,
              "ActiveRecord::StatementInvalid",
              "PG::InvalidTextRepresentation: ERROR:  invalid input syntax for type "
                  + pgType
                  + ": \""
                  + s
                  + "\"");
        }
      case TIME:
      case NTIME:
        Instant t = Json.parseTime(s);
        if (t == null) {
          throw ApiException.raised(
              422,
              "ActiveRecord::StatementInvalid",
              "PG::InvalidDatetimeFormat: ERROR:  invalid input syntax for type timestamp: \""
                  + s
                  + "\"");
        }
        return t;
      case BOOL:
        Boolean b = v.getAsJsonPrimitive().isString() ? booleanOperand(s) : Attr.parseBool(v);
        if (b == null) {
          throw ApiException.raised(
              422,
              "ActiveRecord::StatementInvalid",
              "PG::InvalidTextRepresentation: ERROR:  invalid input syntax for type boolean: \""
                  + s
                  + "\"");
        }
        return b;
      default:
        return s;
    }
  }

  private void parseOrder(@Nullable JsonElement v) {
    List<String> entries = new ArrayList<>();
    if (v != null && !v.isJsonNull()) {
      if (v.isJsonArray()) {
        for (JsonElement e : v.getAsJsonArray()) {
          if (e.isJsonPrimitive()) {
            entries.add(e.getAsString());
          }
        }
      } else if (v.isJsonPrimitive()) {
        String s = v.getAsString().trim();
        JsonElement parsed = null;
        if (s.startsWith("[")) {
          try {
            parsed = Json.parseStrict(s);
          } catch (JsonParseException e) {
            throw argumentError("Could not parse \"order\" parameter as JSON");
          }
        }
        if (parsed != null && parsed.isJsonArray()) {
          for (JsonElement e : parsed.getAsJsonArray()) {
            if (e.isJsonPrimitive()) {
              entries.add(e.getAsString());
            }
          }
        } else {
          for (String part : s.split(",")) {
            entries.add(part);
          }
        }
      }
    }
    entries.add("modified_at desc");
    entries.add("uuid desc");
    for (String entry : entries) {
      String[] w = entry.trim().split("\\s+");
      if (w.length == 0 || w.length > 2 || w[0].isEmpty()) {
        continue;
      }
      String col = w[0];
      if (col.startsWith("containers.")) {
        col = col.substring("containers.".length());
      }
      Attr a = Attr.byName(col);
      if (a == null || a.hidden || !scalar(a)) {
        continue;
      }
      boolean desc = false;
      if (w.length == 2) {
        String d = w[1].toLowerCase(Locale.ROOT);
        if (d.equals("desc")) {
          desc = true;
        } else if (!d.equals("asc")) {
          continue;
        }
      }
      Attr fa = a;
      if (orders.stream().noneMatch(o -> o.attr() == fa)) {
        orders.add(new Order(a, desc));
      }
    }
  }

  /** The matching records, sorted, before paging. */
  List<ContainerRecord> matching(Collection<ContainerRecord> all) {
    List<ContainerRecord> out = new ArrayList<>();
    for (ContainerRecord r : all) {
      if (matches(r)) {
        out.add(r);
      }
    }
    out.sort(comparator());
    return out;
  }

  private boolean matches(ContainerRecord r) {
    for (Filter f : filters) {
      if (!matches(r, f)) {
        return false;
      }
    }
    return true;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static boolean matches(ContainerRecord r, Filter f) {
    JsonElement v = r.get(f.attr());
    boolean isNull = v.isJsonNull();
    JsonElement operand = f.operand();
    switch (f.op()) {
      case "=":
        if (operand.isJsonNull()) {
          return isNull;
        }
        return !isNull && key(f.attr(), v).compareTo(key(f.attr(), operand)) == 0;
      case "!=":
        if (operand.isJsonNull()) {
          return !isNull;
        }
        return isNull || key(f.attr(), v).compareTo(key(f.attr(), operand)) != 0;
      case "<":
      case "<=":
      case ">":
      case ">=":
        {
          if (isNull || operand.isJsonNull()) {
            return false;
          }
          int c = key(f.attr(), v).compareTo(key(f.attr(), operand));
          switch (f.op()) {
            case "<":
              return c < 0;
            case "<=":
              return c <= 0;
            case ">":
              return c > 0;
            default:
              return c >= 0;
          }
        }
      case "in":
      case "not in":
        {
          boolean listHasNull = false;
          boolean found = false;
          for (JsonElement x : operand.getAsJsonArray()) {
            if (x.isJsonNull()) {
              listHasNull = true;
            } else if (!isNull && key(f.attr(), v).compareTo(key(f.attr(), x)) == 0) {
              found = true;
            }
          }
          if ("in".equals(f.op())) {
            return isNull ? listHasNull : found;
          }
          return isNull ? !listHasNull : !found;
        }
      case "like":
      case "ilike":
        {
          if (isNull) {
            return false;
          }
          boolean ci = "ilike".equals(f.op());
          return likePattern(operand.getAsString(), ci).matcher(v.getAsString()).matches();
        }
      case "is_a":
        {
          if (isNull) {
            return false;
          }
          String s = v.getAsString();
          List<String> kinds = new ArrayList<>();
          if (operand.isJsonArray()) {
            operand
                .getAsJsonArray()
                .forEach(k -> kinds.add(k.isJsonPrimitive() ? k.getAsString() : ""));
          } else {
            kinds.add(operand.getAsString());
          }
          for (String k : kinds) {
            String infix = KIND_INFIX.get(k);
            if (infix != null && s.length() == 27 && s.substring(6, 11).equals(infix)) {
              return true;
            }
          }
          return false;
        }
      default:
        return false;
    }
  }

  private static Pattern likePattern(String like, boolean ci) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < like.length(); i++) {
      char c = like.charAt(i);
      if (c == '\\' && i + 1 < like.length()) {
        re.append(Pattern.quote(String.valueOf(like.charAt(++i))));
      } else if (c == '%') {
        re.append(".*");
      } else if (c == '_') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(
        re.toString(),
        ci ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.DOTALL : Pattern.DOTALL);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Comparator<ContainerRecord> comparator() {
    return (x, y) -> {
      for (Order o : orders) {
        JsonElement a = x.get(o.attr());
        JsonElement b = y.get(o.attr());
        int c;
        if (a.isJsonNull() && b.isJsonNull()) {
          c = 0;
        } else if (a.isJsonNull()) {
          c = 1; // PostgreSQL: NULLS LAST ascending (and so NULLS FIRST descending)
        } else if (b.isJsonNull()) {
          c = -1;
        } else {
          c = key(o.attr(), a).compareTo(key(o.attr(), b));
        }
        if (c != 0) {
          return o.desc() ? -c : c;
        }
      }
      return 0;
    };
  }

  /**
   * Builds the list envelope of services/api/app/controllers/application_controller.rb's
   * object_list (line 620) by the general path: every record of {@code all} is filtered, the
   * matches sorted, then paged. O(n log n) in the size of {@code all}.
   *
   * @param all the records the caller can read
   * @return the envelope
   */
  public JsonObject envelope(Collection<ContainerRecord> all) {
    List<ContainerRecord> m = matching(all);
    int from = (int) Math.min(offset, m.size());
    int to = (int) Math.min((long) offset + limit, m.size());
    return envelope(m.subList(from, to), m.size());
  }

  /** How {@link #answer} found the rows (for tests and the docs). */
  enum Plan {
    /** Every readable row filtered and sorted. */
    SCAN,
    /** The rows named by a {@code uuid} {@code =} or {@code in} filter, then the general path. */
    BY_UUID,
    /** The rows of a {@code locked_by_uuid =} filter, from the index, then the general path. */
    LOCKED_BY,
    /** The Queued rows (in a priority range), from the index, then the general path. */
    QUEUED,
    /** A page and its count read straight from the Queued index, in priority order. */
    QUEUED_PAGE
  }

  /**
   * A list answer and how it was found.
   *
   * @param envelope the response body
   * @param plan the path taken
   * @param examined the rows read to answer it (the whole readable table for {@link Plan#SCAN})
   */
  record Answer(JsonObject envelope, Plan plan, long examined) {}

  /**
   * Answers the query over {@code table} as the general path over every row {@code caller} can read
   * would, through the table's index where the filters and order allow: the answer (rows, order,
   * count, paging, select) is the same either way.
   *
   * @param table the containers
   * @param caller who lists (admins read every row; anyone else through container requests)
   * @return the answer
   */
  Answer answer(ContainersService table, Caller caller) {
    Predicate<ContainerRecord> readable =
        caller.admin() ? r -> true : r -> table.canRead(r.uuid(), caller);
    Set<String> uuids = uuidCandidates();
    if (uuids != null) {
      List<ContainerRecord> rows = new ArrayList<>(uuids.size());
      for (String u : uuids) {
        ContainerRecord r = table.find(u);
        if (r != null && readable.test(r)) {
          rows.add(r);
        }
      }
      return new Answer(envelope(rows), Plan.BY_UUID, uuids.size());
    }
    String lockedBy = equalityOperand(Attr.LOCKED_BY_UUID);
    if (lockedBy != null) {
      List<ContainerRecord> rows = table.index().lockedBy(lockedBy);
      int examined = rows.size();
      rows.removeIf(readable.negate());
      return new Answer(envelope(rows), Plan.LOCKED_BY, examined);
    }
    if (State.QUEUED.wire.equals(equalityOperand(Attr.STATE))) {
      if (caller.admin() && directlyPageable()) {
        Slice slice = table.index().readQueued(this::queuedSlice);
        if (slice.total >= 0) {
          return queuedPage(slice);
        }
      }
      List<ContainerRecord> rows = table.index().readQueued(this::queuedCandidates);
      int examined = rows.size();
      rows.removeIf(readable.negate());
      return new Answer(envelope(rows), Plan.QUEUED, examined);
    }
    Collection<ContainerRecord> all = table.readableBy(caller);
    return new Answer(envelope(all), Plan.SCAN, all.size());
  }

  /**
   * The uuids a {@code uuid =} or {@code uuid in} filter names (as the filter compares them), or
   * null when there is none.
   */
  private @Nullable Set<String> uuidCandidates() {
    for (Filter f : filters) {
      if (f.attr() != Attr.UUID) {
        continue;
      }
      if ("=".equals(f.op()) && !f.operand().isJsonNull()) {
        return Set.of((String) key(Attr.UUID, f.operand()));
      }
      if ("in".equals(f.op())) {
        Set<String> out = new LinkedHashSet<>();
        for (JsonElement x : f.operand().getAsJsonArray()) {
          if (!x.isJsonNull()) {
            out.add((String) key(Attr.UUID, x));
          }
        }
        return out;
      }
    }
    return null;
  }

  /**
   * The text a {@code [attr, "=", value]} filter on the text column {@code attr} compares with, or
   * null when there is no such filter (or its value is null).
   */
  private @Nullable String equalityOperand(Attr attr) {
    for (Filter f : filters) {
      if (f.attr() == attr && "=".equals(f.op()) && f.operand().isJsonPrimitive()) {
        return (String) key(attr, f.operand());
      }
    }
    return null;
  }

  /**
   * Whether the Queued index alone answers the query: besides {@code state = Queued}, only
   * comparisons of {@code priority} with a value (a range of the index), and the order starting
   * with {@code priority}.
   */
  private boolean directlyPageable() {
    if (orders.isEmpty() || orders.get(0).attr() != Attr.PRIORITY) {
      return false;
    }
    for (Filter f : filters) {
      boolean queued =
          f.attr() == Attr.STATE
              && "=".equals(f.op())
              && f.operand().isJsonPrimitive()
              && State.QUEUED.wire.equals(f.operand().getAsString());
      boolean range =
          f.attr() == Attr.PRIORITY
              && PRIORITY_RANGE_OPS.contains(f.op())
              && !f.operand().isJsonNull();
      if (!queued && !range) {
        return false;
      }
    }
    return true;
  }

  private static final Set<String> PRIORITY_RANGE_OPS = Set.of("=", "<", "<=", ">", ">=");

  /**
   * The positions {@code [lo, hi)} of the Queued index (priority desc, uuid asc) that the query's
   * priority filters keep.
   */
  private int[] priorityRange(QueuedTree tree) {
    int lo = 0;
    int hi = tree.size();
    for (Filter f : filters) {
      if (f.attr() != Attr.PRIORITY || !PRIORITY_RANGE_OPS.contains(f.op())) {
        continue;
      }
      BigDecimal x = (BigDecimal) key(Attr.PRIORITY, f.operand());
      int above = tree.prefix(p -> BigDecimal.valueOf(p).compareTo(x) > 0);
      int atOrAbove = tree.prefix(p -> BigDecimal.valueOf(p).compareTo(x) >= 0);
      switch (f.op()) {
        case ">":
          hi = Math.min(hi, above);
          break;
        case ">=":
          hi = Math.min(hi, atOrAbove);
          break;
        case "<":
          lo = Math.max(lo, atOrAbove);
          break;
        case "<=":
          lo = Math.max(lo, above);
          break;
        default: // "="
          lo = Math.max(lo, above);
          hi = Math.min(hi, atOrAbove);
      }
    }
    return new int[] {lo, Math.max(lo, hi)};
  }

  /** Every Queued record that the query's priority range keeps, plus any unordered ones. */
  private List<ContainerRecord> queuedCandidates(ContainerIndex.QueuedView v) {
    int[] r = priorityRange(v.tree());
    List<ContainerRecord> rows = v.tree().range(r[0], r[1]);
    rows.addAll(v.unordered());
    return rows;
  }

  /**
   * What the Queued index gives for a directly pageable query (read under the index's lock, used
   * after it): the answer's records at logical positions {@code [base, base + rows.size())} in tree
   * order ({@code priority desc, uuid asc}, reversed for {@code priority asc}) or, when {@code
   * sort}, a stretch of whole priority groups to sort by the query's order; {@code total} the
   * count, or -1 when the index holds a Queued record it cannot order.
   */
  private record Slice(List<ContainerRecord> rows, int base, boolean sort, int total) {}

  /**
   * Reads the page and count straight from the Queued index. The range's records are in {@code
   * priority desc, uuid asc} order, so logical position i of the answer is tree position {@code lo
   * + i} (priority desc) or {@code hi - 1 - i} (priority asc). When the order's tie-break after
   * priority is not that uuid order, the page is widened to whole priority groups, which the caller
   * sorts by the query's order: the records of one priority are contiguous in both orders, so the
   * sorted groups are exactly that stretch of the general path's answer. O(log n + page + the
   * priority groups the page touches).
   */
  private Slice queuedSlice(ContainerIndex.QueuedView v) {
    if (!v.unordered().isEmpty()) {
      return new Slice(List.of(), 0, false, -1);
    }
    QueuedTree tree = v.tree();
    int[] r = priorityRange(tree);
    int lo = r[0];
    int hi = r[1];
    int total = hi - lo;
    int from = (int) Math.min(offset, total);
    int to = (int) Math.min((long) offset + limit, total);
    if (from == to) {
      return new Slice(List.of(), from, false, total);
    }
    boolean desc = orders.get(0).desc();
    int start = desc ? lo + from : hi - to;
    int end = desc ? lo + to : hi - from;
    boolean treeTieBreak =
        orders.size() > 1 && orders.get(1).attr() == Attr.UUID && orders.get(1).desc() != desc;
    if (treeTieBreak) {
      List<ContainerRecord> page = tree.range(start, end);
      if (!desc) {
        Collections.reverse(page);
      }
      return new Slice(page, from, false, total);
    }
    long first = tree.priorityAt(start);
    long last = tree.priorityAt(end - 1);
    int groupStart = tree.prefix(p -> p > first);
    int groupEnd = tree.prefix(p -> p >= last);
    List<ContainerRecord> block = tree.range(groupStart, groupEnd);
    return new Slice(block, desc ? groupStart - lo : hi - groupEnd, true, total);
  }

  /** The answer of a directly pageable query from its slice of the Queued index. */
  private Answer queuedPage(Slice slice) {
    int from = (int) Math.min(offset, slice.total);
    int to = (int) Math.min((long) offset + limit, slice.total);
    List<ContainerRecord> rows = slice.rows;
    if (slice.sort) {
      rows = new ArrayList<>(rows);
      rows.sort(comparator());
    }
    List<ContainerRecord> page = rows.subList(from - slice.base, to - slice.base);
    return new Answer(envelope(page, slice.total), Plan.QUEUED_PAGE, slice.rows.size());
  }

  /** The envelope of one page of the sorted matches, {@code total} matches in all. */
  private JsonObject envelope(List<ContainerRecord> page, long total) {
    JsonObject o = new JsonObject();
    o.addProperty("kind", "arvados#containerList");
    o.addProperty("etag", "");
    o.addProperty("self_link", "");
    o.addProperty("offset", offset);
    o.addProperty("limit", limit);
    JsonArray items = new JsonArray();
    for (ContainerRecord r : page) {
      if (select == null) {
        items.add(r.render());
      } else {
        JsonObject item = r.render(select);
        if (!item.has("kind")) {
          item.addProperty("kind", ContainerRecord.KIND);
        }
        items.add(item);
      }
    }
    o.add("items", items);
    if (countExact) {
      o.addProperty("items_available", total);
    }
    return o;
  }

  @Override
  public String toString() {
    return "ListQuery[filters=" + filters.size() + ", limit=" + limit + ", offset=" + offset + "]";
  }
}
