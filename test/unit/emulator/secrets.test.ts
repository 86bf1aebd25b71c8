import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {b64, client, KMS, type Call, type KeyJson} from './helpers.js'

let h: EmulatorHandle
let api: Call
let payments: Call
const SECRETS = '/v1/secrets/nl-01'

interface SecretJson {
  path: string
  kmsKey?: KeyJson
  currentVersion: number
  region?: {slug: string}
  lastAccessedAt?: string
  versions?: {version: number}[]
}
interface RevealJson {
  path: string
  version: number
  secretString?: string
  secretKeyValues?: Record<string, string>
  kmsKeyIdentity: string
  kmsKeyVersion: string
}

beforeAll(async () => {
  h = await startEmulator({quiet: true})
  api = client(h)
  payments = client(h, {project: DEMO.projects.payments.slug})
})
afterAll(async () => {
  await h.close()
})

const createSecret = (body: Record<string, unknown>, call: Call = api) =>
  call<SecretJson>('POST', `${SECRETS}/secrets`, {kmsKeyIdentity: DEMO.keys.appSecrets.identity, ...body})
const reveal = (path: string, call: Call = api, body: unknown = {}) => call<RevealJson>('POST', `${SECRETS}/secret${path}/value`, body)

describe('list and browse', () => {
  it('lists the active scope flat with the bound key nested, never values', async () => {
    const org = await api<SecretJson[]>('GET', `${SECRETS}/secrets?pathPrefix=/`)
    expect(org.status).toBe(200)
    expect(org.body.map((s) => s.path).sort()).toEqual([...DEMO.secrets.org].sort())
    expect(org.body.every((s) => s.kmsKey?.identity === DEMO.keys.appSecrets.identity && s.region?.slug === 'nl-01')).toBe(true)
    expect(org.text).not.toMatch(/secretString|secretKeyValues|ciphertext/)
    const prefixed = await api<SecretJson[]>('GET', `${SECRETS}/secrets?pathPrefix=/app/prod/`)
    expect(prefixed.body.map((s) => s.path).sort()).toEqual(DEMO.secrets.org.filter((p) => p.startsWith('/app/prod/')).sort())
    const proj = await payments<SecretJson[]>('GET', `${SECRETS}/secrets?pathPrefix=/`)
    expect(proj.body.map((s) => s.path).sort()).toEqual([...DEMO.secrets.payments].sort())
    expect(proj.body.map((s) => s.kmsKey?.slug).sort()).toEqual([DEMO.keys.appSecrets.slug, DEMO.keys.paymentsData.slug].sort())
  })

  it('browses one level with prefixes and direct secrets', async () => {
    const top = await api<{path: string; prefixes: string[]; secrets: SecretJson[]}>('GET', `${SECRETS}/secrets?path=/app/`)
    expect(top.body).toMatchObject({path: '/app/', prefixes: ['/app/prod/', '/app/staging/'], secrets: []})
    const leaf = await api<{path: string; prefixes: string[]; secrets: SecretJson[]}>('GET', `${SECRETS}/secrets?path=/app/prod/db`)
    expect(leaf.body.path).toBe('/app/prod/db/')
    expect(leaf.body.secrets.map((s) => s.path)).toEqual(['/app/prod/db/password'])
    expect((await api('GET', `${SECRETS}/secrets?path=app`)).status).toBe(400)
  })
})

describe('create, read, reveal, delete', () => {
  it('encrypts the value with the bound key for real and reveals it', async () => {
    const res = await createSecret({path: '/t/one', secretString: b64('s3cret-value'), description: 'test'})
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({path: '/t/one', currentVersion: 1})
    expect(res.body.kmsKey?.identity).toBe(DEMO.keys.appSecrets.identity)
    const stored = h.state.secrets.find((s) => s.path === '/t/one')
    expect(stored?.versions[0].ciphertext).toMatch(/^thalassa:v2:/)
    expect(JSON.stringify(h.state.secrets)).not.toContain(b64('s3cret-value'))
    const meta = await api<SecretJson>('GET', `${SECRETS}/secret/t/one?includeVersions=true`)
    expect(meta.body.versions?.map((v) => v.version)).toEqual([1])
    expect(meta.text).not.toContain(b64('s3cret-value'))
    const value = await reveal('/t/one')
    expect(value.status).toBe(200)
    expect(value.body).toMatchObject({path: '/t/one', version: 1, kmsKeyIdentity: DEMO.keys.appSecrets.identity, kmsKeyVersion: '2'})
    expect(Buffer.from(value.body.secretString ?? '', 'base64').toString()).toBe('s3cret-value')
    expect((await api<SecretJson>('GET', `${SECRETS}/secret/t/one`)).body.lastAccessedAt).toBeDefined()
    expect((await reveal('/t/one', api, {version: 2})).status).toBe(404)
  })

  it('supports key/value maps and generated values', async () => {
    await createSecret({path: '/t/kv', secretKeyValues: {user: b64('admin'), pass: b64('pw')}})
    expect((await reveal('/t/kv')).body.secretKeyValues).toEqual({user: b64('admin'), pass: b64('pw')})
    await createSecret({path: '/t/gen', generateSecret: {byteLength: 24}})
    expect(Buffer.from((await reveal('/t/gen')).body.secretString ?? '', 'base64').length).toBe(24)
  })

  it('writes kms.encrypt on create and kms.decrypt on reveal, without values', async () => {
    await createSecret({path: '/t/audited', secretString: b64('audit-me')})
    await reveal('/t/audited')
    const events = h.state.audit.filter((e) => e.context.secretPath === '/t/audited')
    expect(events.map((e) => [e.action, e.context.status])).toEqual([['kms.encrypt', 201], ['kms.decrypt', 200]])
    expect(JSON.stringify(events)).not.toContain(b64('audit-me'))
  })

  it('validates paths, values, keys, regions and duplicates', async () => {
    const value = {secretString: b64('v')}
    for (const path of ['no-slash', '/trailing/', '/double//slash', '/bad char', '/' + 'a'.repeat(512)]) {
      expect((await createSecret({path, ...value})).status, path).toBe(400)
    }
    expect((await createSecret({path: '/t/none'})).status).toBe(400)
    expect((await createSecret({path: '/t/two', ...value, generateSecret: {byteLength: 4}})).status).toBe(400)
    expect((await createSecret({path: '/t/k', ...value, kmsKeyIdentity: 'kms-nope'})).status).toBe(404)
    expect((await createSecret({path: '/t/k', ...value, kmsKeyIdentity: DEMO.keys.zoneSigning.identity})).status).toBe(400)
    expect((await createSecret({path: '/t/k', ...value, kmsKeyIdentity: DEMO.keys.legacyData.slug})).status).toBe(400)
    expect((await createSecret({path: '/t/one', ...value})).status).toBe(409)
    expect((await api('POST', '/v1/secrets/nl-02/secrets', {path: '/x', kmsKeyIdentity: 'k', ...value})).status).toBe(503)
    expect((await api('POST', '/v1/secrets/zz-01/secrets', {path: '/x', kmsKeyIdentity: 'k', ...value})).status).toBe(404)
    h.state.orgs[0].settings.kmsFeatureEnabled = false
    try {
      const gated = await api('GET', `${SECRETS}/secrets?pathPrefix=/`)
      expect(gated.status).toBe(403)
      expect(gated.body.message).toMatch(/enable KMS/)
    } finally {
      h.state.orgs[0].settings.kmsFeatureEnabled = true
    }
  })

  it('binds project secrets only to keys of the same scope', async () => {
    expect((await createSecret({path: '/p/x', secretString: b64('v')}, payments)).status).toBe(404)
    const ok = await createSecret({path: '/p/x', secretString: b64('v'), kmsKeyIdentity: DEMO.keys.paymentsData.slug}, payments)
    expect(ok.status).toBe(201)
    expect((await api('GET', `${SECRETS}/secret/p/x`)).status).toBe(404)
    expect((await payments('GET', `${SECRETS}/secret/p/x`)).status).toBe(200)
  })

  it('reveal fails with 400 while the key is disabled; delete removes the secret', async () => {
    const key = await api<KeyJson>('POST', `${KMS}/keys`, {name: 'sm-key', keyType: 'chacha20-poly1305'})
    await createSecret({path: '/t/disable-me', secretString: b64('v'), kmsKeyIdentity: key.body.identity})
    await api('POST', `${KMS}/keys/sm-key/disable`)
    const refused = await reveal('/t/disable-me')
    expect(refused.status).toBe(400)
    expect(refused.body.message).toMatch(/disabled/)
    await api('POST', `${KMS}/keys/sm-key/enable`)
    expect((await reveal('/t/disable-me')).status).toBe(200)
    const del = await api('DELETE', `${SECRETS}/secret/t/disable-me`)
    expect(del.status).toBe(204)
    expect(del.text).toBe('')
    expect((await api('GET', `${SECRETS}/secret/t/disable-me`)).status).toBe(404)
    expect((await api('DELETE', `${SECRETS}/secret/t/disable-me`)).status).toBe(404)
  })
})
