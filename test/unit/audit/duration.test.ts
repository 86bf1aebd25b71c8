import {describe, expect, it} from 'vitest'
import {ExitCode} from '../../../src/cli/errors.js'
import {parseDuration} from '../../../src/audit/duration.js'

const H = 3_600_000
const D = 24 * H

describe('parseDuration', () => {
  it.each([
    ['7d', 7 * D],
    ['24h', 24 * H],
    ['90m', 90 * 60_000],
    ['1h30m', 1.5 * H],
    ['2w', 14 * D],
    ['1mo', 30 * D],
    ['1y', 365 * D],
    ['1y2mo', 425 * D],
    ['1.5h', 1.5 * H],
    ['.5h', 0.5 * H],
    ['45s', 45_000],
    ['300ms', 300],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['1d12h', 36 * H],
    ['0', 0],
    [' 7d ', 7 * D],
  ])('%s → %d ms', (input, expected) => {
    expect(parseDuration(input)).toBeCloseTo(expected, 9)
  })

  it.each(['', '7', 'd', '7x', '-1h', '+1h', '1h 30m', '7D', '1e3h', 'h1', '1m30', 'one day', '1..5h'])('rejects %j as a usage error', (input) => {
    expect(() => parseDuration(input)).toThrow(expect.objectContaining({code: 'USAGE', exitCode: ExitCode.USAGE}))
    expect(() => parseDuration(input)).toThrow(/invalid duration/)
  })
})
