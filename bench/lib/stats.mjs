/** Order statistics for the benchmark figures (nearest-rank, so every figure is a real sample). */

export function sorted(values) {
  return [...values].sort((a, b) => a - b);
}

/** The `p`-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}

export const median = (values) => percentile(values, 50);

/** `{ n, min, p50, p99, max }` of a list of samples. */
export function summary(values) {
  return {
    n: values.length,
    min: values.length ? Math.min(...values) : NaN,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
