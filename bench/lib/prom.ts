// Prometheus histograms as the benchmarks read them, from the samples test/support/metrics.ts
// parses: a histogram's buckets summed over the series whose labels match, the difference between
// two scrapes, and a quantile estimated from the buckets the way PromQL's histogram_quantile does
// (linear within the bucket). Pure: no I/O.
import { hasLabels, samples } from '../../test/support/metrics.js'
export { counter } from '../../test/support/metrics.js'

export interface Histogram {
  /** Cumulative counts by upper bound, ascending; the last bound is +Inf. */
  buckets: Array<{ le: number, count: number }>
  sum: number
  count: number
}

/** The histogram `name` (without _bucket/_sum/_count), summed over every series whose labels include `labels`. */
export function histogram (text: string, name: string, labels: Record<string, string> = {}): Histogram {
  const byLe = new Map<number, number>()
  let sum = 0
  let count = 0
  for (const s of samples(text)) {
    if (!hasLabels(s.labels, labels)) continue
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le)
      byLe.set(le, (byLe.get(le) ?? 0) + s.value)
    } else if (s.name === `${name}_sum`) sum += s.value
    else if (s.name === `${name}_count`) count += s.value
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, c]) => ({ le, count: c }))
  return { buckets, sum, count }
}

/** What happened between two scrapes of the same histogram (`after` minus `before`). */
export function histogramDelta (before: Histogram, after: Histogram): Histogram {
  const old = new Map(before.buckets.map(b => [b.le, b.count]))
  return {
    buckets: after.buckets.map(b => ({ le: b.le, count: b.count - (old.get(b.le) ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count
  }
}

/**
 * The q-quantile (0..1) estimated from cumulative buckets: linear within the bucket it falls in,
 * the lower bound of the first bucket taken as 0, and the highest finite bound when it falls in
 * +Inf. NaN for an empty histogram.
 */
export function histogramQuantile (h: Histogram, q: number): number {
  const total = h.buckets.at(-1)?.count ?? 0
  if (total <= 0) return Number.NaN
  const rank = q * total
  let lower = 0
  let below = 0
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lower
      const inBucket = b.count - below
      return inBucket <= 0 ? b.le : lower + (b.le - lower) * ((rank - below) / inBucket)
    }
    lower = Number.isFinite(b.le) ? b.le : lower
    below = b.count
  }
  return lower
}

/** The mean of a histogram's observations, NaN when it has none. */
export const histogramMean = (h: Histogram): number => h.count > 0 ? h.sum / h.count : Number.NaN
