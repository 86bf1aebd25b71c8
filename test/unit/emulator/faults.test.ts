import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle, type FaultKind} from '../../../src/emulator/index.js'
import {client, KMS, type Call} from './helpers.js'

let h: EmulatorHandle
let api: Call

beforeAll(async () => {
  h = await startEmulator({quiet: true})
  api = client(h)
})
afterAll(async () => {
  await h.close()
})

const headers = {authorization: `Token ${DEMO.tokens.operator}`, 'x-organisation-identity': 'demo'}
const listKeys = () => fetch(`${h.url}${KMS}/keys`, {headers, signal: AbortSignal.timeout(5000)})

async function statusSequence(seed: number, n = 40): Promise<number[]> {
  h.setFaults({rate: 0.5, kinds: ['500', '503', '429'], seed})
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await listKeys()).status)
  h.setFaults(undefined)
  return out
}

describe('fault injection', () => {
  it('is deterministic for a seed and differs between seeds', async () => {
    const a = await statusSequence(42)
    const b = await statusSequence(42)
    const c = await statusSequence(7)
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    expect(a).toContain(200)
    expect(a.some((s) => s !== 200)).toBe(true)
    expect(new Set(a)).toEqual(new Set([200, 500, 503, 429]))
  })

  it.each([['500', 500], ['502', 502], ['503', 503]] as [FaultKind, number][])('%s answers %i with a message', async (kind, status) => {
    h.setFaults({rate: 1, kinds: [kind]})
    const res = await listKeys()
    h.setFaults(undefined)
    expect(res.status).toBe(status)
    expect(((await res.json()) as {message: string}).message).toMatch(/injected/)
  })

  it('429 carries Retry-After: 1, the other variant none', async () => {
    h.setFaults({rate: 1, kinds: ['429']})
    const with1 = await listKeys()
    h.setFaults({rate: 1, kinds: ['429-no-retry-after']})
    const without = await listKeys()
    h.setFaults(undefined)
    expect([with1.status, with1.headers.get('retry-after')]).toEqual([429, '1'])
    expect([without.status, without.headers.get('retry-after')]).toEqual([429, null])
  })

  it('malformed, truncated and wrong-shape answer 200 with unusable bodies', async () => {
    h.setFaults({rate: 1, kinds: ['malformed']})
    const malformed = await listKeys()
    expect(malformed.status).toBe(200)
    await expect(malformed.json()).rejects.toThrow()
    h.setFaults({rate: 1, kinds: ['truncated']})
    const truncated = await listKeys()
    expect(truncated.status).toBe(200)
    await expect(truncated.text()).rejects.toThrow()
    h.setFaults({rate: 1, kinds: ['wrong-shape'], seed: 3})
    for (let i = 0; i < 5; i++) {
      const res = await listKeys()
      expect(res.status).toBe(200)
      const body = (await res.json()) as unknown
      const looksLikeKeys = Array.isArray(body) && body.every((k) => typeof k === 'object' && k !== null && 'identity' in k)
      expect(looksLikeKeys && (body as unknown[]).length > 0).toBe(false)
    }
    h.setFaults(undefined)
  })

  it('reset and timeout give no HTTP answer and are recorded with status 0', async () => {
    h.clearRequests()
    h.setFaults({rate: 1, kinds: ['reset']})
    await expect(listKeys()).rejects.toThrow()
    h.setFaults({rate: 1, kinds: ['timeout']})
    await expect(fetch(`${h.url}${KMS}/keys`, {headers, signal: AbortSignal.timeout(300)})).rejects.toThrow()
    h.setFaults(undefined)
    expect(h.requests.map((r) => r.status)).toEqual([0, 0])
    expect((await listKeys()).status).toBe(200)
  })

  it('applies only to matching routes (substring or regex)', async () => {
    h.setFaults({rate: 1, kinds: ['503'], routes: ['POST /v1/kms/[^/]+/keys/[^/]+/rotate$']})
    expect((await listKeys()).status).toBe(200)
    expect((await api('POST', `${KMS}/keys/${DEMO.keys.fleetBeta.slug}/rotate`)).status).toBe(503)
    h.setFaults({rate: 1, kinds: ['502'], routes: ['/wrapping-key']})
    expect((await api('GET', `${KMS}/keys/${DEMO.keys.fleetBeta.slug}`)).status).toBe(200)
    h.setFaults(undefined)
  })

  it('faulted mutations change nothing', async () => {
    const keysBefore = JSON.stringify(h.state.keys.map((k) => [k.identity, k.status, k.versions.length]))
    const auditBefore = h.state.audit.length
    for (const kind of ['500', 'reset', 'malformed', 'truncated', 'wrong-shape', '429'] as FaultKind[]) {
      h.setFaults({rate: 1, kinds: [kind], routes: ['POST', 'DELETE']})
      await api('POST', `${KMS}/keys`, {name: `faulted-${kind}`, keyType: 'aes256-gcm96'}).catch(() => undefined)
      await api('POST', `${KMS}/keys/${DEMO.keys.fleetAlpha.slug}/rotate`).catch(() => undefined)
      await api('DELETE', `${KMS}/keys/${DEMO.keys.fleetAlpha.slug}`).catch(() => undefined)
    }
    h.setFaults(undefined)
    expect(JSON.stringify(h.state.keys.map((k) => [k.identity, k.status, k.versions.length]))).toBe(keysBefore)
    expect(h.state.audit.length).toBe(auditBefore)
    expect((await api('POST', `${KMS}/keys`, {name: 'faulted-500', keyType: 'aes256-gcm96'})).status).toBe(201)
  })

  it('rejects invalid fault options', () => {
    expect(() => h.setFaults({rate: 2, kinds: ['500']})).toThrow(/rate/)
    expect(() => h.setFaults({rate: 0.5, kinds: []})).toThrow(/kinds/)
    expect(() => h.setFaults({rate: 0.5, kinds: ['418' as FaultKind]})).toThrow(/kinds/)
    expect(() => h.setLatency(-1)).toThrow(/latency/)
  })
})

describe('latency and shutdown', () => {
  it('serves with latency, and close() finishes with requests still sleeping or hanging', async () => {
    const emu = await startEmulator({quiet: true, seed: 'empty', latencyMs: 5})
    const call = client(emu)
    expect((await call('GET', `${KMS}/keys`)).status).toBe(200)
    const seen = async (n: number) => {
      while (emu.requests.length < n) await new Promise((r) => setTimeout(r, 5))
    }
    emu.setLatency(60_000)
    const sleeping = fetch(`${emu.url}${KMS}/keys`, {headers, signal: AbortSignal.timeout(20_000)}).then(() => 'answered', () => 'failed')
    await seen(2)
    emu.setLatency(0)
    emu.setFaults({rate: 1, kinds: ['timeout']})
    const hanging = fetch(`${emu.url}${KMS}/keys`, {headers, signal: AbortSignal.timeout(20_000)}).then(() => 'answered', () => 'failed')
    await seen(3)
    await new Promise((r) => setTimeout(r, 50)) // let the server pick the fault
    await emu.close()
    expect(await sleeping).toBe('failed')
    expect(await hanging).toBe('failed')
    expect(emu.requests.map((r) => r.status)).toEqual([200, 0, 0])
  })
})
