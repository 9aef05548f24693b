package dev.crunchguard.benchmarks;

import java.util.Arrays;
import java.util.Locale;

/** Order statistics of a sample: what the report prints as a figure with its spread. */
record Summary(
    int n,
    double min,
    double p10,
    double p25,
    double median,
    double p75,
    double p90,
    double p99,
    double max,
    double mean) {

  static Summary of(double[] values) {
    if (values.length == 0) {
      return new Summary(
          0,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          Double.NaN);
    }
    double[] v = values.clone();
    Arrays.sort(v);
    double sum = 0;
    for (double x : v) {
      sum += x;
    }
    return new Summary(
        v.length,
        v[0],
        pct(v, 10),
        pct(v, 25),
        pct(v, 50),
        pct(v, 75),
        pct(v, 90),
        pct(v, 99),
        v[v.length - 1],
        sum / v.length);
  }

  static Summary ofLongs(long[] values) {
    double[] d = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      d[i] = values[i];
    }
    return of(d);
  }

  /** Linear interpolation between closest ranks. */
  static double pct(double[] sorted, double p) {
    if (sorted.length == 1) {
      return sorted[0];
    }
    double rank = p / 100.0 * (sorted.length - 1);
    int lo = (int) Math.floor(rank);
    int hi = (int) Math.ceil(rank);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
  }

  Summary scaled(double factor) {
    return new Summary(
        n,
        min * factor,
        p10 * factor,
        p25 * factor,
        median * factor,
        p75 * factor,
        p90 * factor,
        p99 * factor,
        max * factor,
        mean * factor);
  }

  /** {@code median (p10–p90)} with the given number format. */
  String medianWithSpread(String fmt) {
    return String.format(
        Locale.ROOT, fmt + " (p10 " + fmt + ", p90 " + fmt + ")", median, p10, p90);
  }

  static String f(String fmt, double v) {
    return String.format(Locale.ROOT, fmt, v);
  }
}
