/**
 * Property-based checks (fast-check, ~200 runs each) of the pure input parsers, in process: for arbitrary
 * input each one either accepts exactly its grammar — returning the value the grammar says — or refuses with a
 * usage error (exit 2). Never anything in between, never an unexpected exception. The grammars are written out
 * here independently of the implementation.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {parseDuration} from '../../src/audit/duration.js'
import {toKmsGuardError} from '../../src/cli/base.js'
import {ExitCode, KmsGuardError} from '../../src/cli/errors.js'
import {parseLabels} from '../../src/cli/flags.js'
import {validateEndpoint} from '../../src/config/resolve.js'
import {parseSetting, SETTINGS} from '../../src/config/settings.js'
import {validateKeyArg} from '../../src/guards/key.js'
import {parseRotationDays} from '../../src/guards/policy.js'
import {validateElevationId} from '../../src/operations/binding.js'
import {parseElevationDuration} from '../../src/operations/export-request.js'

const RUNS = {numRuns: 200}
// A fixed seed: the same 200 cases on every run, so a failure is reproducible and never intermittent.
fc.configureGlobal({seed: 20261204})

/** Runs fn; returns its value, or the usage error it threw. Any other exception fails the property. */
function outcome<T>(fn: () => T): {ok: true; value: T} | {ok: false; error: KmsGuardError} {
  try {
    return {ok: true, value: fn()}
  } catch (raw) {
    const error = toKmsGuardError(raw)
    expect(error.exitCode, `not a usage error: ${(raw as Error).message}`).toBe(ExitCode.USAGE)
    return {ok: false, error}
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F]/
const CONTROL_CHAR = fc.oneof(fc.integer({min: 0, max: 0x1f}), fc.constant(0x7f), fc.constantFrom(9, 10, 11, 12, 13)).map((c) => String.fromCharCode(c))
const anyText = fc.string({unit: 'binary', maxLength: 80})
const plainText = fc.string({unit: fc.constantFrom(...'ab-_.9 é'), minLength: 1, maxLength: 20})
/** Text with at least one control character: at the start, at the end, or anywhere inside. */
const withControl = fc.oneof(
  fc.tuple(CONTROL_CHAR, plainText).map(([c, b]) => c + b),
  fc.tuple(plainText, CONTROL_CHAR).map(([a, c]) => a + c),
  fc.tuple(anyText, CONTROL_CHAR, anyText).map(([a, c, b]) => a + c + b),
)

describe('parseLabels (--label KEY=VALUE)', () => {
  const alnum = (c: string) => /^[A-Za-z0-9]$/.test(c)
  /** Label key: 1–64 of letters, digits, . _ - /, beginning and ending with a letter or digit. */
  const validKey = (k: string) => k.length >= 1 && k.length <= 64 && alnum(k[0]) && alnum(k[k.length - 1]) && [...k].every((c) => alnum(c) || '._-/'.includes(c))
  /** Label value: at most 253 characters, no '=' (a "k==v" typo) and no control characters; may be empty. */
  const validValue = (v: string) => v.length <= 253 && !v.includes('=') && !CONTROL.test(v)
  const keyLike = fc.oneof(fc.string({unit: fc.constantFrom(...'aZ09._-/ ü'), maxLength: 70}), anyText).filter((k) => !k.includes('='))

  it('accepts a key exactly when it follows the key grammar, and returns {key: value}', () => {
    fc.assert(fc.property(keyLike, (k) => {
      const r = outcome(() => parseLabels([`${k}=v`]))
      expect(r.ok).toBe(validKey(k))
      if (r.ok) expect(r.value).toEqual({[k]: 'v'})
    }), RUNS)
  })

  it('refuses a value with a control character (a newline or an escape sequence would reach the API and terminals)', () => {
    fc.assert(fc.property(withControl.filter((v) => !v.includes('=') && v.length <= 253), (v) => {
      expect(outcome(() => parseLabels([`team=${v}`])).ok, JSON.stringify(v)).toBe(false)
    }), RUNS)
  })

  it('refuses a value containing "=" (the "k==v" typo)', () => {
    const withEquals = fc.tuple(fc.stringMatching(/^[a-z]{0,5}$/), fc.stringMatching(/^[a-z]{0,5}$/)).map(([a, b]) => `${a}=${b}`)
    fc.assert(fc.property(withEquals, (v) => {
      expect(outcome(() => parseLabels([`team=${v}`])).ok, `team=${v}`).toBe(false)
    }), RUNS)
  })

  it('accepts printable values of at most 253 characters as themselves, and refuses longer ones', () => {
    const printable = fc.string({unit: fc.constantFrom(...'aZ09 ._-/:ü'), maxLength: 260})
    fc.assert(fc.property(printable, (v) => {
      const r = outcome(() => parseLabels([`team=${v}`]))
      expect(r.ok).toBe(validValue(v))
      if (r.ok) expect(r.value).toEqual({team: v})
    }), RUNS)
  })

  it('refuses anything without "=" and names the bad label in the message', () => {
    fc.assert(fc.property(anyText.filter((s) => !s.includes('=')), (s) => {
      const r = outcome(() => parseLabels([s]))
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.message).toContain('--label')
    }), RUNS)
  })
})

describe('parseSetting (kmsguard config set NAME VALUE)', () => {
  const integers = ['concurrency', 'rotationPeriodDays', 'timeoutSeconds'] as const

  it('integer settings accept exactly the decimal whole numbers within their range', () => {
    const raw = fc.oneof(fc.integer({min: -100, max: 5000}).map(String), anyText, fc.constantFrom('1.5', '1e2', ' 5', '0x10', '007', '+5', ''))
    fc.assert(fc.property(fc.constantFrom(...integers), raw, (name, text) => {
      const spec = SETTINGS[name]
      const n = Number(text)
      const valid = /^[0-9]+$/.test(text) && n >= spec.min && n <= spec.max
      const r = outcome(() => parseSetting(name, text))
      expect(r.ok, `${name} ${JSON.stringify(text)}`).toBe(valid)
      if (r.ok) expect(r.value).toBe(n)
    }), RUNS)
  })

  it('region accepts exactly lower-case slugs; exportPolicy exactly policy identities or slugs', () => {
    const raw = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/), anyText)
    fc.assert(fc.property(fc.constantFrom('region', 'exportPolicy') as fc.Arbitrary<'region' | 'exportPolicy'>, raw, (name, text) => {
      const valid = name === 'region'
        ? /^[a-z0-9]/.test(text) && text.length <= 63 && /^[a-z0-9-]+$/.test(text)
        : /^[A-Za-z0-9]/.test(text) && text.length <= 128 && /^[A-Za-z0-9._:-]+$/.test(text)
      const r = outcome(() => parseSetting(name, text))
      expect(r.ok, `${name} ${JSON.stringify(text)}`).toBe(valid)
      if (r.ok) expect(r.value).toBe(text)
    }), RUNS)
  })
})

describe('validateKeyArg (KEY)', () => {
  it('refuses every KEY that contains a control character, wherever it is', () => {
    fc.assert(fc.property(withControl, (k) => {
      expect(outcome(() => validateKeyArg(k)).ok, JSON.stringify(k)).toBe(false)
    }), RUNS)
  })

  it('accepts printable KEYs of 1–255 characters (surrounding spaces trimmed) and refuses longer or blank ones', () => {
    const printable = fc.string({unit: fc.constantFrom(...'ab-_. é9'), maxLength: 300})
    fc.assert(fc.property(printable, (k) => {
      const trimmed = k.trim()
      const r = outcome(() => validateKeyArg(k))
      expect(r.ok).toBe(trimmed.length >= 1 && trimmed.length <= 255)
      if (r.ok) expect(r.value).toBe(trimmed)
    }), RUNS)
  })
})

describe('parseElevationDuration (export:request --duration)', () => {
  const canonical = (minutes: number) => `${minutes >= 60 ? `${Math.floor(minutes / 60)}h` : ''}${minutes % 60 ? `${minutes % 60}m` : ''}`

  it('every whole-minute duration from 5m to 24h parses, in h/m spellings, to its canonical form', () => {
    fc.assert(fc.property(fc.integer({min: 5, max: 1440}), fc.boolean(), (minutes, asMinutes) => {
      const h = Math.floor(minutes / 60)
      const m = minutes % 60
      const text = asMinutes && minutes <= 9999 ? `${minutes}m` : `${h ? `${h}h` : ''}${m ? `${m}m` : ''}`
      expect(parseElevationDuration(text)).toBe(canonical(minutes))
    }), RUNS)
  })

  it('durations shorter than 5m or longer than 24h are refused', () => {
    const outside = fc.oneof(fc.integer({min: 0, max: 4}), fc.integer({min: 1441, max: 99 * 60 + 9999}))
    fc.assert(fc.property(outside, (minutes) => {
      const text = minutes === 0 ? '0m' : `${Math.floor(minutes / 60) ? `${Math.floor(minutes / 60)}h` : ''}${minutes % 60 ? `${minutes % 60}m` : ''}`
      const r = outcome(() => parseElevationDuration(text))
      expect(r.ok, text).toBe(false)
      if (!r.ok) expect(r.error.code).toBe('INVALID_DURATION')
    }), RUNS)
  })

  it('arbitrary text is refused or yields a canonical duration that parses to itself', () => {
    fc.assert(fc.property(fc.oneof(anyText, fc.stringMatching(/^\d{0,3}[hmd]?\d{0,4}[hms]?$/)), (text) => {
      const r = outcome(() => parseElevationDuration(text))
      if (r.ok) expect(parseElevationDuration(r.value)).toBe(r.value)
    }), RUNS)
  })

  it('the named bad inputs are refused: 0m, 25h, 1d, abc, -1h, 1.5h, empty', () => {
    for (const text of ['0m', '25h', '1d', 'abc', '-1h', '1.5h', '', '24h1m', '4m']) expect(outcome(() => parseElevationDuration(text)).ok, text).toBe(false)
  })
})

describe('parseDuration (audit --since, journal --since)', () => {
  const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

  it('a sequence of number-unit terms is the sum of its terms', () => {
    const term = fc.tuple(fc.integer({min: 0, max: 500}), fc.constantFrom(...Object.keys(UNITS)))
    fc.assert(fc.property(fc.array(term, {minLength: 1, maxLength: 4}), (terms) => {
      const text = terms.map(([n, u]) => `${n}${u}`).join('')
      expect(parseDuration(text)).toBe(terms.reduce((sum, [n, u]) => sum + n * UNITS[u], 0))
    }), RUNS)
  })

  it('arbitrary text is refused as a usage error or gives a finite, non-negative number of milliseconds', () => {
    fc.assert(fc.property(fc.oneof(anyText, fc.stringMatching(/^-?\d{0,4}(\.\d{0,2})?(ms|mo|[smhdwy])?$/)), (text) => {
      const r = outcome(() => parseDuration(text))
      if (r.ok) {
        expect(Number.isFinite(r.value)).toBe(true)
        expect(r.value).toBeGreaterThanOrEqual(0)
      }
    }), RUNS)
  })

  it('negative durations are refused', () => {
    fc.assert(fc.property(fc.integer({min: 1, max: 1000}), fc.constantFrom('m', 'h', 'd'), (n, u) => {
      expect(outcome(() => parseDuration(`-${n}${u}`)).ok).toBe(false)
    }), RUNS)
  })
})

describe('parseRotationDays (create --rotation-period, rotate --schedule)', () => {
  it('every whole number outside 1..3650 is refused with INVALID_ROTATION_PERIOD', () => {
    const outside = fc.oneof(fc.integer({min: -1_000_000, max: 0}), fc.integer({min: 3651, max: 10_000_000}))
    fc.assert(fc.property(outside, (n) => {
      const r = outcome(() => parseRotationDays(String(n), '--rotation-period'))
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.code).toBe('INVALID_ROTATION_PERIOD')
    }), RUNS)
  })

  it('every whole number in 1..3650 is accepted as itself; fractions never are', () => {
    fc.assert(fc.property(fc.integer({min: 1, max: 3650}), fc.integer({min: 1, max: 9}), (n, tenth) => {
      expect(parseRotationDays(String(n), '--schedule')).toBe(n)
      expect(outcome(() => parseRotationDays(`${n}.${tenth}`, '--schedule')).ok).toBe(false)
    }), RUNS)
  })

  it('arbitrary text is refused or gives a whole number of days in range', () => {
    fc.assert(fc.property(anyText, (text) => {
      const r = outcome(() => parseRotationDays(text, '--rotation-period'))
      if (r.ok) expect(Number.isInteger(r.value) && r.value! >= 1 && r.value! <= 3650).toBe(true)
    }), RUNS)
  })
})

describe('validateElevationId (--approval, approve ELEVATION)', () => {
  it('anything with a shell metacharacter, a path separator or an inner space is refused', () => {
    const bad = fc.tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.constantFrom(...'$`;|&<>()\'"\\/ *?!{}[]~#'), fc.stringMatching(/^[a-z0-9-]{1,10}$/)).map(([a, c, b]) => a + c + b)
    fc.assert(fc.property(bad, (id) => {
      expect(outcome(() => validateElevationId(id, '--approval')).ok, JSON.stringify(id)).toBe(false)
    }), RUNS)
  })

  it('anything with a control character (a newline, a tab), wherever it is, is refused', () => {
    fc.assert(fc.property(fc.tuple(fc.stringMatching(/^[a-z0-9-]{0,10}$/), CONTROL_CHAR, fc.stringMatching(/^[a-z0-9-]{0,10}$/)).map(([a, c, b]) => a + c + b), (id) => {
      expect(outcome(() => validateElevationId(id, '--approval')).ok, JSON.stringify(id)).toBe(false)
    }), RUNS)
  })

  it('identities of letters, digits and . _ : - up to 128 characters are accepted as themselves', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/), (id) => {
      expect(validateElevationId(id, '--approval')).toBe(id)
    }), RUNS)
    expect(outcome(() => validateElevationId('a'.repeat(129), '--approval')).ok).toBe(false)
    expect(outcome(() => validateElevationId('../x', '--approval')).ok).toBe(false)
  })
})

describe('validateEndpoint (--endpoint, THALASSA_API_ENDPOINT, tcloud server)', () => {
  const notLoopback = fc.domain().filter((d) => d !== 'localhost' && !/^127\./.test(d))

  it('plain http:// to any host that is not loopback is refused as INSECURE_ENDPOINT', () => {
    fc.assert(fc.property(notLoopback, (host) => {
      const r = outcome(() => validateEndpoint(`http://${host}`, 'flag --endpoint'))
      expect(r.ok, host).toBe(false)
      if (!r.ok) expect(r.error.code).toBe('INSECURE_ENDPOINT')
    }), RUNS)
  })

  it('https:// to any host is accepted; http:// to 127.0.0.0/8 is accepted', () => {
    fc.assert(fc.property(notLoopback, fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)), (host, [a, b, c]) => {
      expect(validateEndpoint(`https://${host}/`, 'x')).toBe(`https://${host}`)
      expect(outcome(() => validateEndpoint(`http://127.${a}.${b}.${c}:8200`, 'x')).ok).toBe(true)
    }), RUNS)
  })

  it('credentials in the URL are refused and never repeated in the message', () => {
    const password = fc.stringMatching(/^[A-Za-z0-9]{8,20}$/)
    fc.assert(fc.property(password, fc.constantFrom('https', 'http'), fc.constantFrom('api.example.test', '127.0.0.1:8200'), (pw, scheme, host) => {
      const r = outcome(() => validateEndpoint(`${scheme}://admin:${pw}@${host}`, 'env THALASSA_API_ENDPOINT'))
      expect(r.ok).toBe(false)
      if (!r.ok) expect(`${r.error.message} ${r.error.hint ?? ''}`).not.toContain(pw)
    }), RUNS)
  })

  it('other schemes are refused: ftp://, file://, ws://', () => {
    for (const url of ['ftp://api.example.test', 'file:///etc/passwd', 'ws://127.0.0.1:8200']) expect(outcome(() => validateEndpoint(url, 'x')).ok, url).toBe(false)
  })
})
