// Timeouts and deadlines go through the real dispatcher path, so this file uses undici's MockAgent (never nock).
import {MockAgent} from 'undici'
import {describe, expect, it} from 'vitest'
import {createApi} from '../../../src/api/index.js'
import {KmsGuardError} from '../../../src/cli/errors.js'

const ORIGIN = 'https://api.timeouts.test'

function setup(opts: {deadlineMs?: number; maxRetries?: number} = {}) {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const pool = agent.get(ORIGIN)
  const api = createApi({endpoint: ORIGIN, organisation: 'demo', credentials: {kind: 'pat', token: 'tc_pat_x'}, userAgent: 't', dispatcher: agent, maxRetries: opts.maxRetries ?? 0, retryBaseMs: 1, deadline: opts.deadlineMs === undefined ? undefined : Date.now() + opts.deadlineMs})
  return {agent, pool, api}
}

describe('timeouts and deadlines (MockAgent)', () => {
  it('a response slower than the overall deadline fails with TIMEOUT (exit 6) instead of hanging', async () => {
    const {pool, api, agent} = setup({deadlineMs: 300})
    pool.intercept({path: '/v1/kms/summary', method: 'GET'}).reply(200, {featureEnabled: true}).delay(5_000)
    const e = await api.kms.summary().catch((error: unknown) => error)
    expect(e).toBeInstanceOf(KmsGuardError)
    expect((e as KmsGuardError).code).toBe('TIMEOUT')
    expect((e as KmsGuardError).exitCode).toBe(6)
    await agent.close()
  })

  it('does not start a retry that the deadline could not accommodate', async () => {
    const {pool, api, agent} = setup({deadlineMs: 2_000, maxRetries: 3})
    pool.intercept({path: '/v1/kms/summary', method: 'GET'}).reply(429, {message: 'later'}, {headers: {'retry-after': '30'}})
    const e = (await api.kms.summary().catch((error: unknown) => error)) as KmsGuardError
    expect(e.code).toBe('RATE_LIMITED')
    expect(api.transport.requestCount).toBe(1)
    await agent.close()
  })

  it('a connection reset on a read is retried through the dispatcher', async () => {
    const {pool, api, agent} = setup({maxRetries: 2})
    pool.intercept({path: '/v1/kms/summary', method: 'GET'}).replyWithError(Object.assign(new Error('reset'), {code: 'ECONNRESET'}))
    pool.intercept({path: '/v1/kms/summary', method: 'GET'}).reply(200, {featureEnabled: true})
    expect((await api.kms.summary()).featureEnabled).toBe(true)
    expect(api.transport.requestCount).toBe(2)
    agent.assertNoPendingInterceptors()
    await agent.close()
  })

  it('an unreachable dispatcher target is reported as a network error naming the endpoint', async () => {
    const {api, agent} = setup()
    const e = (await api.kms.getKey('nl-01', 'k').catch((error: unknown) => error)) as KmsGuardError
    expect(e.exitCode).toBe(6)
    expect(e.message).toMatch(/GET \/v1\/kms\/nl-01\/keys\/k/)
    await agent.close()
  })
})
