package dev.crunchguard.benchmarks;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report the bench command prints on stdout: Markdown, or with {@code --json} the same content
 * as one JSON object (sections of text, sub-headings and tables, then the targets; the shape is
 * documented in {@code src/docs/cli.md}).
 */
final class Report {
  /** One of the targets, judged against a figure measured in this run. */
  record Target(String part, String target, String measured, boolean met) {}

  private final StringBuilder body = new StringBuilder();
  private final List<Target> targets = new ArrayList<>();
  private final JsonArray sections = new JsonArray();
  private JsonArray blocks = section("");

  private JsonArray section(String title) {
    JsonObject s = new JsonObject();
    s.addProperty("title", title);
    JsonArray b = new JsonArray();
    s.add("blocks", b);
    sections.add(s);
    return b;
  }

  void heading(String text) {
    body.append("\n## ").append(text).append("\n\n");
    blocks = section(text);
  }

  void sub(String text) {
    body.append("\n### ").append(text).append("\n\n");
    JsonObject h = new JsonObject();
    h.addProperty("type", "heading");
    h.addProperty("text", text);
    blocks.add(h);
  }

  void line(String text) {
    body.append(text).append('\n');
    text(text + "\n");
  }

  void para(String text) {
    body.append(text).append("\n\n");
    text(text + "\n\n");
  }

  void printf(String fmt, Object... args) {
    String text = String.format(Locale.ROOT, fmt, args);
    body.append(text);
    text(text);
  }

  /** Text of the JSON form: consecutive pieces of text make one block. */
  private void text(String text) {
    if (!blocks.isEmpty()) {
      JsonObject last = blocks.get(blocks.size() - 1).getAsJsonObject();
      if (last.get("type").getAsString().equals("text")) {
        last.addProperty("text", last.get("text").getAsString() + text);
        return;
      }
    }
    JsonObject t = new JsonObject();
    t.addProperty("type", "text");
    t.addProperty("text", text);
    blocks.add(t);
  }

  /** A table; every row must have as many cells as the header. */
  void table(List<String> header, List<List<String>> rows) {
    JsonObject t = new JsonObject();
    t.addProperty("type", "table");
    t.add("header", strings(header));
    JsonArray r = new JsonArray();
    for (List<String> row : rows) {
      if (row.size() != header.size()) {
        throw new IllegalArgumentException(
            "row has " + row.size() + " cells, header " + header.size() + ": " + row);
      }
      r.add(strings(row));
    }
    t.add("rows", r);
    blocks.add(t);
    markdownTable(body, header, rows);
  }

  private static JsonArray strings(List<String> cells) {
    JsonArray a = new JsonArray();
    cells.forEach(a::add);
    return a;
  }

  private static void markdownTable(
      StringBuilder out, List<String> header, List<List<String>> rows) {
    row(out, header);
    StringBuilder sep = new StringBuilder("|");
    for (int i = 0; i < header.size(); i++) {
      sep.append("---|");
    }
    out.append(sep).append('\n');
    for (List<String> r : rows) {
      row(out, r);
    }
    out.append('\n');
  }

  private static void row(StringBuilder out, List<String> cells) {
    out.append('|');
    for (String c : cells) {
      out.append(' ').append(c.replace("|", "\\|")).append(" |");
    }
    out.append('\n');
  }

  void target(String part, String target, String measured, boolean met) {
    targets.add(new Target(part, target, measured, met));
  }

  List<Target> targets() {
    return targets;
  }

  String render(String title, String preamble) {
    StringBuilder out = new StringBuilder();
    out.append("# ").append(title).append("\n\n").append(preamble).append('\n');
    out.append(body);
    out.append("\n## Targets\n\n");
    List<List<String>> rows = new ArrayList<>();
    for (Target t : targets) {
      rows.add(List.of(t.part(), t.target(), t.measured(), t.met() ? "met" : "not met"));
    }
    markdownTable(out, List.of("part", "target", "measured", "result"), rows);
    return out.toString();
  }

  /**
   * The sections (text, sub-headings and tables, in report order) and the targets, for the JSON
   * form; the caller adds the run's header fields.
   */
  JsonObject json() {
    JsonObject o = new JsonObject();
    JsonArray s = new JsonArray();
    for (int i = 0; i < sections.size(); i++) {
      JsonObject section = sections.get(i).getAsJsonObject();
      if (!section.get("title").getAsString().isEmpty()
          || !section.getAsJsonArray("blocks").isEmpty()) {
        s.add(section);
      }
    }
    o.add("sections", s);
    JsonArray t = new JsonArray();
    for (Target target : targets) {
      JsonObject j = new JsonObject();
      j.addProperty("part", target.part());
      j.addProperty("target", target.target());
      j.addProperty("measured", target.measured());
      j.addProperty("met", target.met());
      t.add(j);
    }
    o.add("targets", t);
    return o;
  }
}
