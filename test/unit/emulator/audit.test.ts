import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {b64, client, KMS, type AuditJson, type AuditPageJson, type Call} from './helpers.js'

const T0 = Date.UTC(2027, 2, 1, 12, 0, 0)
const DAY = 24 * 3600 * 1000

let h: EmulatorHandle
let auditor: Call

beforeAll(async () => {
  h = await startEmulator({quiet: true, clock: () => T0})
  auditor = client(h, {token: DEMO.tokens.auditor})
})
afterAll(async () => {
  await h.close()
})

const page = (query: string) => auditor<AuditPageJson>('GET', `/v1/audit${query}`)

async function all(query: string): Promise<AuditJson[]> {
  const items: AuditJson[] = []
  for (let p = 1; ; p++) {
    const res = await page(`${query}${query.includes('?') ? '&' : '?'}page=${p}&limit=50`)
    items.push(...res.body.items)
    if (p >= res.body.totalPages || res.body.items.length === 0) return items
  }
}

describe('paging', () => {
  it('pages 1-based with the documented envelope, newest first', async () => {
    const first = await page('')
    expect(first.status).toBe(200)
    const total = h.state.audit.length
    expect(first.body).toMatchObject({page: 1, itemsPerPage: 100, totalItems: total, totalCount: total, totalPages: Math.ceil(total / 100)})
    expect(first.body.items).toHaveLength(Math.min(100, total))
    const times = first.body.items.map((e) => Date.parse(e.createdAt))
    expect([...times].sort((a, b) => b - a)).toEqual(times)
    const everything = await all('')
    expect(everything).toHaveLength(total)
    expect(new Set(everything.map((e) => e.eventID)).size).toBe(total)
    expect((await page(`?page=${Math.ceil(total / 50) + 1}&limit=50`)).body.items).toEqual([])
  })

  it('rejects bad page and limit values', async () => {
    for (const q of ['?limit=1001', '?limit=0', '?page=0', '?page=x']) expect((await page(q)).status, q).toBe(400)
    expect((await page('?limit=1000')).status).toBe(200)
  })
})

describe('filters and demo history', () => {
  it('filters by action list, resource, user, service account and status', async () => {
    const decryptsAndExports = await all('?action=kms.decrypt,kms.export')
    expect(decryptsAndExports.length).toBeGreaterThan(0)
    expect(new Set(decryptsAndExports.map((e) => e.action))).toEqual(new Set(['kms.decrypt', 'kms.export']))
    const escrow = await all(`?resourceType=kms_key&resourceIdentity=${DEMO.keys.escrowKey.identity}`)
    expect(escrow.every((e) => e.resourceIdentity === DEMO.keys.escrowKey.identity && e.resourceType === 'kms_key')).toBe(true)
    const stranger = await all(`?userIdentity=${DEMO.unknownPrincipal}`)
    expect(stranger.map((e) => [e.action, e.context.status])).toEqual([['kms.decrypt', 400], ['kms.decrypt', 404], ['kms.decrypt', 404]])
    const sa = await all(`?serviceAccount=${DEMO.client.subject}&responseStatus=404`)
    expect(sa.map((e) => e.action)).toEqual(['kms.export'])
  })

  it('seeds a week of history with a decrypt burst, failures by an unknown principal and a past export', async () => {
    const events = await all('')
    expect(events.every((e) => Date.parse(e.createdAt) > T0 - 7 * DAY && Date.parse(e.createdAt) <= T0)).toBe(true)
    const saDecrypts = events.filter((e) => e.action === 'kms.decrypt' && e.userIdentity === DEMO.client.subject).map((e) => Date.parse(e.createdAt))
    const busiestHour = Math.max(...saDecrypts.map((t) => saDecrypts.filter((u) => u >= t && u < t + 3600_000).length))
    expect(busiestHour).toBeGreaterThanOrEqual(100)
    const exports = events.filter((e) => e.action === 'kms.export' && e.context.status === 200)
    expect(exports.map((e) => e.userIdentity)).toEqual([DEMO.users.operator.subject])
    const saEvent = events.find((e) => e.userIdentity === DEMO.client.subject) as AuditJson & {serviceAccountIdentity?: string}
    expect(saEvent.serviceAccountIdentity).toBe(DEMO.client.subject)
    expect(events.find((e) => e.userIdentity === DEMO.users.operator.subject)?.user).toMatchObject(DEMO.users.operator)
  })
})

describe('no sensitive values', () => {
  it('never puts plaintext, ciphertext, signatures, MACs or material into events', async () => {
    h.state.orgs[0].settings.exportRequiresElevation = false
    const op = client(h)
    const secret = b64('very secret plaintext')
    const enc = await op<{ciphertext: string}>('POST', `${KMS}/keys/${DEMO.keys.escrowKey.slug}/encrypt`, {plaintext: secret})
    await op('POST', `${KMS}/keys/${DEMO.keys.escrowKey.slug}/decrypt`, {ciphertext: enc.body.ciphertext})
    const sig = await op<{signature: string}>('POST', `${KMS}/keys/${DEMO.keys.releaseSigning.slug}/sign`, {input: secret})
    await op('POST', `${KMS}/keys/${DEMO.keys.releaseSigning.slug}/verify`, {input: secret, signature: sig.body.signature})
    const payments = client(h, {project: DEMO.projects.payments.slug})
    const mac = await payments<{hmac: string}>('POST', `${KMS}/keys/${DEMO.keys.paymentsTokens.slug}/hmac`, {input: secret})
    await payments('POST', `${KMS}/keys/${DEMO.keys.paymentsTokens.slug}/verify-hmac`, {input: secret, hmac: mac.body.hmac})
    expect(mac.status).toBe(200)
    const exp = await op<{keyMaterial: string}>('POST', `${KMS}/keys/${DEMO.keys.escrowKey.slug}/export`, {})
    expect(exp.status).toBe(200)
    const text = (await page('?limit=1000')).text
    for (const value of [secret, enc.body.ciphertext, sig.body.signature, mac.body.hmac, exp.body.keyMaterial, 'thalassa:v']) {
      expect(text).not.toContain(value)
    }
    const actions = JSON.parse(text).items.map((e: AuditJson) => e.action)
    expect(actions).toEqual(expect.arrayContaining(['kms.encrypt', 'kms.decrypt', 'kms.sign', 'kms.verify', 'kms.hmac', 'kms.verify_hmac', 'kms.export']))
  })
})
