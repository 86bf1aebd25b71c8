/**
 * What the emulator cannot produce, with nock: a 429 whose Retry-After is an HTTP date (future, past, beyond
 * the deadline) or garbage, a 504, one 429 pausing the whole transport, and the other network failures that
 * prove a request never left (DNS, connect timeout) next to those that do not (reset).
 *
 * Timing-free where possible: a backoff base of 60 s with a deadline of a few seconds makes any exponential
 * backoff impossible, so a retry that happens at all proves that the Retry-After value was used instead.
 */
import nock from 'nock'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {createApi, type Api} from '../../src/api/index.js'
import {KmsGuardError} from '../../src/cli/errors.js'
import {ORIGIN, PAT} from '../helpers/context.js'
import {countInjected, countMutationUnderFault, printTally, tally} from './tally.js'

const SUMMARY = {featureEnabled: true, regions: []}
const KEY = {identity: 'kms-1', name: 'app', slug: 'app', keyType: 'aes256-gcm96', status: 'active', latestVersion: 1}
const ROTATE = '/v1/kms/nl-01/keys/kms-1/rotate'

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => {
  nock.enableNetConnect()
  printTally('retry-after')
  expect(tally.mutationsAfterRefusal).toBe(0)
})

/** A client whose exponential backoff (base 60 s) can never fit its deadline. */
function api(deadlineMs = 5_000, retryBaseMs = 60_000): Api {
  return createApi({endpoint: ORIGIN, organisation: 'demo', credentials: {kind: 'pat', token: PAT}, userAgent: 'kmsguard-fault-suite', maxRetries: 3, retryBaseMs, retryMaxMs: retryBaseMs, deadline: Date.now() + deadlineMs})
}

async function failure(p: Promise<unknown>): Promise<KmsGuardError> {
  const e = await p.then(() => undefined, (error: unknown) => error)
  expect(e).toBeInstanceOf(KmsGuardError)
  return e as KmsGuardError
}

/** An HTTP date (whole seconds) at least `ms` from now. */
const httpDate = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 1000) * 1000 + 1000).toUTCString()

describe('Retry-After as an HTTP date', () => {
  it('a future date is waited out, not an exponential backoff, and the read then succeeds', async () => {
    const date = httpDate(500)
    const arrivals: number[] = []
    nock(ORIGIN).get('/v1/kms/summary').reply(() => (arrivals.push(Date.now()), [429, {message: 'slow down'}, {'Retry-After': date}]))
    nock(ORIGIN).get('/v1/kms/summary').reply(() => (arrivals.push(Date.now()), [200, SUMMARY]))
    const client = api(10_000)
    expect((await client.kms.summary()).featureEnabled).toBe(true)
    expect(client.transport.requestCount).toBe(2)
    // HTTP dates have whole seconds: the retry comes no earlier than the date (a little slack for clock reads)
    expect(arrivals[1]).toBeGreaterThanOrEqual(Date.parse(date) - 50)
    countInjected('429 (HTTP date)', 1)
  })

  it('a date in the past means "now": retried at once', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(429, {message: 'slow down'}, {'Retry-After': new Date(Date.now() - 60_000).toUTCString()})
    nock(ORIGIN).get('/v1/kms/summary').reply(200, SUMMARY)
    const client = api()
    expect((await client.kms.summary()).featureEnabled).toBe(true)
    expect(client.transport.requestCount).toBe(2)
    countInjected('429 (HTTP date)', 1)
  })

  it('a date beyond the deadline: not retried, exit 6 RATE_LIMITED naming the endpoint and the Retry-After', async () => {
    const date = new Date(Date.now() + 3_600_000).toUTCString()
    nock(ORIGIN).get('/v1/kms/summary').reply(429, {message: 'slow down'}, {'Retry-After': date})
    const client = api(5_000, 5)
    const e = await failure(client.kms.summary())
    expect(e.exitCode).toBe(6)
    expect(e.code).toBe('RATE_LIMITED')
    expect(e.message).toContain('GET /v1/kms/summary')
    expect(e.message).toContain(`Retry-After ${date}`)
    expect(client.transport.requestCount).toBe(1)
    countInjected('429 (HTTP date)', 1)
  })

  it('an unreadable Retry-After falls back to the exponential backoff (which this deadline cannot fit)', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(429, {message: 'slow down'}, {'Retry-After': 'soon'})
    const client = api()
    expect((await failure(client.kms.summary())).code).toBe('RATE_LIMITED')
    expect(client.transport.requestCount).toBe(1)
    countInjected('429 (garbage Retry-After)', 1)
  })
})

describe('rate limits pause the whole transport', () => {
  it('a 429 with Retry-After holds back the next request of another call on the same client', async () => {
    const arrivals: Record<string, number> = {}
    let limitedAt = 0
    nock(ORIGIN).get('/v1/kms/summary').reply(() => ((limitedAt = Date.now()), [429, {message: 'slow down'}, {'Retry-After': '1'}]))
    nock(ORIGIN).get('/v1/kms/summary').reply(200, SUMMARY)
    nock(ORIGIN).get('/v1/kms/nl-01/keys/kms-1').reply(() => ((arrivals.key = Date.now()), [200, KEY]))
    const client = api(10_000, 5)
    const first = client.kms.summary()
    while (limitedAt === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const [summary, key] = await Promise.all([first, client.kms.getKey('nl-01', 'kms-1')])
    expect(summary.featureEnabled).toBe(true)
    expect(key.identity).toBe('kms-1')
    expect(arrivals.key - limitedAt).toBeGreaterThanOrEqual(950)
    countInjected('429', 1)
  })
})

describe('statuses and network failures the emulator does not make', () => {
  it('504 on a read is retried and the read succeeds', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(504, {message: 'gateway timeout'})
    nock(ORIGIN).get('/v1/kms/summary').reply(200, SUMMARY)
    const client = api(5_000, 5)
    expect((await client.kms.summary()).featureEnabled).toBe(true)
    expect(client.transport.requestCount).toBe(2)
    countInjected('504', 1)
  })

  it('504 on a mutation is never retried: exit 6 naming the endpoint', async () => {
    const scope = nock(ORIGIN).post(ROTATE).once().reply(504, {message: 'gateway timeout'})
    const client = api(5_000, 5)
    const e = await failure(client.kms.rotate('nl-01', 'kms-1'))
    expect(e.exitCode).toBe(6)
    expect(e.message).toContain(`POST ${ROTATE}`)
    expect(client.transport.requestCount).toBe(1)
    scope.done()
    countInjected('504', 1)
    countMutationUnderFault()
  })

  it('a 429 on a mutation is not retried either, whatever its Retry-After says', async () => {
    const scope = nock(ORIGIN).post(ROTATE).once().reply(429, {message: 'slow down'}, {'Retry-After': '0'})
    const client = api(5_000, 5)
    expect((await failure(client.kms.rotate('nl-01', 'kms-1'))).code).toBe('RATE_LIMITED')
    expect(client.transport.requestCount).toBe(1)
    scope.done()
    countInjected('429', 1)
    countMutationUnderFault()
  })

  for (const code of ['ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']) {
    it(`${code} proves the mutation never left: it is retried and sent once`, async () => {
      nock(ORIGIN).post(ROTATE).replyWithError({code, message: code})
      const sent = nock(ORIGIN).post(ROTATE).once().reply(200, {...KEY, latestVersion: 2})
      const client = api(5_000, 5)
      expect((await client.kms.rotate('nl-01', 'kms-1')).latestVersion).toBe(2)
      expect(client.transport.requestCount).toBe(2)
      sent.done()
      countInjected(code, 1)
      countMutationUnderFault()
    })
  }

  it('a reset socket (UND_ERR_SOCKET) may have carried the mutation: not retried, exit 6', async () => {
    const scope = nock(ORIGIN).post(ROTATE).once().replyWithError({code: 'UND_ERR_SOCKET', message: 'other side closed'})
    const client = api(5_000, 5)
    const e = await failure(client.kms.rotate('nl-01', 'kms-1'))
    expect(e.exitCode).toBe(6)
    expect(e.message).toBe(`POST ${ROTATE}: connection reset by the server`)
    expect(client.transport.requestCount).toBe(1)
    scope.done()
    countInjected('UND_ERR_SOCKET', 1)
    countMutationUnderFault()
  })
})
