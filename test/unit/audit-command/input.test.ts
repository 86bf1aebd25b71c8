import {describe, expect, it} from 'vitest'
import {KmsGuardError} from '../../../src/cli/errors.js'
import {auditWindow, parseExpectedPrincipals, parseInstant, parseSince} from '../../../src/operations/audit.js'
import {DAY, HOUR, NOW} from './fixtures.js'

const now = new Date(NOW)

const usage = (fn: () => unknown): KmsGuardError => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(KmsGuardError)
    expect((error as KmsGuardError).exitCode).toBe(2)
    return error as KmsGuardError
  }
  throw new Error('expected a usage error')
}

describe('parseInstant', () => {
  it('reads a date as UTC midnight, and as the next midnight for an inclusive end', () => {
    expect(parseInstant('2026-11-30', '--from').toISOString()).toBe('2026-11-30T00:00:00.000Z')
    expect(parseInstant('2026-11-30', '--to', {endOfDay: true}).toISOString()).toBe('2026-12-01T00:00:00.000Z')
    expect(parseInstant('2024-02-29', '--from').toISOString()).toBe('2024-02-29T00:00:00.000Z')
  })

  it('reads RFC 3339 times with Z, offsets and fractions; the day is not extended', () => {
    expect(parseInstant('2026-12-01T08:30:00Z', '--from').toISOString()).toBe('2026-12-01T08:30:00.000Z')
    expect(parseInstant('2026-12-01T08:30:00+02:00', '--from').toISOString()).toBe('2026-12-01T06:30:00.000Z')
    expect(parseInstant('2026-12-01t08:30:00.123456-01:30', '--to', {endOfDay: true}).toISOString()).toBe('2026-12-01T10:00:00.123Z')
  })

  it.each(['2026-02-30', '2026-13-01', '2025-02-29', '2026-12-01T24:00:00Z', '2026-12-01T08:60:00Z', '2026-12-01T08:00:00', '2026-12-01T08:00:00+24:00', '12/01/2026', 'yesterday', '', '0050-01-01'])(
    'refuses %j with exit 2 naming the flag', (text) => {
      expect(usage(() => parseInstant(text, '--from')).message).toMatch(/^--from ".*" is not a date \(YYYY-MM-DD\) or an RFC 3339 time/)
    })
})

describe('parseSince', () => {
  it('takes a duration back from now, or a date', () => {
    expect(parseSince('7d', '--since', now).getTime()).toBe(NOW - 7 * DAY)
    expect(parseSince('1h30m', '--since', now).getTime()).toBe(NOW - 1.5 * HOUR)
    expect(parseSince('2026-12-01', '--since', now).toISOString()).toBe('2026-12-01T00:00:00.000Z')
  })

  it('refuses zero, junk and impossible dates', () => {
    expect(usage(() => parseSince('0', '--since', now)).message).toBe('--since must look back more than 0')
    expect(usage(() => parseSince('a week', '--since', now)).message).toBe('--since "a week" is neither a duration nor a date')
    expect(usage(() => parseSince('2026-02-31', '--since', now)).message).toMatch(/is not a date/)
  })
})

describe('auditWindow', () => {
  it('defaults to the last 7 days', () => {
    expect(auditWindow({}, now)).toEqual({from: new Date(NOW - 7 * DAY), to: now})
    expect(auditWindow({since: '24h'}, now)).toEqual({from: new Date(NOW - DAY), to: now})
  })

  it('--from/--to: the --to day is included; --from alone runs to now', () => {
    expect(auditWindow({from: '2026-11-01', to: '2026-11-30'}, now)).toEqual({from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z')})
    expect(auditWindow({from: '2026-11-01T00:00:00Z', to: '2026-11-01T06:00:00Z'}, now).to).toEqual(new Date('2026-11-01T06:00:00Z'))
    expect(auditWindow({from: '2026-12-01'}, now)).toEqual({from: new Date('2026-12-01T00:00:00Z'), to: now})
    expect(auditWindow({from: '2026-12-04', to: '2026-12-04'}, now)).toEqual({from: new Date('2026-12-04T00:00:00Z'), to: new Date('2026-12-05T00:00:00Z')})
  })

  it('refuses --to without --from, --since with --from, an inverted or empty window, and bad values', () => {
    expect(usage(() => auditWindow({to: '2026-11-30'}, now)).message).toBe('--to needs --from')
    expect(usage(() => auditWindow({since: '7d', from: '2026-11-01'}, now)).message).toBe('--since cannot be combined with --from/--to')
    expect(usage(() => auditWindow({from: '2026-11-30', to: '2026-11-01'}, now)).message).toMatch(/^the review window is empty: it starts 2026-11-30T00:00:00.000Z and ends 2026-11-02T00:00:00.000Z/)
    expect(usage(() => auditWindow({from: '2026-12-01T10:00:00Z', to: '2026-12-01T10:00:00Z'}, now)).message).toMatch(/window is empty/)
    expect(usage(() => auditWindow({from: '2027-01-01'}, now)).message).toMatch(/window is empty/)
    expect(usage(() => auditWindow({from: '2026-11-01', to: '2026-11-31'}, now)).message).toMatch(/^--to "2026-11-31" is not a date/)
    expect(usage(() => auditWindow({since: '-3d'}, now)).message).toMatch(/neither a duration nor a date/)
  })
})

describe('parseExpectedPrincipals', () => {
  it('reads one principal per line, skipping comments, blank lines and trailing comments', () => {
    const text = '\uFEFF# expected callers\r\nalice@example.com\r\n\r\n  sub-123  \nsvc-deployer # the CI account\nAlice Smith\nodd#name@example.com\n'
    expect([...parseExpectedPrincipals(text, 'p.txt')]).toEqual(['alice@example.com', 'sub-123', 'svc-deployer', 'Alice Smith', 'odd#name@example.com'])
  })

  it('refuses a file that lists nobody', () => {
    expect(usage(() => parseExpectedPrincipals('# nobody yet\n\n', 'p.txt')).message).toBe('p.txt lists no principals')
  })
})
