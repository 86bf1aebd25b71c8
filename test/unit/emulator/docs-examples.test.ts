/**
 * The provider's published curl examples (KMS getting started, creating keys, rotation, lifecycle), replayed
 * against the emulator exactly as documented — `Authorization: Bearer $TOKEN` with an access token,
 * `X-Organisation-Identity`, JSON bodies — must give the documented results.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'

let emu: EmulatorHandle
let TOKEN: string
const ORG_ID = DEMO.org.identity

beforeAll(async () => {
  emu = await startEmulator({port: 0, seed: 'demo', quiet: true})
  const res = await fetch(`${emu.url}/oidc/token`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${DEMO.client.id}:${DEMO.client.secret}`).toString('base64')}`}, body: 'grant_type=client_credentials'})
  TOKEN = ((await res.json()) as {access_token: string}).access_token
})
afterAll(async () => emu?.close())

/** curl -s [-X METHOD] -H "Authorization: Bearer $TOKEN" -H "X-Organisation-Identity: $ORG_ID" [-H project] [-d body] URL */
async function curl(method: string, path: string, body?: unknown, project?: string) {
  const headers: Record<string, string> = {authorization: `Bearer ${TOKEN}`, 'x-organisation-identity': ORG_ID}
  if (project) headers['x-project-identity'] = project
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(emu.url + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)})
  const text = await res.text()
  return {status: res.status, json: text ? JSON.parse(text) : undefined}
}

describe('KMS getting started', () => {
  it('step 1: the summary reports featureEnabled, per-region kmsAvailable and key counts', async () => {
    const r = await curl('GET', '/v1/kms/summary')
    expect(r.status).toBe(200)
    expect(r.json.featureEnabled).toBe(true)
    const nl01 = r.json.regions.find((x: {slug: string}) => x.slug === 'nl-01')
    expect(nl01).toMatchObject({kmsAvailable: true})
    for (const field of ['totalKeys', 'activeKeys', 'disabledKeys', 'pendingDeletionKeys']) expect(typeof nl01[field]).toBe('number')
  })

  it('step 2: create app-encryption (aes256-gcm96); step 3: encrypt and decrypt a small payload by slug', async () => {
    const created = await curl('POST', '/v1/kms/nl-01/keys', {name: 'app-encryption', description: 'Envelope encryption for application secrets', keyType: 'aes256-gcm96'})
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({name: 'app-encryption', keyType: 'aes256-gcm96', status: 'active', latestVersion: 1})
    const plaintext = Buffer.from('hello, KMS').toString('base64')
    const enc = await curl('POST', `/v1/kms/nl-01/keys/${created.json.slug}/encrypt`, {plaintext})
    expect(enc.status).toBe(200)
    expect(enc.json.ciphertext).toMatch(/^thalassa:v1:/)
    const dec = await curl('POST', `/v1/kms/nl-01/keys/${created.json.identity}/decrypt`, {ciphertext: enc.json.ciphertext})
    expect(dec.json.plaintext).toBe(plaintext)
  })
})

describe('creating keys', () => {
  it('a key with automatic rotation every 90 days', async () => {
    const r = await curl('POST', '/v1/kms/nl-01/keys', {name: 'secrets-encryption', description: 'Encrypts Secrets Manager values', keyType: 'aes256-gcm96', keyRotationEnabled: true, rotationPeriodInDays: 90})
    expect(r.status).toBe(201)
    expect(r.json).toMatchObject({keyRotationEnabled: true, rotationPeriodInDays: 90})
  })

  it('a project-scoped ed25519 key is visible in its project only', async () => {
    const project = DEMO.projects.payments.identity
    const r = await curl('POST', '/v1/kms/nl-01/keys', {name: 'ci-signing', keyType: 'ed25519'}, project)
    expect(r.status).toBe(201)
    expect(r.json.projectId).toBe(project)
    expect((await curl('GET', `/v1/kms/nl-01/keys/${r.json.slug}`, undefined, project)).status).toBe(200)
    expect((await curl('GET', `/v1/kms/nl-01/keys/${r.json.slug}`)).status).toBe(404)
  })

  it('a duplicate slug in the same scope is 409', async () => {
    await curl('POST', '/v1/kms/nl-01/keys', {name: 'dup-key', keyType: 'aes256-gcm96'})
    expect((await curl('POST', '/v1/kms/nl-01/keys', {name: 'dup-key', keyType: 'aes256-gcm96'})).status).toBe(409)
  })

  it('a region without KMS answers 503', async () => {
    expect((await curl('POST', '/v1/kms/nl-02/keys', {name: 'nowhere', keyType: 'aes256-gcm96'})).status).toBe(503)
  })
})

describe('rotation and lifecycle', () => {
  it('PATCH rotation {keyRotationEnabled: true, rotationPeriodInDays: 180}; manual rotate adds a version and old ciphertext still decrypts', async () => {
    const key = (await curl('POST', '/v1/kms/nl-01/keys', {name: 'rotating', keyType: 'aes256-gcm96'})).json
    const patched = await curl('PATCH', `/v1/kms/nl-01/keys/${key.identity}/rotation`, {keyRotationEnabled: true, rotationPeriodInDays: 180})
    expect(patched.json).toMatchObject({keyRotationEnabled: true, rotationPeriodInDays: 180})
    const old = (await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/encrypt`, {plaintext: Buffer.from('v1 data').toString('base64')})).json.ciphertext
    const rotated = await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/rotate`)
    expect(rotated.json.latestVersion).toBe(2)
    expect((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/encrypt`, {plaintext: Buffer.from('x').toString('base64')})).json.ciphertext).toMatch(/^thalassa:v2:/)
    expect(Buffer.from((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/decrypt`, {ciphertext: old})).json.plaintext, 'base64').toString()).toBe('v1 data')
  })

  it('disable blocks crypto (400), enable resumes it; delete schedules deletion in 30 days; cancel-deletion returns it to active', async () => {
    const key = (await curl('POST', '/v1/kms/nl-01/keys', {name: 'lifecycle', keyType: 'aes256-gcm96'})).json
    const payload = {plaintext: Buffer.from('p').toString('base64')}
    expect((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/disable`)).json.status).toBe('disabled')
    expect((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/encrypt`, payload)).status).toBe(400)
    expect((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/enable`)).json.status).toBe('active')
    expect((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/encrypt`, payload)).status).toBe(200)
    const deleted = await curl('DELETE', `/v1/kms/nl-01/keys/${key.identity}`)
    expect(deleted.json.status).toBe('pending_deletion')
    const days = (Date.parse(deleted.json.deletionScheduledAt) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(29.9)
    expect(days).toBeLessThan(30.1)
    expect((await curl('GET', `/v1/kms/nl-01/keys/${key.identity}`)).json.status).toBe('pending_deletion')
    expect((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/encrypt`, payload)).status).toBe(400)
    expect((await curl('DELETE', `/v1/kms/nl-01/keys/${key.identity}/cancel-deletion`)).status).toBe(200)
    expect((await curl('GET', `/v1/kms/nl-01/keys/${key.identity}`)).json.status).toBe('active')
  })

  it('export without exportAllowed is 400 (for a caller the export permission does not stop first)', async () => {
    for (const org of emu.state.orgs) org.settings.exportRequiresElevation = false
    const key = (await curl('POST', '/v1/kms/nl-01/keys', {name: 'no-export', keyType: 'aes256-gcm96'})).json
    expect((await curl('POST', `/v1/kms/nl-01/keys/${key.identity}/export`, {})).status).toBe(400)
  })
})
