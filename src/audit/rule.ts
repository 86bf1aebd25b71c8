/**
 * The decrypt-anomaly rule's parameters and its explanation. Kept free of zod and the analysis code so that
 * `kmsguard audit --help` can show it without loading them.
 */
export const DEFAULT_MAD_K = 5
export const DEFAULT_MIN_HOURLY = 20

/** The decrypt-anomaly rule in words, for `kmsguard audit --help`. */
export const DECRYPT_ANOMALY_RULE =
  'Unusual decrypt volume: for each key and principal, kms.decrypt events are counted per clock hour over every ' +
  'hour of the review window (hours without events count as 0). The baseline is the median of those hourly ' +
  `counts and their median absolute deviation (MAD). An hour is flagged when its count exceeds median + k × max(MAD, 1) ` +
  `(k = ${DEFAULT_MAD_K} unless changed) and is at least ${DEFAULT_MIN_HOURLY} (the minimum hourly count), so quiet ` +
  'keys do not raise alarms over a handful of calls.'
