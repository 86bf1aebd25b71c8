import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {hashSecret} from '../../../src/emulator/auth.js'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {client, KMS, type Call} from './helpers.js'

let h: EmulatorHandle
let api: Call

interface TokenJson { access_token: string; token_type: string; expires_in: number }
interface MembershipJson { identity: string; role: string; organisation: {identity: string; slug: string}; user: {subject: string; email: string; name: string; createdAt: string} }

beforeAll(async () => {
  h = await startEmulator({quiet: true})
  api = client(h)
})
afterAll(async () => {
  await h.close()
})

const raw = (path: string, init: RequestInit = {}) => fetch(h.url + path, {signal: AbortSignal.timeout(10_000), ...init})

const tokenRequest = (body: string, headers: Record<string, string> = {}) =>
  raw('/oidc/token', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded', ...headers}, body})

describe('credentials', () => {
  it('401s missing, unknown, wrongly-schemed and malformed credentials with a message', async () => {
    const cases: Record<string, string>[] = [
      {},
      {authorization: 'Token tc_pat_wrong'},
      {authorization: `Bearer ${DEMO.tokens.operator}`},
      {authorization: 'Basic b3BlcmF0b3I6eA=='},
    ]
    for (const headers of cases) {
      const res = await raw(`${KMS}/keys`, {headers: {...headers, 'x-organisation-identity': 'demo'}})
      expect(res.status, JSON.stringify(headers)).toBe(401)
      expect(typeof ((await res.json()) as {message: unknown}).message).toBe('string')
    }
  })

  it('requires the organisation header, accepts slug or identity, and 403s non-members', async () => {
    const missing = await client(h, {org: null})('GET', `${KMS}/keys`)
    expect(missing.status).toBe(400)
    expect(missing.body.message).toMatch(/X-Organisation-Identity/)
    expect((await client(h, {org: 'nope'})('GET', `${KMS}/keys`)).status).toBe(403)
    expect((await client(h, {org: DEMO.org.identity})('GET', `${KMS}/keys`)).status).toBe(200)
    h.state.principals.push({subject: 'user-stranger', name: 'Stranger', email: 's@x.example', createdAt: 0, kind: 'user'})
    h.state.personalAccessTokens.push({tokenHash: hashSecret('tc_pat_stranger'), subject: 'user-stranger'})
    const stranger = client(h, {token: 'tc_pat_stranger'})
    expect((await stranger('GET', `${KMS}/keys`)).status).toBe(403)
    expect((await stranger<MembershipJson[]>('GET', '/v1/me/organisation-memberships')).body).toEqual([])
  })
})

describe('identity', () => {
  it('returns the caller\'s memberships without an organisation header', async () => {
    const res = await client(h, {org: null})<MembershipJson[]>('GET', '/v1/me/organisation-memberships')
    expect(res.status).toBe(200)
    expect(res.body).toHaveLength(1)
    expect(res.body[0]).toMatchObject({role: 'MEMBER', organisation: {identity: DEMO.org.identity, slug: 'demo'}, user: DEMO.users.operator})
    const approver = await client(h, {token: DEMO.tokens.approver, org: null})<MembershipJson[]>('GET', '/v1/me/organisation-memberships')
    expect(approver.body[0]).toMatchObject({role: 'OWNER', user: {subject: DEMO.users.approver.subject}})
  })

  it('lists and gets projects, ignoring the project header', async () => {
    const list = await client(h, {project: 'does-not-exist'})<{identity: string; slug: string}[]>('GET', '/v1/projects')
    expect(list.status).toBe(200)
    expect(list.body.map((p) => p.identity).sort()).toEqual([DEMO.projects.payments.identity, DEMO.projects.web.identity])
    expect((await api<{identity: string}>('GET', '/v1/projects/payments')).body.identity).toBe(DEMO.projects.payments.identity)
    expect((await api<{slug: string}>('GET', `/v1/projects/${DEMO.projects.web.identity}`)).body.slug).toBe('web')
    expect((await api('GET', '/v1/projects/nope')).status).toBe(404)
  })
})

describe('OIDC client credentials', () => {
  it('issues bearer tokens for HTTP Basic and form credentials; the token acts as the service account', async () => {
    const basic = Buffer.from(`${DEMO.client.id}:${DEMO.client.secret}`).toString('base64')
    const viaBasic = await tokenRequest('grant_type=client_credentials', {authorization: `Basic ${basic}`})
    expect(viaBasic.status).toBe(200)
    const token = (await viaBasic.json()) as TokenJson
    expect(token).toMatchObject({token_type: 'Bearer', expires_in: 3600})
    expect(token.access_token.startsWith('tc_pat_')).toBe(false)
    const viaForm = await tokenRequest(`grant_type=client_credentials&client_id=${DEMO.client.id}&client_secret=${DEMO.client.secret}`)
    expect(viaForm.status).toBe(200)

    const sa = client(h, {bearer: token.access_token})
    const me = await sa<MembershipJson[]>('GET', '/v1/me/organisation-memberships')
    expect(me.body[0].user.subject).toBe(DEMO.client.subject)
    const enc = await sa('POST', `${KMS}/keys/${DEMO.keys.appSecrets.slug}/encrypt`, {plaintext: Buffer.from('x').toString('base64')})
    expect(enc.status).toBe(200)
    expect(h.state.audit[h.state.audit.length - 1].subject).toBe(DEMO.client.subject)
    expect((await client(h, {token: token.access_token})('GET', `${KMS}/keys`)).status).toBe(401)

    h.clock.advance(3600 * 1000)
    expect((await sa('GET', `${KMS}/keys`)).status).toBe(401)
  })

  it('refuses bad secrets, missing credentials and other grant types', async () => {
    expect((await tokenRequest(`grant_type=client_credentials&client_id=${DEMO.client.id}&client_secret=wrong`)).status).toBe(401)
    expect((await tokenRequest('grant_type=client_credentials')).status).toBe(401)
    const grant = await tokenRequest(`grant_type=password&client_id=${DEMO.client.id}&client_secret=${DEMO.client.secret}`)
    expect(grant.status).toBe(400)
    expect(((await grant.json()) as {message: string}).message).toMatch(/grant_type/)
  })
})

describe('request log', () => {
  it('records method, path, query, caller, project and final status — never tokens or bodies', async () => {
    h.clearRequests()
    await client(h, {project: 'payments'})('GET', `${KMS}/keys?status=active`)
    await api('POST', `${KMS}/keys/${DEMO.keys.appSecrets.slug}/encrypt`, {plaintext: Buffer.from('hush').toString('base64')})
    await client(h, {token: 'tc_pat_nobody'})('GET', `${KMS}/keys`)
    expect(h.requests).toEqual([
      {method: 'GET', path: `${KMS}/keys`, query: 'status=active', user: DEMO.users.operator.subject, project: DEMO.projects.payments.identity, status: 200, at: expect.any(Number)},
      {method: 'POST', path: `${KMS}/keys/${DEMO.keys.appSecrets.slug}/encrypt`, query: '', user: DEMO.users.operator.subject, status: 200, at: expect.any(Number)},
      {method: 'GET', path: `${KMS}/keys`, query: '', user: undefined, status: 401, at: expect.any(Number)},
    ])
    const dump = JSON.stringify(h.requests)
    expect(dump).not.toContain('tc_pat')
    expect(dump).not.toContain(Buffer.from('hush').toString('base64'))
  })
})
