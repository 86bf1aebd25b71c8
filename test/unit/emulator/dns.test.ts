import {createPublicKey} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {client, KMS, type Call, type KeyJson} from './helpers.js'

let h: EmulatorHandle
let api: Call
let web: Call

interface ZoneJson { identity: string; name: string; projectId?: string }
interface DnssecJson {
  enabled: boolean
  dsDelegated: boolean
  kmsKeyIdentity?: string
  region?: string
  dsRecords: {record: string; keyTag: number; algorithm: number; digestTypeName: string; publicKey: string}[]
  nextDsProbeAt?: string
  lastSignError?: string | null
}

beforeAll(async () => {
  h = await startEmulator({quiet: true})
  api = client(h)
  web = client(h, {project: DEMO.projects.web.identity})
})
afterAll(async () => {
  await h.close()
})

describe('zones', () => {
  it('lists and gets zones of the active scope by identity or name', async () => {
    const org = await api<ZoneJson[]>('GET', '/v1/dns/zones')
    expect(org.body.map((z) => z.name)).toEqual([DEMO.zones.org.name])
    const proj = await web<ZoneJson[]>('GET', '/v1/dns/zones')
    expect(proj.body.map((z) => z.identity)).toEqual([DEMO.zones.web.identity])
    expect((await web<ZoneJson>('GET', `/v1/dns/zones/${DEMO.zones.web.identity}`)).body.name).toBe(DEMO.zones.web.name)
    expect((await web<ZoneJson>('GET', `/v1/dns/zones/${DEMO.zones.web.name}.`)).body.identity).toBe(DEMO.zones.web.identity)
    expect((await api('GET', `/v1/dns/zones/${DEMO.zones.web.identity}`)).status).toBe(404)
  })

  it('creates, rejects duplicates and bad names, deletes', async () => {
    const res = await api<ZoneJson>('POST', '/v1/dns/zones', {zoneName: 'New.Example.'})
    expect(res.status).toBe(201)
    expect(res.body.identity).toMatch(/^dnsz-/)
    expect(res.body.name).toBe('new.example')
    expect((await api('POST', '/v1/dns/zones', {zoneName: 'new.example'})).status).toBe(409)
    for (const zoneName of ['localhost', 'bad_name.example', '-x.example', '']) {
      expect((await api('POST', '/v1/dns/zones', {zoneName})).status, zoneName).toBe(400)
    }
    expect((await api('DELETE', `/v1/dns/zones/${res.body.identity}`)).status).toBe(204)
    expect((await api('GET', '/v1/dns/zones/new.example')).status).toBe(404)
  })
})

describe('dnssec', () => {
  it('shows the seeded binding with a DS record derived from the signing key', async () => {
    const res = await web<DnssecJson>('GET', `/v1/dns/zones/${DEMO.zones.web.identity}/dnssec`)
    expect(res.body).toMatchObject({enabled: true, dsDelegated: true, kmsKeyIdentity: DEMO.keys.zoneSigning.identity, region: 'nl-01', lastSignError: null})
    const ds = res.body.dsRecords[0]
    expect(ds.algorithm).toBe(13)
    expect(ds.digestTypeName).toBe('SHA-256')
    expect(ds.record).toBe(`${ds.keyTag} 13 2 ${ds.record.split(' ')[3]}`)
    expect(ds.record.split(' ')[3]).toMatch(/^[0-9a-f]{64}$/)
    const pem = (await api<{keys: Record<string, string>}>('GET', `${KMS}/keys/${DEMO.keys.zoneSigning.slug}/public-key`)).body.keys['1']
    const jwk = createPublicKey(pem).export({format: 'jwk'})
    const xy = Buffer.concat([Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')])
    expect(Buffer.from(ds.publicKey, 'base64').equals(xy)).toBe(true)
    const plain = await api<DnssecJson>('GET', `/v1/dns/zones/${DEMO.zones.org.name}/dnssec`)
    expect(plain.body).toMatchObject({enabled: false, dsDelegated: false})
  })

  it('auto-creates the DNSSEC key in the zone scope, then delegates after 30 s of clock', async () => {
    const zone = (await web<ZoneJson>('POST', '/v1/dns/zones', {zoneName: 'auto.example'})).body
    const res = await web<DnssecJson>('PUT', `/v1/dns/zones/${zone.identity}/dnssec`, {region: 'nl-01'})
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({enabled: true, dsDelegated: false, region: 'nl-01'})
    expect(res.body.nextDsProbeAt).toBeDefined()
    const key = await web<KeyJson>('GET', `${KMS}/keys/${res.body.kmsKeyIdentity}`)
    expect(key.body).toMatchObject({name: 'DNSSEC auto.example', keyType: 'ecdsa-p256', projectId: DEMO.projects.web.identity})
    expect(h.state.audit.some((e) => e.action === 'kms.key.create' && e.resourceIdentity === key.body.identity)).toBe(true)
    h.clock.advance(31_000)
    expect((await web<DnssecJson>('GET', `/v1/dns/zones/${zone.identity}/dnssec`)).body.dsDelegated).toBe(true)
    const again = await web<DnssecJson>('PUT', `/v1/dns/zones/${zone.identity}/dnssec`, {region: 'region-nl-01'})
    expect(again.body.kmsKeyIdentity).toBe(key.body.identity)
    const off = await web<DnssecJson>('DELETE', `/v1/dns/zones/${zone.identity}/dnssec`)
    expect(off.body.enabled).toBe(false)
    expect((await web('GET', `${KMS}/keys/${key.body.identity}`)).status).toBe(200)
  })

  it('binds only active DNSSEC-capable keys of the same region and scope', async () => {
    const zone = (await api<ZoneJson>('POST', '/v1/dns/zones', {zoneName: 'bind.example'})).body
    const put = (body: unknown) => api<DnssecJson>('PUT', `/v1/dns/zones/${zone.name}/dnssec`, body)
    expect((await put({region: 'nl-01', kmsKeyIdentity: DEMO.keys.appSecrets.slug})).status).toBe(400)
    expect((await put({region: 'nl-01', kmsKeyIdentity: DEMO.keys.releaseSigning.slug})).status).toBe(400)
    expect((await put({region: 'nl-01', kmsKeyIdentity: DEMO.keys.paymentsData.slug})).status).toBe(404)
    expect((await put({region: 'nl-01', kmsKeyIdentity: 'kms-nope'})).status).toBe(404)
    expect((await put({region: 'nl-02', kmsKeyIdentity: DEMO.keys.zoneSigning.slug})).status).toBe(503)
    expect((await put({kmsKeyIdentity: DEMO.keys.zoneSigning.slug})).status).toBe(400)
    const rsa = await api<KeyJson>('POST', `${KMS}/keys`, {name: 'dnssec-rsa', keyType: 'rsa-2048'})
    const bound = await put({region: 'nl-01', kmsKeyIdentity: rsa.body.identity})
    expect(bound.status).toBe(200)
    expect(bound.body.dsRecords[0].algorithm).toBe(8)
    await api('POST', `${KMS}/keys/dnssec-rsa/disable`)
    const broken = await api<DnssecJson>('GET', `/v1/dns/zones/${zone.name}/dnssec`)
    expect(broken.body.lastSignError).toMatch(/disabled/)
    expect((await put({region: 'nl-01', kmsKeyIdentity: rsa.body.identity})).status).toBe(400)
  })
})
