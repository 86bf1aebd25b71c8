import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderAuditReport} from '../../../commands/audit.js'
import {commandId, selectEntries} from '../../../src/operations/journal.js'
import {guardsSummary, journalRow, renderJournal} from '../../../src/ui/journal.js'
import {analyseAudit, type AuditEvent} from '../../../src/audit/index.js'
import {appendJournal, readJournal} from '../../../src/journal/store.js'
import type {AuditResult} from '../../../src/operations/audit.js'
import {sampleRecord, scratchDir} from '../journal/helpers.js'
import {DAY, NOW, item} from './fixtures.js'

/** A journal of four entries, written with appendJournal, with their times spread one day apart (oldest first). */
async function journalOfFour() {
  const path = join(await scratchDir(), 'journal.jsonl')
  await appendJournal(path, sampleRecord({command: 'delete'}))
  await appendJournal(path, sampleRecord({command: 'rotate', dryRun: true, operator: {subject: 'sub-only'}, guards: [
    {guard: 'region', outcome: 'pass', message: 'ok'}, {guard: 'key-state', outcome: 'fail', message: 'disabled'}, {guard: 'references', outcome: 'skip', message: '-'},
  ], result: {status: 'error', code: 'KEY_STATE', exitCode: 3}}))
  await appendJournal(path, sampleRecord({command: 'export', kind: 'approval-consumed', approval: 'elev-1', overrides: [{flag: '--plaintext', reason: 'HSM import'}], confirmation: 'typed'}))
  await appendJournal(path, sampleRecord({command: 'rotate', key: undefined, keys: [{slug: 'a'}, {slug: 'b'}], guards: []}))
  const entries = (await readJournal(path)).map((entry, index) => ({...entry, time: new Date(NOW - (3 - index) * DAY).toISOString()}))
  return {path, entries}
}

describe('journal listing', () => {
  it('selects by time and by command (either spelling of a topic command)', async () => {
    const {entries} = await journalOfFour()
    expect(selectEntries(entries, {}).map((e) => e.seq)).toEqual([1, 2, 3, 4])
    expect(selectEntries(entries, {since: new Date(NOW - 2 * DAY)}).map((e) => e.seq)).toEqual([2, 3, 4])
    expect(selectEntries(entries, {command: 'rotate'}).map((e) => e.seq)).toEqual([2, 4])
    expect(selectEntries(entries, {command: 'rotate', since: new Date(NOW - DAY / 2)}).map((e) => e.seq)).toEqual([4])
    expect(selectEntries(entries, {command: 'delet'})).toEqual([])
    expect(commandId(' export  request ')).toBe('export:request')
    expect(commandId('export:request')).toBe('export:request')
  })

  it('summarises guards by outcome, naming failures and warnings', () => {
    expect(guardsSummary([])).toBe('-')
    expect(guardsSummary([
      {guard: 'region', outcome: 'pass', message: ''}, {guard: 'references', outcome: 'warn', message: ''},
      {guard: 'key-state', outcome: 'fail', message: ''}, {guard: 'approval', outcome: 'fail', message: ''}, {guard: 'policy', outcome: 'pass', message: ''},
    ])).toBe('2 pass, 1 warn (references), 2 fail (key-state, approval)')
  })

  it('formats one row per entry: time, operator, command, key, result, guards, approval, overrides', async () => {
    const {entries} = await journalOfFour()
    expect(entries.map(journalRow)).toEqual([
      ['2026-12-01T12:00:00Z', 'ops@example.com', 'delete', 'billing-db', 'ok', '1 pass', undefined, undefined],
      ['2026-12-02T12:00:00Z', 'sub-only', 'rotate (dry run)', 'billing-db', 'KEY_STATE (exit 3)', '1 pass, 1 fail (key-state), 1 skip', undefined, undefined],
      ['2026-12-03T12:00:00Z', 'ops@example.com', 'export (approval used)', 'billing-db', 'ok', '1 pass', 'elev-1', '--plaintext'],
      ['2026-12-04T12:00:00Z', 'ops@example.com', 'rotate', '2 keys', 'ok', '-', undefined, undefined],
    ])
  })

  it('renders a missing journal, an empty selection and a filtered table', async () => {
    const {path, entries} = await journalOfFour()
    expect(renderJournal({path, exists: false, total: 0, filters: {}, entries: []})).toBe(`no journal yet at ${path}`)
    expect(renderJournal({path, exists: true, total: 4, filters: {command: 'enable'}, entries: []})).toBe(`No journal entries match. 0 of 4 entries in ${path}`)
    const text = renderJournal({path, exists: true, total: 4, filters: {command: 'rotate'}, entries: selectEntries(entries, {command: 'rotate'})})
    expect(text.split('\n')).toHaveLength(2 + 2 + 2)
    expect(text).toMatch(/^2026-12-04T12:00:00Z\s+ops@example\.com\s+rotate\s+2 keys\s+ok\s+-\s+-\s+-$/m)
    expect(text.endsWith(`2 of 4 entries in ${path}`)).toBe(true)
  })
})

describe('audit report rendering', () => {
  const events: AuditEvent[] = [
    item({action: 'kms.export', ago: 3, user: 'eve', status: 403}),
    item({action: 'kms.decrypt', ago: 4, user: 'mallory', status: 403}),
    item({action: 'kms.decrypt', ago: 5, user: 'alice', status: 500}),
  ] as AuditEvent[]
  const report = analyseAudit(events, {from: new Date(NOW - DAY), to: new Date(NOW), expectedPrincipals: new Set(['alice@example.com']), keys: [{
    identity: 'kms-a', slug: 'app-key', name: 'app', keyRotationEnabled: true, rotationPeriodInDays: 30, createdAt: '2026-01-01T00:00:00Z', status: 'active',
  }]})
  const result: AuditResult = {...report, source: 'api', filters: {}, expectedPrincipals: {source: '--expected-principals p.txt', count: 1}, keys: {checked: true, regions: ['nl-01'], count: 1},
    paging: {pageSize: 100, pagesRead: 3, totalPages: 40, order: 'newest-first', stoppedEarly: true, fullScan: false, skippedItems: 0}}

  it('shows paging, marks unexpected principals, failed exports and overdue keys, and ends with the reasons', () => {
    const text = renderAuditReport(result)
    expect(text).toMatch(/^Audit review 2026-12-03T12:00:00Z – 2026-12-04T12:00:00Z \(24 h\), source: API, 3 of 40 pages read \(the rest lie before the window\)\n/)
    expect(text).toMatch(/eve@example\.com\s+app-key\s+-\s+failed \(403\)/)
    expect(text).toMatch(/mallory@example\.com\s+NO \(unexpected\)\s+1\s+kms\.decrypt kms-a ×1/)
    expect(text).toMatch(/alice@example\.com\s+yes\s+1/)
    expect(text).toContain('ROTATION (keys of nl-01): 1 key with automatic rotation, 1 overdue')
    expect(text).toMatch(/app-key\s+30d\s+2026-01-01T00:00:00Z\s+created\s+2026-01-31T00:00:00Z\s+OVERDUE \d+d/)
    expect(text.indexOf('KEY EXPORTS')).toBeLessThan(text.indexOf('FAILED CRYPTO'))
    expect(text).toMatch(/Needs attention \(exit 8\):\n {2}- key export: app-key by eve@example\.com .* \(failed, HTTP 403\)\n {2}- failed crypto by unexpected principal mallory@example\.com: 1 call\n {2}- rotation overdue: app-key/)
  })
})
