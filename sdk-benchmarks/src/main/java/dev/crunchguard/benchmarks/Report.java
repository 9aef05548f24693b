package dev.crunchguard.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The Markdown report the bench command prints on stdout. */
final class Report {
  /** One of the targets, judged against a figure measured in this run. */
  record Target(String part, String target, String measured, boolean met) {}

  private final StringBuilder body = new StringBuilder();
  private final List<Target> targets = new ArrayList<>();

  void heading(String text) {
    body.append("\n## ").append(text).append("\n\n");
  }

  void sub(String text) {
    body.append("\n### ").append(text).append("\n\n");
  }

  void line(String text) {
    body.append(text).append('\n');
  }

  void para(String text) {
    body.append(text).append("\n\n");
  }

  void printf(String fmt, Object... args) {
    body.append(String.format(Locale.ROOT, fmt, args));
  }

  /** A Markdown table; every row must have as many cells as the header. */
  void table(List<String> header, List<List<String>> rows) {
    row(header);
    StringBuilder sep = new StringBuilder("|");
    for (int i = 0; i < header.size(); i++) {
      sep.append("---|");
    }
    body.append(sep).append('\n');
    for (List<String> r : rows) {
      if (r.size() != header.size()) {
        throw new IllegalArgumentException(
            "row has " + r.size() + " cells, header " + header.size() + ": " + r);
      }
      row(r);
    }
    body.append('\n');
  }

  private void row(List<String> cells) {
    body.append('|');
    for (String c : cells) {
      body.append(' ').append(c.replace("|", "\\|")).append(" |");
    }
    body.append('\n');
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
    Report tr = new Report();
    tr.table(List.of("part", "target", "measured", "result"), rows);
    out.append(tr.body);
    return out.toString();
  }
}
