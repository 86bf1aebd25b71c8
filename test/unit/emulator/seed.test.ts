import {describe, expect, it} from 'vitest'
import {DEMO, startEmulator} from '../../../src/emulator/index.js'
import {client, KMS, type KeyJson} from './helpers.js'

describe('demo seed', () => {
  it('matches the names exported in DEMO', async () => {
    const emu = await startEmulator({quiet: true})
    try {
      const s = emu.state
      expect(s.orgs.map((o) => [o.identity, o.slug])).toEqual([[DEMO.org.identity, 'demo']])
      expect(s.regions.map((r) => [r.slug, r.kmsAvailable])).toEqual([['nl-01', true], ['nl-02', false]])
      for (const k of Object.values(DEMO.keys)) {
        const key = s.keys.find((x) => x.identity === k.identity)
        expect(key, k.slug).toMatchObject({slug: k.slug, keyType: k.keyType, status: k.status, regionSlug: 'nl-01'})
        expect(key?.projectIdentity).toBe(k.project === undefined ? undefined : DEMO.projects[k.project].identity)
      }
      expect(s.keys.find((k) => k.identity === DEMO.keys.escrowKey.identity)?.exportAllowed).toBe(true)
      expect(s.keys.find((k) => k.identity === DEMO.keys.oldHmac.identity)?.deletionScheduledAt).toBeGreaterThan(emu.clock.now())
      const appSecretUsers = s.secrets.filter((x) => x.kmsKeyIdentity === DEMO.keys.appSecrets.identity)
      expect(new Set(appSecretUsers.map((x) => x.projectIdentity))).toEqual(new Set([undefined, DEMO.projects.payments.identity]))
      expect(s.secrets.some((x) => x.kmsKeyIdentity === DEMO.keys.legacyData.identity)).toBe(false)
      const webZone = s.zones.find((z) => z.identity === DEMO.zones.web.identity)
      expect(webZone).toMatchObject({name: DEMO.zones.web.name, projectIdentity: DEMO.projects.web.identity, dnssec: {kmsKeyIdentity: DEMO.keys.zoneSigning.identity}})
      expect(s.iamPolicies.map((p) => p.identity)).toContain(DEMO.exportPolicy.identity)
      expect(s.orgs[0].settings).toMatchObject({exportRequiresElevation: true, exportPolicyIdentity: DEMO.exportPolicy.identity, kmsFeatureEnabled: true})
      // every seeded secret decrypts through the API with its key
      const value = await client(emu)<{secretString: string}>('POST', `/v1/secrets/nl-01/secret${DEMO.secrets.org[0]}/value`, {})
      expect(Buffer.from(value.body.secretString, 'base64').length).toBe(24)
    } finally {
      await emu.close()
    }
  })

  it('empty seed has identities and projects but no keys, secrets, zones or history', async () => {
    const emu = await startEmulator({quiet: true, seed: 'empty'})
    try {
      expect(emu.state.projects).toHaveLength(2)
      expect([emu.state.keys, emu.state.secrets, emu.state.zones, emu.state.audit, emu.state.elevations].map((a) => a.length)).toEqual([0, 0, 0, 0, 0])
      expect((await client(emu)('GET', `${KMS}/keys`)).body).toEqual([])
    } finally {
      await emu.close()
    }
  })
})

describe('scale seed', () => {
  it('generates the requested volumes spread over scopes, sharing DNSSEC keys per scope', async () => {
    const emu = await startEmulator({quiet: true, seed: {kind: 'scale', projects: 20, secrets: 10_000, zones: 2_000, dnssecFraction: 0.25, keys: 40, labelledKeys: 12}})
    try {
      const s = emu.state
      expect(s.projects).toHaveLength(20)
      expect(s.secrets).toHaveLength(10_000)
      expect(s.zones).toHaveLength(2_000)
      expect(s.zones.filter((z) => z.dnssec !== undefined)).toHaveLength(500)
      const symmetric = s.keys.filter((k) => k.keyType === 'aes256-gcm96')
      expect(symmetric).toHaveLength(40)
      expect(symmetric.filter((k) => k.labels.team === 'fleet')).toHaveLength(12)
      const dnssecKeys = new Set(s.zones.flatMap((z) => (z.dnssec === undefined ? [] : [z.dnssec.kmsKeyIdentity])))
      expect(dnssecKeys.size).toBe(21)
      expect(new Set(s.secrets.map((x) => x.projectIdentity)).size).toBe(21)
      expect(new Set(s.zones.map((z) => z.projectIdentity)).size).toBe(21)

      const api = client(emu)
      const fleet = await api<KeyJson[]>('GET', `${KMS}/keys?${encodeURIComponent('matchLabels[team]')}=fleet`)
      expect(fleet.body).toHaveLength(12)
      const orgSecrets = await api<unknown[]>('GET', '/v1/secrets/nl-01/secrets?pathPrefix=/')
      expect(orgSecrets.body).toHaveLength(s.secrets.filter((x) => x.projectIdentity === undefined).length)
      const signed = s.zones.find((z) => z.dnssec !== undefined && z.projectIdentity !== undefined)
      const p = s.projects.find((x) => x.identity === signed?.projectIdentity)
      const status = await client(emu, {project: p?.slug})<{enabled: boolean; dsRecords: unknown[]}>('GET', `/v1/dns/zones/${signed?.identity}/dnssec`)
      expect(status.body.enabled).toBe(true)
      expect(status.body.dsRecords).toHaveLength(1)
      const secret = s.secrets[5]
      const scoped = client(emu, {project: s.projects.find((x) => x.identity === secret.projectIdentity)?.slug})
      expect((await scoped('POST', `/v1/secrets/nl-01/secret${secret.path}/value`, {})).status).toBe(200)
    } finally {
      await emu.close()
    }
  })

  it('rejects inconsistent scale options', async () => {
    const base = {kind: 'scale' as const, projects: 1, secrets: 1, zones: 1, dnssecFraction: 0.5, keys: 1}
    await expect(startEmulator({quiet: true, seed: {...base, keys: 0}})).rejects.toThrow(/at least one key/)
    await expect(startEmulator({quiet: true, seed: {...base, dnssecFraction: 2}})).rejects.toThrow(/dnssecFraction/)
    await expect(startEmulator({quiet: true, seed: {...base, labelledKeys: 5}})).rejects.toThrow(/labelledKeys/)
    await expect(startEmulator({quiet: true, seed: {...base, projects: -1}})).rejects.toThrow(/projects/)
  })
})
