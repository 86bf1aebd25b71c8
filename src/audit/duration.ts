/**
 * Durations as `tcloud audit export --since` accepts them: Go durations (`1h30m`, `90m`, `1.5h`, `300ms`) plus
 * `d` (day), `w` (week), `mo` (30 days) and `y` (365 days). Negative durations are refused: every use in
 * kmsguard is a look-back window.
 */
import {usageError} from '../cli/errors.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: HOUR, d: DAY, w: 7 * DAY, mo: 30 * DAY, y: 365 * DAY,
}

/** One number-and-unit term; longer units first so `ms` and `mo` win over `m`. */
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|mo|s|m|h|d|w|y)/y

/** Milliseconds in `text`; a usage error (exit 2) when it is not a duration. */
export const parseDuration = (text: string): number => {
  const input = text.trim()
  const invalid = () => usageError(`invalid duration "${text}"`, 'use a number and a unit, e.g. 90m, 24h, 1h30m, 7d, 2w, 1mo or 1y')
  if (input === '0') return 0
  if (input === '') throw invalid()
  let total = 0
  TERM.lastIndex = 0
  while (TERM.lastIndex < input.length) {
    const match = TERM.exec(input)
    if (match === null) throw invalid()
    total += Number(match[1]) * UNIT_MS[match[2]]
  }
  if (!Number.isFinite(total)) throw invalid()
  return total
}
