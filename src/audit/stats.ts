/**
 * Robust statistics over mostly-zero series. An hourly count series is kept sparse: the hours with events,
 * plus a count of hours filled with one constant (zero for counts). Order statistics are taken from the
 * sorted sparse values and the fill block without materialising the whole series.
 */

/** The k-th smallest (0-based) of `sorted` ∪ `fillCount` copies of `fill`; `sorted` must be ascending. */
const kth = (sorted: readonly number[], fill: number, fillCount: number, k: number): number => {
  let below = 0
  while (below < sorted.length && sorted[below] < fill) below++
  if (k < below) return sorted[k]
  if (k < below + fillCount) return fill
  return sorted[k - fillCount]
}

/** Median of `sorted` (ascending) together with `fillCount` copies of `fill`. */
export const medianWithFill = (sorted: readonly number[], fill: number, fillCount: number): number => {
  const n = sorted.length + fillCount
  if (n === 0) return 0
  const upper = kth(sorted, fill, fillCount, Math.floor(n / 2))
  return n % 2 === 1 ? upper : (kth(sorted, fill, fillCount, n / 2 - 1) + upper) / 2
}

/** Median and median absolute deviation of `values` together with `zeros` zero entries. */
export const medianAndMad = (values: readonly number[], zeros: number): {median: number; mad: number} => {
  const sorted = [...values].sort((a, b) => a - b)
  const median = medianWithFill(sorted, 0, zeros)
  const deviations = sorted.map((value) => Math.abs(value - median)).sort((a, b) => a - b)
  return {median, mad: medianWithFill(deviations, median, zeros)}
}
