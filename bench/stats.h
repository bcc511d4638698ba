/*
 * stats.h - what the benchmarks measure with: a monotonic clock and
 * percentiles of a sample.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

/* Seconds on the monotonic clock. */
double bench_now(void);
/* The p-th percentile (0..1) of v[0..n); sorts v. */
double bench_pct(double *v, int n, double p);

#endif /* BENCH_STATS_H */
