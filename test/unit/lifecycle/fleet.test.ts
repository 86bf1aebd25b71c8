import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {rotateFleet} from '../../../src/operations/rotate.js'
import {disableFleet} from '../../../src/operations/disable.js'
import {selectTarget, type FleetInput, type FleetKeyResult, type FleetResult} from '../../../src/operations/fleet.js'
import {ORIGIN, testContext} from '../../helpers/context.js'
import {KEYS, REGION, RecordingConfirmer, apiKey, mockSummary, refusal, rotated, type ApiKey} from './helpers.js'

const pay = (slug: string, over: Partial<ApiKey> = {}) => apiKey({slug, labels: {team: 'pay', env: 'prod'}, ...over})
const fleet = (over: Partial<FleetInput> = {}): FleetInput => ({region: REGION, labels: {team: 'pay'}, dryRun: false, ...over})
const outcomes = (results: FleetKeyResult[]) => Object.fromEntries(results.map((r) => [r.slug, r.outcome]))
const path = (k: ApiKey, action: string) => `${KEYS}/${k.identity}/${action}`

/** Counts every POST per path; `answer` decides each reply. */
function posts(answer: (path: string, n: number) => [number, unknown] | Promise<[number, unknown]>) {
  const counts: Record<string, number> = {}
  nock(ORIGIN).post(/\/v1\/kms\/nl-0[13]\/keys\/[^/]+\/(rotate|disable)$/).times(100).reply(async (uri) => {
    counts[uri] = (counts[uri] ?? 0) + 1
    return answer(uri, counts[uri])
  })
  return counts
}

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

describe('target selection', () => {
  it('KEY and --label are mutually exclusive, one is required, and flags of the other mode are refused', () => {
    const sel = (key: string | undefined, labels: Record<string, string>, fleetOnly: string[] = [], keyOnly: string[] = []) => () => selectTarget({key, labels, fleetOnly, keyOnly})
    expect(sel('k', {team: 'pay'})).toThrow(/not both/)
    expect(sel(undefined, {})).toThrow(/give KEY/)
    expect(sel('k', {}, ['--confirm-count'])).toThrow(/--confirm-count applies only to a fleet/)
    expect(sel(undefined, {team: 'pay'}, [], ['--schedule'])).toThrow(/--schedule applies only to a single KEY/)
    expect(sel('k', {})()).toBe('key')
    expect(sel(undefined, {team: 'pay'})()).toBe('fleet')
  })
})

describe('fleet rotate', () => {
  it('rotates every key matching all labels, one POST each, after one count confirmation', async () => {
    const a = pay('a')
    const b = pay('b', {latestVersion: 7})
    const scope = mockSummary().get(KEYS).reply(200, [a, b, apiKey({slug: 'other', labels: {team: 'ops'}}), apiKey({slug: 'half', labels: {team: 'pay', env: 'dev'}})])
    const counts = posts((uri) => [200, uri.includes(a.identity) ? rotated(a) : rotated(b)])
    const ctx = testContext()
    const out = await rotateFleet(ctx, fleet({labels: {team: 'pay', env: 'prod'}, confirmCount: 2}))
    expect(scope.isDone()).toBe(true)
    expect(counts).toEqual({[path(a, 'rotate')]: 1, [path(b, 'rotate')]: 1})
    expect(out.result.matched.map((m) => m.slug)).toEqual(['a', 'b'])
    expect(out.result.results).toEqual([
      expect.objectContaining({slug: 'a', outcome: 'done', before: {status: 'active', latestVersion: 3}, after: {status: 'active', latestVersion: 4}}),
      expect.objectContaining({slug: 'b', outcome: 'done', message: 'version 7 → 8'}),
    ])
    expect(out.result.counts).toEqual({matched: 2, done: 2, refused: 0, failed: 0, unknown: 0})
    expect(ctx.journal.keys).toEqual([{identity: a.identity, slug: 'a', name: 'a'}, {identity: b.identity, slug: 'b', name: 'b'}])
    expect(ctx.journal.confirmation).toBe('count')
  })

  it('a --confirm-count that does not match the set is exit 7 and nothing is sent', async () => {
    mockSummary().get(KEYS).reply(200, [pay('a'), pay('b'), pay('c')])
    const err = await refusal(rotateFleet(testContext(), fleet({confirmCount: 2})))
    expect(err).toMatchObject({exitCode: 7, code: 'NOT_CONFIRMED'})
    expect(err.message).toContain('--confirm-count 2 does not match the 3 matched key(s)')
  })

  it('non-interactive without --confirm-count is exit 7 naming the flag; nothing is sent', async () => {
    mockSummary().get(KEYS).reply(200, [pay('a')])
    const err = await refusal(rotateFleet(testContext(), fleet()))
    expect(err.exitCode).toBe(7)
    expect(err.message).toContain('--confirm-count 1')
  })

  it('interactively asks for the count once, listing the matched keys', async () => {
    const a = pay('a')
    mockSummary().get(KEYS).reply(200, [a, pay('b', {status: 'disabled'})])
    posts(() => [200, rotated(a)])
    const confirm = new RecordingConfirmer(true)
    await refusal(rotateFleet(testContext({confirm}), fleet()))
    expect(confirm.asked).toEqual([expect.objectContaining({kind: 'count', expected: 2})])
    expect(confirm.asked[0].text).toContain('a, b (refused)')
  })

  it('no matching key is exit 2', async () => {
    mockSummary().get(KEYS).reply(200, [apiKey({labels: {team: 'ops'}})])
    const err = await refusal(rotateFleet(testContext(), fleet({confirmCount: 0})))
    expect(err).toMatchObject({exitCode: 2, code: 'NO_MATCH'})
    expect(err.message).toContain('no key matches team=pay')
  })

  it('a fleet needs at least one label (exit 2, nothing read)', async () => {
    const err = await refusal(rotateFleet(testContext(), fleet({labels: {}})))
    expect(err.exitCode).toBe(2)
  })

  it('reports a mix of done / refused / failed / unknown per key, never retries, and exits 6 with the report in details', async () => {
    const keys = {
      ok: pay('ok'),
      off: pay('off', {status: 'disabled'}),
      byok: pay('byok', {imported: true, allowRotation: false}),
      bad: pay('bad'),
      lost: pay('lost'),
      late: pay('late'),
      flat: pay('flat'),
    }
    mockSummary().get(KEYS).reply(200, Object.values(keys))
    const counts = posts((uri) => {
      if (uri.includes(keys.ok.identity)) return [200, rotated(keys.ok)]
      if (uri.includes(keys.bad.identity)) return [400, {message: 'key is busy'}]
      return [500, {message: 'internal'}]
    })
    nock(ORIGIN).get(`${KEYS}/${keys.late.identity}`).reply(200, rotated(keys.late))
      .get(`${KEYS}/${keys.flat.identity}`).reply(200, keys.flat)
      .get(`${KEYS}/${keys.lost.identity}`).times(3).reply(503, {message: 'down'})
    const ctx = testContext()
    const err = await refusal(rotateFleet(ctx, fleet({confirmCount: 7})))
    expect(err).toMatchObject({exitCode: 6, code: 'FLEET_PARTIAL_FAILURE'})
    const report = err.details as unknown as FleetResult
    expect(outcomes(report.results)).toEqual({ok: 'done', off: 'refused', byok: 'refused', bad: 'failed', lost: 'unknown', late: 'done', flat: 'failed'})
    expect(report.counts).toEqual({matched: 7, done: 2, refused: 2, failed: 2, unknown: 1})
    expect(Object.values(counts)).toEqual([1, 1, 1, 1, 1])
    expect(counts[path(keys.off, 'rotate')]).toBeUndefined()
    expect(counts[path(keys.byok, 'rotate')]).toBeUndefined()
    const byslug = Object.fromEntries(report.results.map((r) => [r.slug, r]))
    expect(byslug.off.message).toContain('disabled')
    expect(byslug.byok.message).toContain('can never rotate')
    expect(byslug.bad.error?.code).toBe('BAD_REQUEST')
    expect(byslug.late.message).toContain('re-read shows the change happened')
    expect(byslug.flat.message).toContain('did not happen')
    expect(byslug.lost.message).toContain('unknown')
    expect(err.message).toContain('lost (nl-01): unknown')
    expect(err.guards.find((g) => g.guard === 'key-state')?.outcome).toBe('warn')
    expect(ctx.journal.details).toMatchObject({done: 2, refused: 2, failed: 2, unknown: 1, selector: 'team=pay'})
  })

  it('a rotate that 500s once but whose re-read shows a new version is done, with exactly one POST', async () => {
    const k = pay('k')
    mockSummary().get(KEYS).reply(200, [k])
    const counts = posts(() => [500, {message: 'internal'}])
    nock(ORIGIN).get(`${KEYS}/${k.identity}`).reply(200, rotated(k))
    const out = await rotateFleet(testContext(), fleet({confirmCount: 1}))
    expect(counts).toEqual({[path(k, 'rotate')]: 1})
    expect(out.result.results[0]).toMatchObject({outcome: 'done', after: {latestVersion: 4}})
  })

  it('a rotate that 500s and whose re-read shows the same version failed (exit 6), with exactly one POST', async () => {
    const k = pay('k')
    mockSummary().get(KEYS).reply(200, [k])
    const counts = posts(() => [500, {message: 'internal'}])
    nock(ORIGIN).get(`${KEYS}/${k.identity}`).reply(200, k)
    const err = await refusal(rotateFleet(testContext(), fleet({confirmCount: 1})))
    expect(err.exitCode).toBe(6)
    expect(counts).toEqual({[path(k, 'rotate')]: 1})
    expect((err.details as unknown as FleetResult).results[0]).toMatchObject({outcome: 'failed', after: {latestVersion: 3}})
  })

  it('a 200 with an unreadable body is checked by a re-read (the server acted), not reported as failed', async () => {
    const k = pay('k')
    mockSummary().get(KEYS).reply(200, [k])
    const counts = posts(() => [200, {unexpected: true}])
    nock(ORIGIN).get(`${KEYS}/${k.identity}`).reply(200, rotated(k))
    const out = await rotateFleet(testContext(), fleet({confirmCount: 1}))
    expect(counts).toEqual({[path(k, 'rotate')]: 1})
    expect(out.result.results[0]).toMatchObject({outcome: 'done', after: {latestVersion: 4}})
  })

  it('a connection that was never made is failed outright (no re-read needed)', async () => {
    const k = pay('k')
    mockSummary().get(KEYS).reply(200, [k])
    nock(ORIGIN).post(path(k, 'rotate')).times(3).replyWithError({code: 'ECONNREFUSED'})
    const err = await refusal(rotateFleet(testContext(), fleet({confirmCount: 1})))
    const [result] = (err.details as unknown as FleetResult).results
    expect(result).toMatchObject({outcome: 'failed', error: {code: 'NETWORK_ERROR'}})
    expect(result.after).toBeUndefined()
  })

  it('only refused keys: exit 3 without asking and nothing sent', async () => {
    mockSummary().get(KEYS).reply(200, [pay('a', {status: 'disabled'}), pay('b', {status: 'pending_deletion'})])
    const confirm = new RecordingConfirmer(true)
    const err = await refusal(rotateFleet(testContext({confirm}), fleet()))
    expect(err).toMatchObject({exitCode: 3, code: 'FLEET_REFUSED'})
    expect(confirm.asked).toEqual([])
    expect(err.guards.find((g) => g.guard === 'key-state')?.outcome).toBe('fail')
    expect(outcomes((err.details as unknown as FleetResult).results)).toEqual({a: 'refused', b: 'refused'})
  })

  it('done and refused without failures: exit 3, with the done keys in the report', async () => {
    const a = pay('a')
    mockSummary().get(KEYS).reply(200, [a, pay('b', {status: 'disabled'})])
    posts(() => [200, rotated(a)])
    const err = await refusal(rotateFleet(testContext(), fleet({confirmCount: 2})))
    expect(err).toMatchObject({exitCode: 3, code: 'FLEET_REFUSED'})
    expect(outcomes((err.details as unknown as FleetResult).results)).toEqual({a: 'done', b: 'refused'})
  })

  it('--dry-run lists the set and the planned calls, asks nothing and sends nothing', async () => {
    const a = pay('a')
    mockSummary().get(KEYS).reply(200, [a, pay('b')])
    const out = await rotateFleet(testContext({confirm: new RecordingConfirmer(false)}), fleet({dryRun: true}))
    expect(out.dryRun).toBe(true)
    expect(out.result.matched).toHaveLength(2)
    expect(out.result.planned).toEqual([{method: 'POST', path: path(a, 'rotate')}, {method: 'POST', path: `${KEYS}/kms-b/rotate`}])
  })

  it('--dry-run with a refused key exits 3 like the real run would', async () => {
    mockSummary().get(KEYS).reply(200, [pay('a'), pay('b', {status: 'disabled'})])
    const err = await refusal(rotateFleet(testContext(), fleet({dryRun: true})))
    expect(err).toMatchObject({exitCode: 3, code: 'FLEET_REFUSED'})
    expect((err.details as unknown as FleetResult).planned).toHaveLength(1)
  })

  it('--all-regions lists every region with KMS from the summary, and only those', async () => {
    const a = pay('a')
    const c = apiKey({slug: 'c', identity: 'kms-c3', labels: {team: 'pay'}})
    mockSummary().get('/v1/kms/nl-01/keys').reply(200, [a]).get('/v1/kms/nl-03/keys').reply(200, [c])
    const counts = posts((uri) => [200, uri.includes('nl-03') ? rotated(c) : rotated(a)])
    const out = await rotateFleet(testContext(), fleet({region: undefined, allRegions: true, confirmCount: 2}))
    expect(out.result.regions).toEqual(['nl-01', 'nl-03'])
    expect(counts).toEqual({'/v1/kms/nl-01/keys/kms-a/rotate': 1, '/v1/kms/nl-03/keys/kms-c3/rotate': 1})
    expect(out.guards[0]).toMatchObject({guard: 'region', outcome: 'pass'})
  })

  it('--all-regions with KMS off for the organisation is exit 3', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(403, {message: 'feature disabled'})
    const err = await refusal(rotateFleet(testContext(), fleet({region: undefined, allRegions: true})))
    expect(err).toMatchObject({exitCode: 3, code: 'KMS_DISABLED'})
  })

  it('never has more requests in flight than the concurrency limit', async () => {
    const keys = Array.from({length: 12}, (_, i) => pay(`k${i}`))
    mockSummary().get(KEYS).reply(200, keys)
    let inFlight = 0
    let peak = 0
    posts(async (uri) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 5))
      inFlight--
      return [200, rotated(keys.find((k) => uri.includes(`/${k.identity}/`))!)]
    })
    const out = await rotateFleet(testContext({concurrency: 3}), fleet({confirmCount: 12}))
    expect(out.result.counts.done).toBe(12)
    expect(peak).toBeLessThanOrEqual(3)
    expect(peak).toBeGreaterThan(1)
  })
})

describe('fleet disable', () => {
  it('needs --reason (exit 2) before any request', async () => {
    const err = await refusal(disableFleet(testContext(), fleet({confirmCount: 1})))
    expect(err).toMatchObject({exitCode: 2})
    expect(err.message).toContain('--reason')
  })

  it('disables the matching active keys, refuses already disabled ones, skips the scan and recommends `references` per key', async () => {
    const a = pay('a')
    const b = pay('b')
    mockSummary().get(KEYS).reply(200, [a, b, pay('c', {status: 'disabled'})])
    const counts = posts((uri) => [200, {...(uri.includes(a.identity) ? a : b), status: 'disabled'}])
    const ctx = testContext()
    const err = await refusal(disableFleet(ctx, {...fleet({confirmCount: 3}), reason: 'INC-4711'}))
    expect(err).toMatchObject({exitCode: 3, code: 'FLEET_REFUSED'})
    expect(counts).toEqual({[path(a, 'disable')]: 1, [path(b, 'disable')]: 1})
    const report = err.details as unknown as FleetResult & {warnings: string[]}
    expect(outcomes(report.results)).toEqual({a: 'done', b: 'done', c: 'refused'})
    expect(report.results.find((r) => r.slug === 'c')?.message).toContain('already disabled')
    expect(report.warnings).toEqual([`a: what depends on it was not checked; run kmsguard references a -r ${REGION}`, `b: what depends on it was not checked; run kmsguard references b -r ${REGION}`])
    expect(err.guards.find((g) => g.guard === 'references')?.outcome).toBe('skip')
    expect(ctx.journal.details?.reason).toBe('INC-4711')
  })

  it('all done is a plain success with the warnings', async () => {
    const a = pay('a')
    mockSummary().get(KEYS).reply(200, [a])
    posts(() => [200, {...a, status: 'disabled'}])
    const out = await disableFleet(testContext(), {...fleet({confirmCount: 1}), reason: 'INC-4711'})
    expect(out.result.results[0]).toMatchObject({outcome: 'done', after: {status: 'disabled'}})
    expect(out.warnings).toHaveLength(1)
  })
})
