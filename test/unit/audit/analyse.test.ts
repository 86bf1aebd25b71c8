import {describe, expect, it} from 'vitest'
import {analyseAudit, AuditAccumulator, DECRYPT_ANOMALY_RULE, type AuditOptions} from '../../../src/audit/analyse.js'
import type {AuditEvent} from '../../../src/audit/events.js'
import {DAY, event, HOUR, key} from './fixtures.js'

const from = new Date('2026-12-01T00:00:00.000Z')
const to = new Date('2026-12-08T00:00:00.000Z')
const window: AuditOptions = {from, to}
const HOURS = 168

const at = (hour: number, minute = 0) => from.getTime() + hour * HOUR + minute * 60_000

/** `perHour` decrypts by `user` on `keyId` in every hour of the window, with `override` for chosen hours. */
const decrypts = (user: string, perHour: number, override: Record<number, number> = {}, keyId = 'kms-a'): AuditEvent[] =>
  Array.from({length: HOURS}, (_, hour) => Array.from({length: override[hour] ?? perHour}, (_, n) =>
    event({action: 'kms.decrypt', at: at(hour, n % 60), user, key: keyId, status: 200}))).flat()

describe('analyseAudit: exports', () => {
  it('lists every export in the window and needs attention', () => {
    const report = analyseAudit([
      event({action: 'kms.export', at: at(5), user: 'alice', context: {keyVersion: '2', status: 200}}),
      event({action: 'kms.export', at: at(-1), user: 'bob'}),
      event({action: 'kms.export', at: at(30), user: 'carol', status: 403}),
      event({action: 'kms.encrypt', at: at(6), user: 'alice', status: 200}),
    ], {...window, keys: [key({identity: 'kms-a', slug: 'billing'})]})
    expect(report.exports).toEqual([
      expect.objectContaining({time: new Date(at(5)).toISOString(), principal: 'sub-alice', principalLabel: 'alice@example.com', key: 'kms-a', keySlug: 'billing', keyVersion: '2', status: 200}),
      expect.objectContaining({principal: 'sub-carol', status: 403}),
    ])
    expect(report.needsAttention).toBe(true)
    expect(report.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/key export: billing version 2 by alice@example\.com/), expect.stringMatching(/carol.*failed, HTTP 403/)]))
    expect(report.summary.exports).toMatch(/^2 key exports/)
  })

  it('a quiet window needs no attention', () => {
    const report = analyseAudit([event({action: 'kms.encrypt', at: at(1), user: 'alice', status: 200})], window)
    expect(report).toMatchObject({exports: [], failedCrypto: [], decryptAnomalies: [], needsAttention: false, reasons: []})
    expect(report.summary).toEqual({
      exports: 'no key exports', failedCrypto: 'no failed crypto calls', decryptAnomalies: 'no unusual decrypt volume', rotation: 'rotation not checked (no key list)',
    })
  })
})

describe('analyseAudit: decrypt anomalies', () => {
  it('flags a burst of 200 in one hour against a steady 5/hour baseline, not a steady principal', () => {
    const report = analyseAudit([...decrypts('app', 5, {100: 200}), ...decrypts('steady', 5)], window)
    expect(report.decryptAnomalies).toEqual([{
      key: 'kms-a', principal: 'sub-app', principalLabel: 'app@example.com', median: 5, mad: 0, threshold: 10,
      totalDecrypts: 5 * 167 + 200, hours: [{hour: new Date(at(100)).toISOString(), count: 200}],
    }])
    expect(report.needsAttention).toBe(true)
    expect(report.reasons).toEqual([expect.stringMatching(/unusual decrypt volume by app@example\.com on kms-a: 200 in the hour from .* \(threshold 10\)/)])
  })

  it('uses MAD: a noisy baseline raises the threshold', () => {
    const noisy = Object.fromEntries(Array.from({length: HOURS}, (_, hour) => [hour, hour % 2 === 0 ? 10 : 30]))
    const report = analyseAudit(decrypts('app', 0, {...noisy, 51: 60}), window)
    // median 20 (between 10 and 30), MAD 10 → threshold 20 + 5·10 = 70: an hour of 60 is within the noise
    expect(report.decryptAnomalies).toEqual([])
    const spiky = analyseAudit(decrypts('app', 0, {...noisy, 51: 71}), window)
    expect(spiky.decryptAnomalies).toEqual([expect.objectContaining({median: 20, mad: 10, threshold: 70, hours: [expect.objectContaining({count: 71})]})])
  })

  it('counts hours without decrypts as zeros in the baseline', () => {
    const report = analyseAudit(decrypts('batch', 0, {10: 30, 40: 30, 70: 30}), window)
    expect(report.decryptAnomalies).toEqual([expect.objectContaining({median: 0, mad: 0, threshold: 5, hours: [
      {hour: new Date(at(10)).toISOString(), count: 30}, {hour: new Date(at(40)).toISOString(), count: 30}, {hour: new Date(at(70)).toISOString(), count: 30},
    ]})])
  })

  it('ignores bursts below the minimum hourly count, which is configurable, as is k', () => {
    const events = decrypts('quiet', 0, {3: 15})
    expect(analyseAudit(events, window).decryptAnomalies).toEqual([])
    expect(analyseAudit(events, {...window, minHourlyCount: 10}).decryptAnomalies).toHaveLength(1)
    expect(analyseAudit(decrypts('app', 5, {100: 200}), {...window, madK: 200}).decryptAnomalies).toEqual([])
  })

  it('keeps separate baselines per key and principal', () => {
    const report = analyseAudit([...decrypts('app', 5, {}, 'kms-a'), ...decrypts('app', 5, {20: 100}, 'kms-b')], window)
    expect(report.decryptAnomalies.map((anomaly) => anomaly.key)).toEqual(['kms-b'])
  })

  it('explains the rule for --help', () => {
    expect(DECRYPT_ANOMALY_RULE).toMatch(/median/)
    expect(DECRYPT_ANOMALY_RULE).toMatch(/max\(MAD, 1\)/)
    expect(DECRYPT_ANOMALY_RULE).toMatch(/at least 20/)
  })
})

describe('analyseAudit: failed crypto', () => {
  const events = [
    event({action: 'kms.decrypt', at: at(1), user: 'app', status: 403}),
    event({action: 'kms.decrypt', at: at(2), user: 'app', status: 403}),
    event({action: 'kms.decrypt', at: at(3), user: 'app', status: 200}),
    event({action: 'kms.sign', at: at(4), serviceAccount: 'mallory', key: 'kms-b', context: {responseStatus: '400'}}),
    event({action: 'kms.verify_hmac', at: at(5), serviceAccount: 'mallory', key: 'kms-b', status: 400}),
    event({action: 'kms.sign', at: at(6), serviceAccount: 'mallory', key: 'kms-b', status: 500}),
    event({action: 'kms.rotate', at: at(7), user: 'app', status: 500}),
  ]

  it('groups failures by principal with counts per action and key, marking unexpected principals', () => {
    const report = analyseAudit(events, {...window, expectedPrincipals: new Set(['app@example.com'])})
    expect(report.failedCrypto).toEqual([
      {principal: 'sa-mallory', principalLabel: 'mallory', unexpected: true, total: 3, first: new Date(at(4)).toISOString(), last: new Date(at(6)).toISOString(),
        counts: [{action: 'kms.sign', key: 'kms-b', count: 2}, {action: 'kms.verify_hmac', key: 'kms-b', count: 1}]},
      {principal: 'sub-app', principalLabel: 'app@example.com', unexpected: false, total: 2, first: new Date(at(1)).toISOString(), last: new Date(at(2)).toISOString(),
        counts: [{action: 'kms.decrypt', key: 'kms-a', count: 2}]},
    ])
    expect(report.reasons).toEqual([expect.stringMatching(/failed crypto by unexpected principal mallory: 3 calls/)])
    expect(report.summary.failedCrypto).toBe('5 failed crypto calls by 2 principals (1 unexpected)')
  })

  it('failures by expected principals alone need no attention', () => {
    const report = analyseAudit(events, {...window, expectedPrincipals: new Set(['app@example.com', 'mallory'])})
    expect(report.failedCrypto.every((group) => !group.unexpected)).toBe(true)
    expect(report.needsAttention).toBe(false)
  })

  it('without an expected list every failure needs attention', () => {
    const report = analyseAudit(events, window)
    expect(report.failedCrypto.map((group) => group.unexpected)).toEqual([false, false])
    expect(report.needsAttention).toBe(true)
    expect(report.reasons).toHaveLength(2)
  })
})

describe('analyseAudit: rotation', () => {
  const keys = [
    key({identity: 'kms-late', rotationPeriodInDays: 30, createdAt: '2026-09-01T00:00:00Z', versions: [{version: 1, createdAt: '2026-09-01T00:00:00Z'}]}),
    key({identity: 'kms-versioned', rotationPeriodInDays: 30, createdAt: '2026-01-01T00:00:00Z', versions: [{version: 1, createdAt: '2026-01-01T00:00:00Z'}, {version: 2, createdAt: '2026-11-20T00:00:00Z'}]}),
    key({identity: 'kms-scheduled', slug: 'sched', rotationPeriodInDays: 30, createdAt: '2026-01-01T00:00:00Z'}),
    key({identity: 'kms-grace', rotationPeriodInDays: 30, createdAt: new Date(to.getTime() - 30 * DAY - 23 * HOUR).toISOString()}),
    key({identity: 'kms-manual', keyRotationEnabled: false, rotationPeriodInDays: null}),
    key({identity: 'kms-off', status: 'disabled', createdAt: '2020-01-01T00:00:00Z'}),
    key({identity: 'kms-noperiod', rotationPeriodInDays: null}),
  ]
  const events = [
    // the scheduled rotation predates the window and names the key by slug: still evidence
    event({action: 'kms.rotate.scheduled', at: from.getTime() - 10 * DAY, key: 'sched'}),
  ]

  it('sorts keys into overdue, on time, without rotation and not checked', () => {
    const report = analyseAudit(events, {...window, keys})
    expect(report.rotation.overdue).toEqual([{
      identity: 'kms-late', slug: 'kms-late-slug', name: 'kms-late name', periodDays: 30, lastRotation: '2026-09-01T00:00:00.000Z',
      lastRotationSource: 'version', dueAt: '2026-10-01T00:00:00.000Z', daysLate: 68,
    }])
    expect(report.rotation.onTime.map((found) => [found.identity, found.lastRotationSource])).toEqual([
      ['kms-versioned', 'version'], ['kms-scheduled', 'audit'], ['kms-grace', 'created'],
    ])
    expect(report.rotation.noRotation.map((found) => found.identity)).toEqual(['kms-manual'])
    expect(report.rotation.notChecked).toEqual([
      expect.objectContaining({identity: 'kms-off', reason: 'key is disabled'}),
      expect.objectContaining({identity: 'kms-noperiod', reason: expect.stringMatching(/without a period/)}),
    ])
    expect(report.reasons).toEqual(['rotation overdue: kms-late-slug is 68 days late (every 30 days, last 2026-09-01T00:00:00.000Z)'])
    expect(report.summary.rotation).toBe('4 keys with automatic rotation, 1 overdue; 1 key without automatic rotation')
  })

  it('a key without rotation is information, not attention', () => {
    expect(analyseAudit([], {...window, keys: [keys[4]]})).toMatchObject({needsAttention: false, rotation: {noRotation: [expect.objectContaining({identity: 'kms-manual'})]}})
  })

  it('ignores rotation evidence from after the window', () => {
    const late = [event({action: 'kms.rotate', at: to.getTime() + HOUR, key: 'kms-late'})]
    expect(analyseAudit(late, {...window, keys: [keys[0]]}).rotation.overdue).toHaveLength(1)
    const inWindow = [event({action: 'kms.rotate', at: at(10), key: 'kms-late'})]
    expect(analyseAudit(inWindow, {...window, keys: [keys[0]]}).rotation.onTime).toEqual([expect.objectContaining({identity: 'kms-late', lastRotationSource: 'audit'})])
  })
})

describe('analyseAudit: filters and window', () => {
  const keys = [key({identity: 'kms-a', slug: 'alpha'}), key({identity: 'kms-b', slug: 'beta', createdAt: '2020-01-01T00:00:00Z'})]
  const events = [
    event({action: 'kms.export', at: at(1), user: 'alice', key: 'kms-a'}),
    event({action: 'kms.export', at: at(2), user: 'bob', key: 'kms-b'}),
    event({action: 'kms.decrypt', at: at(3), user: 'bob', key: 'kms-b', status: 403}),
    event({action: 'kms.export', at: at(4), user: 'alice', key: 'unknown-key', context: {keySlug: 'beta'}}),
  ]

  it('key filter (by slug, identity or name) narrows events and rotation to one key', () => {
    for (const filter of ['beta', 'kms-b', 'kms-b name']) {
      const report = analyseAudit(events, {...window, keys, keyFilter: filter})
      expect(report.exports.map((found) => found.principal)).toEqual(['sub-bob', 'sub-alice'])
      expect(report.failedCrypto).toHaveLength(1)
      expect(report.rotation.overdue.map((found) => found.identity)).toEqual(['kms-b'])
    }
  })

  it('key filter without a key list matches the raw reference', () => {
    const report = analyseAudit(events, {...window, keyFilter: 'kms-a'})
    expect(report.exports.map((found) => found.key)).toEqual(['kms-a'])
    expect(report.events.matched).toBe(1)
  })

  it('action filter', () => {
    const report = analyseAudit(events, {...window, actionFilter: ['kms.decrypt']})
    expect(report.exports).toEqual([])
    expect(report.failedCrypto).toHaveLength(1)
  })

  it('principal filter accepts the email as well as the subject', () => {
    expect(analyseAudit(events, {...window, principalFilter: 'alice@example.com'}).exports).toHaveLength(2)
    expect(analyseAudit(events, {...window, principalFilter: 'sub-bob'}).exports).toHaveLength(1)
  })

  it('the window includes its start and excludes its end', () => {
    const report = analyseAudit([
      event({action: 'kms.export', at: from.getTime() - 1, user: 'a'}),
      event({action: 'kms.export', at: from, user: 'b'}),
      event({action: 'kms.export', at: to.getTime() - 1, user: 'c'}),
      event({action: 'kms.export', at: to, user: 'd'}),
    ], window)
    expect(report.exports.map((found) => found.principal)).toEqual(['sub-b', 'sub-c'])
    expect(report.events).toEqual({seen: 4, duplicates: 0, matched: 2})
    expect(report.window).toEqual({from: from.toISOString(), to: to.toISOString(), hours: HOURS})
  })

  it('counts a window that does not start on the hour in clock hours', () => {
    const report = analyseAudit([], {from: new Date(from.getTime() + 30 * 60_000), to: new Date(from.getTime() + 2 * HOUR + 1)})
    expect(report.window.hours).toBe(3)
  })

  it('rejects an empty window as a usage error', () => {
    expect(() => analyseAudit([], {from: to, to: from})).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => analyseAudit([], {from, to: from})).toThrow(/window is empty/)
  })
})

describe('AuditAccumulator', () => {
  it('fed page by page, even out of order and with repeats, reports what analyseAudit reports', () => {
    const events = [...decrypts('app', 5, {100: 200}), event({action: 'kms.export', at: at(9), user: 'alice'}), event({action: 'kms.sign', at: at(9), user: 'x', status: 401})]
    const options = {...window, keys: [key({identity: 'kms-a'})]}
    const accumulator = new AuditAccumulator(options)
    const newestFirst = [...events].reverse()
    for (let start = 0; start < newestFirst.length; start += 100) {
      for (const item of newestFirst.slice(start, start + 100)) accumulator.add(item)
    }
    for (const item of newestFirst.slice(0, 50)) accumulator.add(item)
    const paged = accumulator.report()
    const whole = analyseAudit(events, options)
    expect(paged.events).toEqual({seen: events.length + 50, duplicates: 50, matched: events.length})
    expect({...paged, events: undefined}).toEqual({...whole, events: undefined})
  })
})
