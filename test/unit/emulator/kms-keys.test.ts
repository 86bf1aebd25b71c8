import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {client, KMS, type Call, type KeyJson} from './helpers.js'

const DAY = 24 * 3600 * 1000

let h: EmulatorHandle
let api: Call

beforeAll(async () => {
  h = await startEmulator({quiet: true})
  api = client(h)
})
afterAll(async () => {
  await h.close()
})

const create = (name: string, keyType = 'aes256-gcm96', extra: Record<string, unknown> = {}, call: Call = api) =>
  call<KeyJson>('POST', `${KMS}/keys`, {name, keyType, ...extra})

interface SummaryJson {
  featureEnabled: boolean
  regions: {identity: string; slug: string; name: string; kmsAvailable: boolean; totalKeys: number; activeKeys: number; disabledKeys: number; pendingDeletionKeys: number}[]
}

describe('summary and gates', () => {
  it('reports the feature flag, both regions and per-scope key counts', async () => {
    const res = await api<SummaryJson>('GET', '/v1/kms/summary')
    expect(res.status).toBe(200)
    expect(res.body.featureEnabled).toBe(true)
    const nl01 = res.body.regions.find((r) => r.slug === 'nl-01')
    const nl02 = res.body.regions.find((r) => r.slug === 'nl-02')
    expect(nl01).toMatchObject({identity: 'region-nl-01', kmsAvailable: true})
    expect(nl02).toMatchObject({identity: 'region-nl-02', kmsAvailable: false, totalKeys: 0})
    const orgKeys = Object.values(DEMO.keys).filter((k) => k.project === undefined)
    expect(nl01?.totalKeys).toBe(orgKeys.length)
    expect(nl01?.disabledKeys).toBe(orgKeys.filter((k) => k.status === 'disabled').length)
    expect(nl01?.pendingDeletionKeys).toBe(orgKeys.filter((k) => k.status === 'pending_deletion').length)
    const proj = await client(h, {project: 'payments'})<SummaryJson>('GET', '/v1/kms/summary')
    expect(proj.body.regions.find((r) => r.slug === 'nl-01')?.totalKeys).toBe(Object.values(DEMO.keys).filter((k) => k.project === 'payments').length)
  })

  it('feature gate off, summary mode: summary says featureEnabled false, other KMS calls 403', async () => {
    const settings = h.state.orgs[0].settings
    settings.kmsFeatureEnabled = false
    try {
      const s = await api<SummaryJson>('GET', '/v1/kms/summary')
      expect(s.status).toBe(200)
      expect(s.body.featureEnabled).toBe(false)
      expect((await api('GET', `${KMS}/keys`)).status).toBe(403)
      expect((await create('gated')).status).toBe(403)
    } finally {
      settings.kmsFeatureEnabled = true
    }
  })

  it('feature gate off, all mode: even the summary is 403', async () => {
    const settings = h.state.orgs[0].settings
    settings.kmsFeatureEnabled = false
    settings.kmsGateMode = 'all'
    try {
      const s = await api('GET', '/v1/kms/summary')
      expect(s.status).toBe(403)
      expect(s.body.message).toMatch(/not enabled/)
      expect((await api('GET', `${KMS}/keys/${DEMO.keys.appSecrets.slug}`)).status).toBe(403)
    } finally {
      settings.kmsFeatureEnabled = true
      settings.kmsGateMode = 'summary'
    }
  })

  it('region without KMS is 503, unknown region 404, region identity accepted', async () => {
    const r503 = await api('GET', '/v1/kms/nl-02/keys')
    expect(r503.status).toBe(503)
    expect(r503.body.message).toMatch(/nl-02/)
    expect((await api('GET', '/v1/kms/xx-99/keys')).status).toBe(404)
    expect((await api('GET', '/v1/kms/region-nl-01/keys')).status).toBe(200)
  })
})

describe('list and get', () => {
  it('lists only the active scope as a plain array', async () => {
    const org = await api<KeyJson[]>('GET', `${KMS}/keys`)
    expect(Array.isArray(org.body)).toBe(true)
    const slugs = org.body.map((k) => k.slug)
    expect(slugs).toContain(DEMO.keys.appSecrets.slug)
    expect(slugs).not.toContain(DEMO.keys.paymentsData.slug)
    const proj = await client(h, {project: DEMO.projects.payments.identity})<KeyJson[]>('GET', `${KMS}/keys`)
    expect(proj.body.map((k) => k.slug).sort()).toEqual([DEMO.keys.paymentsData.slug, DEMO.keys.paymentsTokens.slug].sort())
    expect(proj.body.every((k) => k.projectId === DEMO.projects.payments.identity)).toBe(true)
  })

  it('honours identity, name, slug, status and matchLabels filters', async () => {
    const bySlug = await api<KeyJson[]>('GET', `${KMS}/keys?slug=${DEMO.keys.escrowKey.slug}`)
    expect(bySlug.body.map((k) => k.identity)).toEqual([DEMO.keys.escrowKey.identity])
    const byId = await api<KeyJson[]>('GET', `${KMS}/keys?identity=${DEMO.keys.legacyData.identity}`)
    expect(byId.body.map((k) => k.slug)).toEqual([DEMO.keys.legacyData.slug])
    const byName = await api<KeyJson[]>('GET', `${KMS}/keys?name=nope`)
    expect(byName.body).toEqual([])
    const disabled = await api<KeyJson[]>('GET', `${KMS}/keys?status=disabled`)
    expect(disabled.body.every((k) => k.status === 'disabled')).toBe(true)
    expect(disabled.body.length).toBeGreaterThan(0)
    const fleet = await api<KeyJson[]>('GET', `${KMS}/keys?${encodeURIComponent('matchLabels[team]')}=fleet`)
    expect(fleet.body.map((k) => k.slug).sort()).toEqual([DEMO.keys.fleetAlpha.slug, DEMO.keys.fleetBeta.slug])
  })

  it('gets by identity or slug; other scopes are 404; unknown project header is 404', async () => {
    const byId = await api<KeyJson>('GET', `${KMS}/keys/${DEMO.keys.appSecrets.identity}`)
    expect(byId.status).toBe(200)
    expect(byId.body).toMatchObject({slug: 'app-secrets', keyType: 'aes256-gcm96', status: 'active', latestVersion: 2})
    expect(byId.body.versions.map((v) => v.version)).toEqual([1, 2])
    expect((await api<KeyJson>('GET', `${KMS}/keys/app-secrets`)).body.identity).toBe(DEMO.keys.appSecrets.identity)
    const hidden = await api('GET', `${KMS}/keys/${DEMO.keys.paymentsData.slug}`)
    expect(hidden.status).toBe(404)
    expect(hidden.body).toEqual({message: 'key not found'})
    expect((await client(h, {project: 'payments'})('GET', `${KMS}/keys/${DEMO.keys.appSecrets.slug}`)).status).toBe(404)
    expect((await client(h, {project: 'nope'})('GET', `${KMS}/keys`)).status).toBe(404)
  })
})

describe('create', () => {
  it('creates a key with a derived slug and 409s on a duplicate slug in the same scope only', async () => {
    const res = await create('My App Key!', 'aes128-gcm96', {labels: {team: 'x'}, description: 'd'})
    expect(res.status).toBe(201)
    expect(res.body.identity).toMatch(/^kms-[0-9a-f]{12}$/)
    expect(res.body).toMatchObject({name: 'My App Key!', slug: 'my-app-key', status: 'active', latestVersion: 1, exportAllowed: false, imported: false})
    const dup = await create('my app key')
    expect(dup.status).toBe(409)
    expect(dup.body.message).toMatch(/my-app-key/)
    const inProject = await create('My App Key!', 'aes256-gcm96', {}, client(h, {project: 'web'}))
    expect(inProject.status).toBe(201)
    expect(inProject.body.projectId).toBe(DEMO.projects.web.identity)
    expect(h.state.keys.find((k) => k.identity === res.body.identity)?.versions[0].material.length).toBe(16)
  })

  it('validates the request', async () => {
    const bad = [
      {keyType: 'aes256-gcm96'},
      {name: 'x', keyType: 'aes512'},
      {name: 'x'.repeat(256), keyType: 'aes256-gcm96'},
      {name: 'r0', keyType: 'aes256-gcm96', keyRotationEnabled: true, rotationPeriodInDays: 0},
      {name: 'r1', keyType: 'aes256-gcm96', keyRotationEnabled: true, rotationPeriodInDays: 3651},
      {name: 'r2', keyType: 'aes256-gcm96', keyRotationEnabled: true},
      {name: '!!!', keyType: 'aes256-gcm96'},
      {name: 'l', keyType: 'aes256-gcm96', labels: {a: 1}},
    ]
    for (const body of bad) {
      const res = await api('POST', `${KMS}/keys`, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(typeof res.body.message).toBe('string')
    }
    const ok = await create('rotating', 'aes256-gcm96', {keyRotationEnabled: true, rotationPeriodInDays: 3650})
    expect(ok.body).toMatchObject({keyRotationEnabled: true, rotationPeriodInDays: 3650})
    const notJson = await fetch(`${h.url}${KMS}/keys`, {method: 'POST', headers: {authorization: `Token ${DEMO.tokens.operator}`, 'x-organisation-identity': 'demo'}, body: '{nope', signal: AbortSignal.timeout(10_000)})
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toEqual({message: 'request body is not valid JSON'})
  })
})

describe('lifecycle', () => {
  it('disable / enable / delete / cancel-deletion transitions and their 400s', async () => {
    const key = (await create('lifecycle-1')).body
    const path = `${KMS}/keys/${key.slug}`
    expect((await api<KeyJson>('POST', `${path}/disable`)).body.status).toBe('disabled')
    expect((await api('POST', `${path}/disable`)).status).toBe(400)
    expect((await api<KeyJson>('POST', `${path}/enable`)).body.status).toBe('active')
    expect((await api('POST', `${path}/enable`)).status).toBe(400)
    expect((await api('DELETE', `${path}/cancel-deletion`)).status).toBe(400)
    const before = h.clock.now()
    const del = await api<KeyJson>('DELETE', path)
    expect(del.status).toBe(200)
    expect(del.body.status).toBe('pending_deletion')
    const scheduled = Date.parse(del.body.deletionScheduledAt ?? '')
    expect(scheduled - before).toBeGreaterThanOrEqual(30 * DAY)
    expect(scheduled - before).toBeLessThan(30 * DAY + 60_000)
    expect((await api('DELETE', path)).status).toBe(400)
    expect((await api('POST', `${path}/enable`)).status).toBe(400)
    expect((await api<KeyJson>('GET', path)).body.status).toBe('pending_deletion')
    const cancel = await api<KeyJson>('DELETE', `${path}/cancel-deletion`)
    expect(cancel.status).toBe(200)
    expect(cancel.body.status).toBe('active')
    expect(cancel.body.deletionScheduledAt).toBeUndefined()
    const actions = h.state.audit.filter((e) => e.resourceIdentity === key.identity).map((e) => `${e.action}:${e.context.status}`)
    expect(actions).toEqual(expect.arrayContaining([
      'kms.key.create:201', 'kms.key.disable:200', 'kms.key.disable:400', 'kms.key.enable:200', 'kms.key.delete:200', 'kms.key.cancel_deletion:200',
    ]))
  })

  it('a disabled key can be scheduled for deletion; keys are purged once the window passes', async () => {
    const key = (await create('lifecycle-purge')).body
    const path = `${KMS}/keys/${key.identity}`
    await api('POST', `${path}/disable`)
    expect((await api<KeyJson>('DELETE', path)).body.status).toBe('pending_deletion')
    h.clock.advance(30 * DAY - 60_000)
    expect((await api('GET', path)).status).toBe(200)
    h.clock.advance(120_000)
    expect((await api('GET', path)).status).toBe(404)
    expect((await api<KeyJson[]>('GET', `${KMS}/keys`)).body.map((k) => k.identity)).not.toContain(key.identity)
    expect(h.state.keys.some((k) => k.identity === key.identity)).toBe(false)
    // the demo's pending key (scheduled 12 days ahead) went too
    expect(h.state.keys.some((k) => k.identity === DEMO.keys.oldHmac.identity)).toBe(false)
  })

  it('rotate adds a version; refuses keys that are not active', async () => {
    const key = (await create('rotate-me')).body
    const path = `${KMS}/keys/${key.slug}`
    const rotated = await api<KeyJson>('POST', `${path}/rotate`)
    expect(rotated.status).toBe(200)
    expect(rotated.body.latestVersion).toBe(2)
    expect(rotated.body.versions.map((v) => v.version)).toEqual([1, 2])
    const stored = h.state.keys.find((k) => k.identity === key.identity)
    expect(stored?.versions[0].material.equals(stored.versions[1].material)).toBe(false)
    await api('POST', `${path}/disable`)
    const refused = await api('POST', `${path}/rotate`)
    expect(refused.status).toBe(400)
    expect(refused.body.message).toMatch(/disabled/)
    const events = h.state.audit.filter((e) => e.resourceIdentity === key.identity && e.action === 'kms.rotate')
    expect(events.map((e) => e.context.status)).toEqual([200, 400])
    expect(events[0].context.keyVersion).toBe('2')
  })

  it('PATCH rotation updates settings partially and validates', async () => {
    const key = (await create('patch-rotation')).body
    const path = `${KMS}/keys/${key.slug}/rotation`
    expect((await api('PATCH', path, {keyRotationEnabled: true})).status).toBe(400)
    const set = await api<KeyJson>('PATCH', path, {keyRotationEnabled: true, rotationPeriodInDays: 180})
    expect(set.body).toMatchObject({keyRotationEnabled: true, rotationPeriodInDays: 180})
    const partial = await api<KeyJson>('PATCH', path, {rotationPeriodInDays: 30})
    expect(partial.body).toMatchObject({keyRotationEnabled: true, rotationPeriodInDays: 30})
    const off = await api<KeyJson>('PATCH', path, {keyRotationEnabled: false})
    expect(off.body).toMatchObject({keyRotationEnabled: false, rotationPeriodInDays: 30})
    expect((await api('PATCH', path, {})).status).toBe(400)
    expect((await api('PATCH', path, {rotationPeriodInDays: 0})).status).toBe(400)
    await api('DELETE', `${KMS}/keys/${key.slug}`)
    expect((await api('PATCH', path, {rotationPeriodInDays: 10})).status).toBe(400)
    expect(h.state.audit.filter((e) => e.resourceIdentity === key.identity && e.action === 'kms.key.update_rotation').length).toBe(7)
  })
})

describe('public keys and wrapping key', () => {
  it('returns PEM public keys per version, filters by ?version, and refuses symmetric keys', async () => {
    const key = (await create('pub-ec', 'ecdsa-p384')).body
    const path = `${KMS}/keys/${key.slug}/public-key`
    const one = await api<{keys: Record<string, string>}>('GET', path)
    expect(Object.keys(one.body.keys)).toEqual(['1'])
    expect(one.body.keys['1']).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    await api('POST', `${KMS}/keys/${key.slug}/rotate`)
    const both = await api<{keys: Record<string, string>}>('GET', path)
    expect(Object.keys(both.body.keys)).toEqual(['1', '2'])
    expect(both.body.keys['1']).not.toBe(both.body.keys['2'])
    const v2 = await api<{keys: Record<string, string>}>('GET', `${path}?version=2`)
    expect(v2.body.keys).toEqual({2: both.body.keys['2']})
    expect((await api('GET', `${path}?version=9`)).status).toBe(404)
    expect((await api('GET', `${path}?version=abc`)).status).toBe(400)
    expect((await api('GET', `${KMS}/keys/${DEMO.keys.appSecrets.slug}/public-key`)).status).toBe(400)
    const ed = await api<{keys: Record<string, string>}>('GET', `${KMS}/keys/${DEMO.keys.releaseSigning.slug}/public-key`)
    expect(Buffer.from(ed.body.keys['1'], 'base64').length).toBe(32)
  })
})

describe('routing', () => {
  it('answers unknown routes 404 and wrong methods 405, always with a message', async () => {
    const unknown = await api('GET', '/v1/nothing-here')
    expect(unknown.status).toBe(404)
    expect(typeof unknown.body.message).toBe('string')
    const wrong = await api('PUT', `${KMS}/keys`)
    expect(wrong.status).toBe(405)
    expect(typeof wrong.body.message).toBe('string')
  })
})
