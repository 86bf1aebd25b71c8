import nock from 'nock'
import {afterEach, beforeAll, afterAll, describe, expect, it} from 'vitest'
import {createApi} from '../../../src/api/index.js'
import {ApiError, KmsGuardError} from '../../../src/cli/errors.js'
import {ORIGIN, PAT, testApi} from '../../helpers/context.js'

const KEY = {identity: 'kms-1', name: 'app', slug: 'app', keyType: 'aes256-gcm96', status: 'active', exportAllowed: false, keyRotationEnabled: true, rotationPeriodInDays: 90, latestVersion: 1}

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

async function failure(p: Promise<unknown>): Promise<KmsGuardError> {
  const e = await p.then(() => undefined, (error: unknown) => error)
  expect(e).toBeInstanceOf(KmsGuardError)
  return e as KmsGuardError
}

describe('headers', () => {
  it('sends a PAT as Token, with organisation, project, accept and user-agent', async () => {
    const scope = nock(ORIGIN, {reqheaders: {authorization: `Token ${PAT}`, 'x-organisation-identity': 'demo', 'x-project-identity': 'proj-1', accept: 'application/json', 'user-agent': /kmsguard/}}).get('/v1/kms/nl-01/keys/kms-1').reply(200, KEY)
    const api = testApi({project: 'proj-1'})
    expect((await api.kms.getKey('nl-01', 'kms-1')).identity).toBe('kms-1')
    scope.done()
  })

  it('sends other tokens as Bearer and omits the project header in organisation scope', async () => {
    const scope = nock(ORIGIN, {reqheaders: {authorization: 'Bearer eyJ.header.sig'}, badheaders: ['x-project-identity']}).get('/v1/kms/summary').reply(200, {featureEnabled: true})
    const api = createApi({endpoint: ORIGIN, organisation: 'demo', credentials: {kind: 'bearer', token: 'eyJ.header.sig'}, userAgent: 'kmsguard-test'})
    await api.kms.summary()
    scope.done()
  })

  it('memberships go without the organisation header; projects without a project header', async () => {
    const scope = nock(ORIGIN, {badheaders: ['x-organisation-identity', 'x-project-identity']}).get('/v1/me/organisation-memberships').reply(200, [])
    const scope2 = nock(ORIGIN, {badheaders: ['x-project-identity']}).get('/v1/projects').reply(200, [])
    const api = testApi({project: 'proj-1'})
    await api.identity.memberships()
    await api.projects.list()
    scope.done()
    scope2.done()
  })

  it('client credentials: fetches a token once with HTTP Basic, caches it, and sends Bearer', async () => {
    const basic = Buffer.from('cid:c%20secret').toString('base64')
    const token = nock(ORIGIN, {reqheaders: {authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded'}}).post('/oidc/token', 'grant_type=client_credentials').once().reply(200, {access_token: 'minted-token', token_type: 'Bearer', expires_in: 3600})
    const calls = nock(ORIGIN, {reqheaders: {authorization: 'Bearer minted-token'}}).get('/v1/kms/summary').twice().reply(200, {featureEnabled: true})
    const api = createApi({endpoint: ORIGIN, organisation: 'demo', credentials: {kind: 'client-credentials', clientId: 'cid', clientSecret: 'c secret'}, userAgent: 't'})
    await api.kms.summary()
    await api.kms.summary()
    token.done()
    calls.done()
  })

  it('client credentials: falls back to form fields when Basic is refused', async () => {
    nock(ORIGIN).post('/oidc/token', 'grant_type=client_credentials').reply(401, {message: 'no'})
    nock(ORIGIN).post('/oidc/token', (b) => b.client_id === 'cid' && b.client_secret === 'sec').reply(200, {access_token: 'form-token'})
    const calls = nock(ORIGIN, {reqheaders: {authorization: 'Bearer form-token'}}).get('/v1/kms/summary').reply(200, {featureEnabled: true})
    const api = createApi({endpoint: ORIGIN, organisation: 'demo', credentials: {kind: 'client-credentials', clientId: 'cid', clientSecret: 'sec'}, userAgent: 't'})
    await api.kms.summary()
    calls.done()
  })

  it('no credentials → exit 6 with a hint, nothing sent', async () => {
    const api = createApi({endpoint: ORIGIN, organisation: 'demo', userAgent: 't'})
    const e = await failure(api.kms.summary())
    expect(e.exitCode).toBe(6)
    expect(e.code).toBe('NO_CREDENTIALS')
    expect(e.hint).toMatch(/THALASSA_PERSONAL_ACCESS_TOKEN/)
  })

  it('no organisation → usage error before sending', async () => {
    const api = createApi({endpoint: ORIGIN, credentials: {kind: 'pat', token: PAT}, userAgent: 't'})
    const e = await failure(api.kms.summary())
    expect(e.exitCode).toBe(2)
    expect(e.hint).toMatch(/--org/)
  })
})

describe('schema tolerance', () => {
  it('accepts unknown fields, nulls for optional fields and the older secretsAvailable', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true, newThing: 1, regions: [{identity: 'r1', slug: 'nl-01', name: null, kmsAvailable: true, secretsAvailable: true, totalKeys: 3, activeKeys: null, extra: {}}]})
    const s = await testApi().kms.summary()
    expect(s.regions[0]).toMatchObject({slug: 'nl-01', kmsAvailable: true, totalKeys: 3, activeKeys: 0})
  })

  it('delete accepts 204 and 200 with deletionScheduledAt', async () => {
    nock(ORIGIN).delete('/v1/kms/nl-01/keys/kms-1').reply(204)
    expect(await testApi().kms.deleteKey('nl-01', 'kms-1')).toBeUndefined()
    nock(ORIGIN).delete('/v1/kms/nl-01/keys/kms-1').reply(200, {...KEY, status: 'pending_deletion', deletionScheduledAt: '2027-01-03T00:00:00Z'})
    expect(await testApi().kms.deleteKey('nl-01', 'kms-1')).toMatchObject({deletionScheduledAt: '2027-01-03T00:00:00Z'})
  })

  it('secrets accept the nested kmsKey object and the flat kmsKeyIdentity', async () => {
    nock(ORIGIN).get('/v1/secrets/nl-01/secrets').query({pathPrefix: '/'}).reply(200, [{path: '/a', kmsKey: {...KEY}}, {path: '/b', kmsKeyIdentity: 'kms-2'}, {path: '/c'}])
    const list = await testApi().secrets.list('nl-01', null)
    expect(list.map((s) => s.kmsKey?.identity ?? s.kmsKeyIdentity ?? null)).toEqual(['kms-1', 'kms-2', null])
  })

  it('a body of the wrong shape is exit 6 naming the endpoint and the field', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: 'yes'})
    const e = await failure(testApi().kms.summary())
    expect(e.exitCode).toBe(6)
    expect(e.code).toBe('MALFORMED_RESPONSE')
    expect(e.message).toMatch(/GET \/v1\/kms\/summary .*featureEnabled/)
  })

  it('a body that is not JSON is exit 6 (after retries for reads)', async () => {
    const scope = nock(ORIGIN).get('/v1/kms/summary').times(3).reply(200, '<html>proxy</html>')
    const e = await failure(testApi().kms.summary())
    expect(e.code).toBe('MALFORMED_RESPONSE')
    expect(e.message).toMatch(/not JSON/)
    scope.done()
  })
})

describe('status mapping', () => {
  const cases: Array<[number, string]> = [[400, 'BAD_REQUEST'], [401, 'AUTH_FAILED'], [403, 'PERMISSION_DENIED'], [404, 'NOT_FOUND'], [409, 'CONFLICT']]
  for (const [status, code] of cases) {
    it(`${status} → ${code}, exit 6, the API message shown, no retry`, async () => {
      const scope = nock(ORIGIN).get('/v1/kms/nl-01/keys/kms-1').once().reply(status, {message: `server says ${status}`})
      const e = await failure(testApi().kms.getKey('nl-01', 'kms-1'))
      expect(e).toBeInstanceOf(ApiError)
      expect(e.exitCode).toBe(6)
      expect(e.code).toBe(code)
      expect(e.message).toContain(`server says ${status}`)
      scope.done()
    })
  }

  it('404 hints that KMS hides permission denials as not found', async () => {
    nock(ORIGIN).get('/v1/kms/nl-01/keys/x').reply(404, {message: 'not found'})
    expect((await failure(testApi().kms.getKey('nl-01', 'x'))).hint).toMatch(/permission/)
  })

  it('503 → SERVICE_UNAVAILABLE after the read was retried', async () => {
    const scope = nock(ORIGIN).get('/v1/kms/nl-02/keys').times(3).reply(503, {message: 'kms unavailable'})
    const e = await failure(testApi().kms.listKeys('nl-02'))
    expect(e.code).toBe('SERVICE_UNAVAILABLE')
    scope.done()
  })
})

describe('retry policy', () => {
  it('retries a read on 500/502/429 and succeeds', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(500, {message: 'x'})
    nock(ORIGIN).get('/v1/kms/summary').reply(502)
    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true})
    expect((await testApi().kms.summary()).featureEnabled).toBe(true)
  })

  it('honours Retry-After on 429 (seconds)', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(429, {message: 'slow down'}, {'Retry-After': '0'})
    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true})
    expect((await testApi().kms.summary()).featureEnabled).toBe(true)
  })

  it('gives up after the bounded number of retries', async () => {
    const scope = nock(ORIGIN).get('/v1/kms/summary').times(4).reply(500, {message: 'down'})
    const api = testApi({maxRetries: 3})
    const e = await failure(api.kms.summary())
    expect(e.code).toBe('SERVER_ERROR')
    expect(api.transport.requestCount).toBe(4)
    scope.done()
  })

  it('never retries a mutation that may have reached the server', async () => {
    const scope = nock(ORIGIN).post('/v1/kms/nl-01/keys/kms-1/rotate').once().reply(503, {message: 'busy'})
    const api = testApi()
    await failure(api.kms.rotate('nl-01', 'kms-1'))
    expect(api.transport.requestCount).toBe(1)
    scope.done()
    nock(ORIGIN).post('/v1/kms/nl-01/keys/kms-1/export').replyWithError({code: 'ECONNRESET', message: 'socket hang up'})
    const api2 = testApi()
    expect((await failure(api2.kms.exportKey('nl-01', 'kms-1'))).code).toBe('NETWORK_ERROR')
    expect(api2.transport.requestCount).toBe(1)
  })

  it('retries a mutation when the connection was refused (the request never left)', async () => {
    nock(ORIGIN).post('/v1/kms/nl-01/keys/kms-1/disable').replyWithError({code: 'ECONNREFUSED', message: 'refused'})
    nock(ORIGIN).post('/v1/kms/nl-01/keys/kms-1/disable').reply(200, {...KEY, status: 'disabled'})
    expect((await testApi().kms.disable('nl-01', 'kms-1')).status).toBe('disabled')
  })
})

describe('redaction', () => {
  it('the debug trace shows the auth scheme but never the token', async () => {
    nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true})
    const lines: string[] = []
    const api = createApi({endpoint: ORIGIN, organisation: 'demo', credentials: {kind: 'pat', token: PAT}, userAgent: 't', debug: (l) => lines.push(l)})
    await api.kms.summary()
    const trace = lines.join('\n')
    expect(trace).toContain('authorization: Token [REDACTED]')
    expect(trace).toContain('GET /v1/kms/summary -> 200')
    expect(trace).not.toContain(PAT)
  })

  it('error messages never echo a non-JSON error body', async () => {
    nock(ORIGIN).get('/v1/kms/nl-01/keys/k').reply(400, 'echo of tc_pat_secret_in_body')
    const e = await failure(testApi().kms.getKey('nl-01', 'k'))
    expect(JSON.stringify({m: e.message, h: e.hint, d: e.details})).not.toContain('tc_pat_secret_in_body')
  })
})

describe('transport security', () => {
  it('refuses NODE_TLS_REJECT_UNAUTHORIZED=0 unless the endpoint is loopback', () => {
    expect(() => createApi({endpoint: ORIGIN, userAgent: 't', env: {NODE_TLS_REJECT_UNAUTHORIZED: '0'}})).toThrow(/NODE_TLS_REJECT_UNAUTHORIZED/)
    expect(() => createApi({endpoint: 'http://127.0.0.1:1', userAgent: 't', env: {NODE_TLS_REJECT_UNAUTHORIZED: '0'}})).not.toThrow()
  })
})
