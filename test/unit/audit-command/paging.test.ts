import nock from 'nock'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {ApiError, KmsGuardError} from '../../../src/cli/errors.js'
import {runAudit, type AuditInput} from '../../../src/operations/audit.js'
import {ORIGIN, testContext} from '../../helpers/context.js'
import {DAY, NOW, item, items, page, scratchFile} from './fixtures.js'

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

type Body = ReturnType<typeof page>

/**
 * Serves GET /v1/audit from `pages` (index 0 = page 1) and records every request. A page that is not defined
 * answers 404, so reading too far fails the review; a page given as a number answers that HTTP status.
 */
function auditLog(pages: Array<Body | number>) {
  const requested: number[] = []
  const queries: URLSearchParams[] = []
  nock(ORIGIN).get('/v1/audit').query(true).reply((uri) => {
    const query = new URL(uri, ORIGIN).searchParams
    const number = Number(query.get('page'))
    requested.push(number)
    queries.push(query)
    const body = pages[number - 1]
    if (body === undefined) return [404, {message: 'no such page'}]
    return typeof body === 'number' ? [body, {message: 'boom'}] : [200, body]
  }).persist()
  return {requested, queries}
}

const noKeys = () => nock(ORIGIN).get('/v1/kms/nl-01/keys').reply(200, [])

const review = (input: AuditInput = {}) => runAudit(testContext(), {region: 'nl-01', ...input})

const failure = async (promise: Promise<unknown>): Promise<KmsGuardError> => {
  const error = await promise.then(() => undefined, (err: unknown) => err)
  expect(error).toBeInstanceOf(KmsGuardError)
  return error as KmsGuardError
}

describe('audit paging: newest first', () => {
  it('stops at the first page older than the window and says so', async () => {
    const log = auditLog([
      page(items([1, 2, 3]), 1, 10),
      page(items([10, 20, 30]), 2, 10),
      page(items([50, 80, 100]), 3, 10),
      page(items([150, 170, 200]), 4, 10), // straddles the window start (168 h ago)
      page(items([200, 220, 230]), 5, 10), // entirely before the window
      ...Array.from({length: 5}, (_, index) => page(items([300 + index]), 6 + index, 10)),
    ])
    const keys = noKeys()
    const {result, warnings} = await review()
    expect(log.requested).toEqual([1, 2, 3, 4, 5])
    expect(result.paging).toEqual({pageSize: 100, pagesRead: 5, totalPages: 10, order: 'newest-first', stoppedEarly: true, fullScan: false, skippedItems: 0})
    expect(result.events).toEqual({seen: 15, duplicates: 0, matched: 10})
    expect(result.window).toMatchObject({from: new Date(NOW - 7 * DAY).toISOString(), to: new Date(NOW).toISOString(), hours: 168})
    for (const query of log.queries) {
      expect(Object.fromEntries(query)).toEqual({page: query.get('page'), limit: '100', resourceType: 'kms_key'})
    }
    expect(warnings).toEqual([])
    keys.done()
  })

  it('reads only page 1 when it already lies before the window', async () => {
    const log = auditLog([page(items([200, 300]), 1, 4), page(items([400]), 2, 4)])
    noKeys()
    const {result} = await review()
    expect(log.requested).toEqual([1])
    expect(result.paging).toMatchObject({pagesRead: 1, stoppedEarly: true})
  })

  it('stops at totalPages without asking for more', async () => {
    const log = auditLog([page(items([1, 2]), 1, 2), page(items([3, 4]), 2, 2)])
    noKeys()
    const {result} = await review()
    expect(log.requested).toEqual([1, 2])
    expect(result.paging).toMatchObject({pagesRead: 2, totalPages: 2, stoppedEarly: false, fullScan: false})
    expect(result.events.matched).toBe(4)
  })

  it('an empty page ends paging even when the API claims more pages', async () => {
    const log = auditLog([page(items([1, 2]), 1, 10), page(items([3, 4]), 2, 10), page([], 3, 10), page(items([5]), 4, 10)])
    noKeys()
    const {result} = await review()
    expect(log.requested).toEqual([1, 2, 3])
    expect(result.paging).toMatchObject({pagesRead: 3, totalPages: 10, stoppedEarly: false, fullScan: false})
  })

  it('an empty page ends paging when the API gives no totalPages', async () => {
    const log = auditLog([page(items([1, 2]), 1), page(items([3]), 2), page([], 3)])
    noKeys()
    const {result} = await review()
    expect(log.requested).toEqual([1, 2, 3])
    expect(result.paging).toMatchObject({pagesRead: 3, stoppedEarly: false})
    expect(result.paging?.totalPages).toBeUndefined()
  })
})

describe('audit paging: not newest first', () => {
  it('reads every page (bounded pool) and warns that the whole log had to be read', async () => {
    const log = auditLog([
      page(items([100, 50, 10]), 1, 6), // oldest first
      ...[2, 3, 4, 5].map((number) => page(items([400, 300]), number, 6)),
      page([item({action: 'kms.export', ago: 20, user: 'eve'})], 6, 6),
    ])
    noKeys()
    const {result, warnings} = await review()
    expect([...log.requested].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    expect(result.paging).toMatchObject({order: 'not-newest-first', fullScan: true, stoppedEarly: false, pagesRead: 6, totalPages: 6})
    expect(result.exports).toEqual([expect.objectContaining({principalLabel: 'eve@example.com'})])
    expect(warnings).toContainEqual(expect.stringMatching(/not returned newest first, so the whole log had to be read \(6 pages\)/))
  })

  it('keeps at most ctx.concurrency pages in flight during the full read', async () => {
    let inFlight = 0
    let most = 0
    nock(ORIGIN).get('/v1/audit').query(true).reply((uri, _body, callback) => {
      const number = Number(new URL(uri, ORIGIN).searchParams.get('page'))
      inFlight++
      most = Math.max(most, inFlight)
      setTimeout(() => {
        inFlight--
        callback(null, [200, page(number === 1 ? items([30, 20]) : items([400 + number]), number, 20)])
      }, 5)
    }).persist()
    noKeys()
    const {result} = await review() // testContext: concurrency 4
    expect(result.paging).toMatchObject({pagesRead: 20, fullScan: true})
    expect(most).toBe(4)
  })

  it('falls back to a full read when a later page is newer than the page before it', async () => {
    const log = auditLog([
      page(items([1, 2, 3]), 1, 5),
      page(items([0.5, 4]), 2, 5), // starts newer than page 1 ends: the order across pages is broken
      page(items([300]), 3, 5),
      page(items([400]), 4, 5),
      page(items([500]), 5, 5),
    ])
    noKeys()
    const {result} = await review()
    expect([...log.requested].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5])
    expect(result.paging).toMatchObject({order: 'not-newest-first', fullScan: true, pagesRead: 5})
  })

  it('a page that fails during the full read fails the review', async () => {
    auditLog([page(items([20, 10]), 1, 4), page(items([30]), 2, 4), 503, page(items([40]), 4, 4)]) // page 1 is oldest first
    noKeys()
    const error = await failure(review())
    expect(error.exitCode).toBe(6)
    expect(error.message).toMatch(/^audit page 3 of 4 could not be read/)
  })
})

describe('audit paging: failures', () => {
  it('a page that keeps answering 500 is retried, then fails with exit 6 naming the page', async () => {
    const log = auditLog([page(items([1, 2]), 1, 5), 500, page(items([5]), 3, 5)])
    noKeys()
    const error = await failure(review())
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({code: 'SERVER_ERROR', exitCode: 6, status: 500})
    expect(error.message).toMatch(/^audit page 2 of 5 could not be read, so the review is incomplete and no report was made: GET \/v1\/audit: HTTP 500: boom$/)
    expect(error.details).toMatchObject({page: 2, endpoint: 'GET /v1/audit', status: 500})
    expect(log.requested).toEqual([1, 2, 2, 2]) // testApi allows 2 retries; page 3 is never asked for
  })

  it('a page that fails once is retried and the review completes', async () => {
    let failedOnce = false
    nock(ORIGIN).get('/v1/audit').query(true).reply(() => {
      if (failedOnce) return [200, page(items([1]), 1, 1)]
      failedOnce = true
      return [502, {}]
    }).persist()
    noKeys()
    const {result} = await review()
    expect(result.paging).toMatchObject({pagesRead: 1})
    expect(result.events.matched).toBe(1)
  })

  it('entries without the audit-log shape are skipped with a warning', async () => {
    auditLog([page([...items([1]), {eventID: 'x', action: 'kms.decrypt'}], 1, 1)])
    noKeys()
    const {result, warnings} = await review()
    expect(result.paging?.skippedItems).toBe(1)
    expect(result.events.seen).toBe(1)
    expect(warnings).toContainEqual('1 audit entry had no timestamp, event id or action and was skipped')
  })
})

describe('audit query', () => {
  it('resolves --key in --region to an identity and sends it with the --action list', async () => {
    const key = {identity: 'kms-b', name: 'billing db', slug: 'billing-db', keyType: 'aes256-gcm96', status: 'active', keyRotationEnabled: false, latestVersion: 1, createdAt: '2026-01-01T00:00:00Z'}
    const resolved = nock(ORIGIN).get('/v1/kms/nl-01/keys/billing-db').reply(200, key)
    nock(ORIGIN).get('/v1/kms/nl-01/keys').reply(200, [key])
    const log = auditLog([page([item({action: 'kms.export', ago: 2, key: 'kms-b'})], 1, 1)])
    const {result} = await review({key: 'billing-db', actions: ['kms.export', 'kms.decrypt']})
    resolved.done()
    expect(Object.fromEntries(log.queries[0])).toEqual({page: '1', limit: '100', resourceType: 'kms_key', action: 'kms.export,kms.decrypt', resourceIdentity: 'kms-b'})
    expect(result.filters).toEqual({key: 'kms-b', resourceIdentity: 'kms-b', actions: ['kms.export', 'kms.decrypt']})
    expect(result.exports).toEqual([expect.objectContaining({key: 'kms-b', keySlug: 'billing-db'})])
  })

  it('without a region an identity is sent as is; a slug is matched locally, with a warning', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true, regions: []})
    const log = auditLog([page([], 1, 0)])
    await runAudit(testContext(), {key: 'kms-z'})
    expect(log.queries[0].get('resourceIdentity')).toBe('kms-z')

    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true, regions: []})
    const {warnings} = await runAudit(testContext(), {key: 'billing-db'})
    expect(log.queries[1].get('resourceIdentity')).toBeNull()
    expect(warnings).toContainEqual(expect.stringMatching(/--key billing-db is not a key identity and no region was given/))
  })

  it('refuses a bad --action before any request', async () => {
    const error = await failure(review({actions: ['kms.export,kms.decrypt']}))
    expect(error).toMatchObject({code: 'USAGE', exitCode: 2})
  })
})

describe('audit detectors through the operation', () => {
  it('reports an export, a decrypt burst, failed crypto by an unexpected principal and an overdue rotation', async () => {
    const principals = await scratchFile('principals.txt', '# who may call KMS\nalice@example.com\nsvc-deployer  # CI\n')
    const burst = Array.from({length: 30}, (_, index) => item({action: 'kms.decrypt', ago: 5.5 - index / 100, user: 'batch'}))
    const list = [
      item({action: 'kms.export', ago: 30, user: 'exporter', context: {keyVersion: '3'}}),
      ...burst,
      item({action: 'kms.decrypt', ago: 40, user: 'mallory', status: 403}),
      item({action: 'kms.decrypt', ago: 41, user: 'mallory', status: 403}),
      item({action: 'kms.encrypt', ago: 42, user: 'alice', status: 400}),
      item({action: 'kms.encrypt', ago: 43, user: 'alice', status: 200}),
    ].sort((a, b) => Date.parse(b.createdAt as string) - Date.parse(a.createdAt as string))
    auditLog([page(list, 1, 1)])
    nock(ORIGIN).get('/v1/kms/nl-01/keys').reply(200, [{
      identity: 'kms-a', name: 'app', slug: 'app-key', keyType: 'aes256-gcm96', status: 'active', keyRotationEnabled: true, rotationPeriodInDays: 30,
      latestVersion: 2, createdAt: '2026-06-01T00:00:00Z', versions: [{version: 1, createdAt: '2026-06-01T00:00:00Z'}, {version: 2, createdAt: '2026-10-01T00:00:00Z'}],
    }])
    const {result} = await review({expectedPrincipalsFile: principals})

    expect(result.expectedPrincipals).toEqual({source: `--expected-principals ${principals}`, count: 2})
    expect(result.exports).toEqual([expect.objectContaining({principalLabel: 'exporter@example.com', key: 'kms-a', keySlug: 'app-key', keyVersion: '3'})])
    expect(result.failedCrypto).toEqual([
      expect.objectContaining({principalLabel: 'mallory@example.com', unexpected: true, total: 2, counts: [{action: 'kms.decrypt', key: 'kms-a', count: 2}]}),
      expect.objectContaining({principalLabel: 'alice@example.com', unexpected: false, total: 1}),
    ])
    expect(result.decryptAnomalies).toEqual([expect.objectContaining({principalLabel: 'batch@example.com', key: 'kms-a', totalDecrypts: 30, hours: [{hour: '2026-12-04T06:00:00.000Z', count: 30}]})])
    expect(result.rotation.overdue).toEqual([expect.objectContaining({slug: 'app-key', periodDays: 30, lastRotationSource: 'version', daysLate: 34})])
    expect(result.keys).toEqual({checked: true, regions: ['nl-01'], count: 1})
    expect(result.needsAttention).toBe(true)
    expect(result.reasons).toEqual([
      expect.stringMatching(/^key export: app-key version 3 by exporter@example\.com/),
      'failed crypto by unexpected principal mallory@example.com: 2 calls',
      expect.stringMatching(/^unusual decrypt volume by batch@example\.com on kms-a: 30 in the hour/),
      expect.stringMatching(/^rotation overdue: app-key is 34 days late/),
    ])
  })

  it('a quiet log needs no attention', async () => {
    auditLog([page(items([1, 2, 3]), 1, 1)])
    noKeys()
    const {result} = await review()
    expect(result).toMatchObject({needsAttention: false, reasons: [], exports: [], failedCrypto: [], decryptAnomalies: []})
  })

  it('lists the keys of every KMS region, reading keys whose list entry has no versions', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true, regions: [
      {identity: 'r1', slug: 'nl-01', kmsAvailable: true}, {identity: 'r2', slug: 'nl-02', kmsAvailable: false},
    ]})
    const bare = {identity: 'kms-r', name: 'r', slug: 'rotated', keyType: 'aes256-gcm96', status: 'active', keyRotationEnabled: true, rotationPeriodInDays: 30, latestVersion: 2, createdAt: '2026-01-01T00:00:00Z'}
    nock(ORIGIN).get('/v1/kms/nl-01/keys').reply(200, [bare])
    const detail = nock(ORIGIN).get('/v1/kms/nl-01/keys/kms-r').reply(200, {...bare, versions: [{version: 2, createdAt: '2026-11-20T00:00:00Z'}]})
    auditLog([page(items([1]), 1, 1)])
    const {result} = await runAudit(testContext(), {})
    detail.done()
    expect(result.keys).toEqual({checked: true, regions: ['nl-01'], count: 1})
    expect(result.rotation.onTime).toEqual([expect.objectContaining({slug: 'rotated', lastRotation: '2026-11-20T00:00:00.000Z', lastRotationSource: 'version'})])
    expect(result.rotation.overdue).toEqual([])
  })

  it('when keys cannot be listed, rotation is "not checked" with the reason and the rest still reports', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(403, {message: 'no kms:list'})
    auditLog([page([item({action: 'kms.export', ago: 3, user: 'eve'})], 1, 1)])
    const {result, warnings} = await runAudit(testContext(), {})
    expect(result.keys).toEqual({checked: false, reason: expect.stringMatching(/^the keys could not be listed \(GET \/v1\/kms\/summary: permission denied \(403\): no kms:list\)$/)})
    expect(result.rotation.checked).toBe(false)
    expect(result.summary.rotation).toMatch(/^rotation not checked: the keys could not be listed/)
    expect(warnings).toContainEqual(expect.stringMatching(/^rotation not checked: the keys could not be listed/))
    expect(result.exports).toHaveLength(1)
    expect(result.needsAttention).toBe(true)
  })
})
