import nock from 'nock'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KmsGuardError} from '../../../src/cli/errors.js'
import {runAudit} from '../../../src/operations/audit.js'
import {testConfig, testContext} from '../../helpers/context.js'
import {item, scratchFile} from './fixtures.js'

// No interceptors at all: an offline review that sent any request would fail with a network error.
beforeAll(() => nock.disableNetConnect())
afterAll(() => nock.enableNetConnect())

const logs = () => [
  item({action: 'kms.export', ago: 30, user: 'exporter', context: {keyVersion: '1'}}),
  item({action: 'kms.decrypt', ago: 31, user: 'mallory', status: 403}),
  item({action: 'kms.encrypt', ago: 400, user: 'app'}),
]

const tcloudObject = (list: unknown[]) => JSON.stringify({
  exportedAt: '2026-12-04T12:00:00Z', timeRange: {type: 'duration', since: '30d', start: '2026-11-04T12:00:00Z', end: '2026-12-04T12:00:00Z'}, totalLogs: list.length, logs: list,
})

describe('audit --file', () => {
  it.each([
    ['a tcloud export object with "logs"', tcloudObject],
    ['a bare JSON array', (list: unknown[]) => JSON.stringify(list)],
  ])('reviews %s offline; without a window flag the window is the span of its events', async (_name, shape) => {
    const path = await scratchFile('audit.json', shape(logs()))
    const {result, warnings} = await runAudit(testContext(), {file: path})
    expect(result.source).toBe('file')
    expect(result.file).toEqual({path, events: 3})
    expect(result.paging).toBeUndefined()
    expect(result.window.from).toBe('2026-11-17T20:00:00.000Z') // 400 h before the clock: the oldest event
    expect(result.events).toEqual({seen: 3, duplicates: 0, matched: 3})
    expect(result.exports).toEqual([expect.objectContaining({principalLabel: 'exporter@example.com', keyVersion: '1'})])
    expect(result.failedCrypto).toEqual([expect.objectContaining({principalLabel: 'mallory@example.com', total: 1, unexpected: false})])
    expect(result.keys).toEqual({checked: false, reason: 'an offline review (--file) lists no keys'})
    expect(result.summary.rotation).toBe('rotation not checked: an offline review (--file) lists no keys')
    expect(result.needsAttention).toBe(true)
    expect(warnings).toEqual([])
  })

  it('applies an explicit window and filters, and warns when nothing matched', async () => {
    const path = await scratchFile('audit.json', tcloudObject(logs()))
    const narrowed = await runAudit(testContext(), {file: path, since: '7d', actions: ['kms.decrypt']})
    expect(narrowed.result.events).toEqual({seen: 3, duplicates: 0, matched: 1})
    expect(narrowed.result.exports).toEqual([])
    expect(narrowed.result.failedCrypto).toHaveLength(1)

    const empty = await runAudit(testContext(), {file: path, from: '2026-01-01', to: '2026-01-31'})
    expect(empty.result.needsAttention).toBe(false)
    expect(empty.warnings).toEqual(['none of the 3 events read matched the window 2026-01-01T00:00:00.000Z – 2026-02-01T00:00:00.000Z and the filters'])
  })

  it('marks unexpected principals from the expectedPrincipals setting', async () => {
    const path = await scratchFile('audit.json', JSON.stringify(logs()))
    const principals = await scratchFile('principals.txt', 'app@example.com\n')
    const ctx = testContext({config: {...testConfig(), settings: {expectedPrincipals: principals}}})
    const {result} = await runAudit(ctx, {file: path})
    expect(result.expectedPrincipals).toEqual({source: `the expectedPrincipals setting ${principals}`, count: 1})
    expect(result.failedCrypto).toEqual([expect.objectContaining({principalLabel: 'mallory@example.com', unexpected: true})])
    expect(result.reasons).toContainEqual('failed crypto by unexpected principal mallory@example.com: 1 call')
  })

  it('an empty export is reviewed over the default window', async () => {
    const path = await scratchFile('audit.json', '[]')
    const {result} = await runAudit(testContext(), {file: path})
    expect(result.window).toEqual({from: '2026-11-27T12:00:00.000Z', to: '2026-12-04T12:00:00.000Z', hours: 168})
    expect(result.needsAttention).toBe(false)
  })

  it.each([
    ['not JSON', '{', /audit\.json: not valid JSON/],
    ['another JSON shape', '{"items": []}', /not an audit export/],
    ['an item without a timestamp', '[{"eventID": "e", "action": "kms.export"}]', /item 0 is not an audit log \(createdAt/],
  ])('refuses %s with exit 2', async (_name, content, message) => {
    const path = await scratchFile('audit.json', content)
    const error = await runAudit(testContext(), {file: path}).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(KmsGuardError)
    expect(error).toMatchObject({exitCode: 2, message: expect.stringMatching(message)})
  })

  it('refuses a missing file and a missing expected-principals file with exit 2', async () => {
    const path = await scratchFile('audit.json', '[]')
    await expect(runAudit(testContext(), {file: `${path}.missing`})).rejects.toMatchObject({exitCode: 2, message: `cannot read --file ${path}.missing: ENOENT`})
    await expect(runAudit(testContext(), {file: path, expectedPrincipalsFile: `${path}.nope`})).rejects.toMatchObject({exitCode: 2, message: `cannot read --expected-principals ${path}.nope: ENOENT`})
  })
})
