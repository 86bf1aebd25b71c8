import {constants, createHmac, createDecipheriv, verify as verifySig} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {b64, client, KMS, type Call, type KeyJson} from './helpers.js'

let h: EmulatorHandle
let api: Call
const keys: Record<string, KeyJson> = {}

const ALL_TYPES = [
  'aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305', 'rsa-2048', 'rsa-3072', 'rsa-4096',
  'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'hmac', 'hmac-sha256', 'hmac-sha512',
]

beforeAll(async () => {
  h = await startEmulator({quiet: true})
  api = client(h)
  h.state.orgs[0].settings.exportRequiresElevation = false // dual control is covered in iam.test.ts
  const created = await Promise.all(ALL_TYPES.map((t) => api<KeyJson>('POST', `${KMS}/keys`, {name: `t-${t}`, keyType: t, exportAllowed: true})))
  for (const res of created) {
    expect(res.status).toBe(201)
    keys[res.body.keyType] = res.body
  }
}, 60_000)
afterAll(async () => {
  await h.close()
})

const op = <T>(keyType: string, name: string, body: unknown) => api<T>('POST', `${KMS}/keys/${keys[keyType].slug}/${name}`, body)
const material = (keyType: string, version = 1) =>
  h.state.keys.find((k) => k.identity === keys[keyType].identity)?.versions.find((v) => v.version === version)?.material ?? Buffer.alloc(0)

interface Enc { ciphertext: string; keyVersion: string }
interface Dec { plaintext: string; keyVersion: string }
interface Sig { signature: string; keyVersion: string }
interface Mac { hmac: string; keyVersion: string }
interface Valid { valid: boolean; keyVersion: string }

describe('symmetric encryption', () => {
  it.each(['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305'])('%s: round trip, documented layout, old versions after rotate', async (t) => {
    const plaintext = b64('attack at dawn')
    const e1 = await op<Enc>(t, 'encrypt', {plaintext})
    expect(e1.status).toBe(200)
    expect(e1.body.ciphertext).toMatch(/^thalassa:v1:[A-Za-z0-9+/]+=*$/)
    expect(e1.body.keyVersion).toBe('1')
    // layout: nonce(12) || ciphertext || tag(16), raw material as the key, no AAD
    const blob = Buffer.from(e1.body.ciphertext.split(':')[2], 'base64')
    const cipher = t === 'aes128-gcm96' ? 'aes-128-gcm' : t === 'aes256-gcm96' ? 'aes-256-gcm' : 'chacha20-poly1305'
    const d = createDecipheriv(cipher as 'aes-256-gcm', material(t), blob.subarray(0, 12), {authTagLength: 16})
    d.setAuthTag(blob.subarray(blob.length - 16))
    expect(Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]).toString()).toBe('attack at dawn')

    expect((await op(t, 'rotate', undefined)).status).toBe(200)
    const e2 = await op<Enc>(t, 'encrypt', {plaintext})
    expect(e2.body.ciphertext).toMatch(/^thalassa:v2:/)
    const old = await op<Enc>(t, 'encrypt', {plaintext, keyVersion: '1'})
    expect(old.body.ciphertext).toMatch(/^thalassa:v1:/)
    for (const ct of [e1.body.ciphertext, e2.body.ciphertext, old.body.ciphertext]) {
      const dec = await op<Dec>(t, 'decrypt', {ciphertext: ct})
      expect(dec.status).toBe(200)
      expect(Buffer.from(dec.body.plaintext, 'base64').toString()).toBe('attack at dawn')
    }
    expect((await op(t, 'encrypt', {plaintext, keyVersion: '9'})).status).toBe(400)
    const tampered = e2.body.ciphertext.slice(0, -4) + (e2.body.ciphertext.endsWith('AAA=') ? 'BBB=' : 'AAA=')
    expect((await op(t, 'decrypt', {ciphertext: tampered})).status).toBe(400)
    expect((await op(t, 'decrypt', {ciphertext: 'not-a-ciphertext'})).status).toBe(400)
    expect((await op(t, 'decrypt', {ciphertext: e1.body.ciphertext.replace('v1', 'v7')})).status).toBe(400)
  })

  it('enforces 1..65535 byte plaintexts and standard base64', async () => {
    const t = 'aes256-gcm96'
    expect((await op(t, 'encrypt', {plaintext: ''})).status).toBe(400)
    expect((await op(t, 'encrypt', {plaintext: b64(Buffer.alloc(65536, 1))})).status).toBe(400)
    expect((await op(t, 'encrypt', {plaintext: b64(Buffer.alloc(65535, 1))})).status).toBe(200)
    expect((await op(t, 'encrypt', {plaintext: 'abc'})).status).toBe(400)
    expect((await op(t, 'encrypt', {plaintext: '-_-_'})).status).toBe(400)
    expect((await op(t, 'encrypt', {})).status).toBe(400)
  })
})

describe('RSA', () => {
  it.each(['rsa-2048', 'rsa-3072', 'rsa-4096'])('%s: OAEP round trip, size limit, PKCS#1 and PSS signatures verify locally', async (t) => {
    const bits = Number(t.split('-')[1])
    const max = bits / 8 - 66
    const enc = await op<Enc>(t, 'encrypt', {plaintext: b64(Buffer.alloc(max, 7))})
    expect(enc.status).toBe(200)
    expect(Buffer.from(enc.body.ciphertext.split(':')[2], 'base64').length).toBe(bits / 8)
    const dec = await op<Dec>(t, 'decrypt', {ciphertext: enc.body.ciphertext})
    expect(Buffer.from(dec.body.plaintext, 'base64').equals(Buffer.alloc(max, 7))).toBe(true)
    const tooBig = await op(t, 'encrypt', {plaintext: b64(Buffer.alloc(max + 1, 7))})
    expect(tooBig.status).toBe(400)
    expect(tooBig.body.message).toMatch(String(max))

    const pem = (await api<{keys: Record<string, string>}>('GET', `${KMS}/keys/${keys[t].slug}/public-key`)).body.keys['1']
    const input = Buffer.from('release v1.2.3')
    for (const [hashAlgorithm, padding] of [[undefined, constants.RSA_PKCS1_PADDING], ['pss-sha256', constants.RSA_PKCS1_PSS_PADDING]] as const) {
      const sig = await op<Sig>(t, 'sign', {input: b64(input), hashAlgorithm})
      expect(sig.body.signature).toMatch(/^thalassa:v1:/)
      const raw = Buffer.from(sig.body.signature.split(':')[2], 'base64')
      expect(verifySig('sha256', input, {key: pem, padding, saltLength: 32}, raw)).toBe(true)
      expect((await op<Valid>(t, 'verify', {input: b64(input), signature: sig.body.signature, hashAlgorithm})).body.valid).toBe(true)
      expect((await op<Valid>(t, 'verify', {input: b64('other'), signature: sig.body.signature, hashAlgorithm})).body.valid).toBe(false)
    }
    expect((await op(t, 'sign', {input: b64(input), hashAlgorithm: 'md5'})).status).toBe(400)
  })

  it('old RSA signatures and ciphertexts still work after rotation', async () => {
    const t = 'rsa-2048'
    const sig = await op<Sig>(t, 'sign', {input: b64('x')})
    const enc = await op<Enc>(t, 'encrypt', {plaintext: b64('y')})
    expect((await op<KeyJson>(t, 'rotate', undefined)).body.latestVersion).toBe(2)
    expect((await op<Sig>(t, 'sign', {input: b64('x')})).body.signature).toMatch(/^thalassa:v2:/)
    expect((await op<Valid>(t, 'verify', {input: b64('x'), signature: sig.body.signature})).body).toEqual({valid: true, keyVersion: '1'})
    expect(Buffer.from((await op<Dec>(t, 'decrypt', {ciphertext: enc.body.ciphertext})).body.plaintext, 'base64').toString()).toBe('y')
  })
})

describe('ECDSA and Ed25519', () => {
  it.each([['ecdsa-p256', 'sha256'], ['ecdsa-p384', 'sha384'], ['ecdsa-p521', 'sha512']])('%s signs with %s (DER), verifies locally and after rotation', async (t, hash) => {
    const input = Buffer.from('zone data')
    const sig = await op<Sig>(t, 'sign', {input: b64(input)})
    expect(sig.status).toBe(200)
    const pem = (await api<{keys: Record<string, string>}>('GET', `${KMS}/keys/${keys[t].slug}/public-key`)).body.keys['1']
    expect(verifySig(hash, input, pem, Buffer.from(sig.body.signature.split(':')[2], 'base64'))).toBe(true)
    expect((await op(t, 'sign', {input: b64(input), hashAlgorithm: hash.toUpperCase()})).status).toBe(200)
    expect((await op(t, 'sign', {input: b64(input), hashAlgorithm: hash === 'sha256' ? 'sha512' : 'sha256'})).status).toBe(400)
    await op(t, 'rotate', undefined)
    expect((await op<Valid>(t, 'verify', {input: b64(input), signature: sig.body.signature})).body.valid).toBe(true)
    expect((await op<Valid>(t, 'verify', {input: b64('tampered'), signature: sig.body.signature})).body.valid).toBe(false)
    expect((await op(t, 'verify', {input: b64(input), signature: 'garbage'})).status).toBe(400)
  })

  it('ed25519 signs the message directly and rejects hash, prehash and context options', async () => {
    const t = 'ed25519'
    const sig = await op<Sig>(t, 'sign', {input: b64('hello')})
    expect(Buffer.from(sig.body.signature.split(':')[2], 'base64').length).toBe(64)
    expect((await op<Valid>(t, 'verify', {input: b64('hello'), signature: sig.body.signature})).body.valid).toBe(true)
    expect((await op(t, 'sign', {input: b64('hello'), hashAlgorithm: 'sha256'})).status).toBe(400)
    expect((await op(t, 'sign', {input: b64('hello'), prehashed: true})).status).toBe(400)
    expect((await op(t, 'sign', {input: b64('hello'), context: 'ctx'})).status).toBe(400)
  })
})

describe('HMAC', () => {
  it.each([['hmac', 'sha256', 32], ['hmac-sha256', 'sha256', 32], ['hmac-sha512', 'sha512', 64]])('%s uses %s and %i-byte material; verify-hmac works across rotation', async (t, hash, size) => {
    expect(material(t).length).toBe(size)
    const mac = await op<Mac>(t, 'hmac', {input: b64('msg')})
    expect(mac.body.hmac).toMatch(/^thalassa:v1:/)
    expect(Buffer.from(mac.body.hmac.split(':')[2], 'base64').equals(createHmac(hash, material(t)).update('msg').digest())).toBe(true)
    await op(t, 'rotate', undefined)
    const mac2 = await op<Mac>(t, 'hmac', {input: b64('msg')})
    expect(mac2.body.keyVersion).toBe('2')
    expect((await op<Valid>(t, 'verify-hmac', {input: b64('msg'), hmac: mac.body.hmac})).body.valid).toBe(true)
    expect((await op<Valid>(t, 'verify-hmac', {input: b64('msg'), hmac: mac2.body.hmac})).body).toEqual({valid: true, keyVersion: '2'})
    expect((await op<Valid>(t, 'verify-hmac', {input: b64('other'), hmac: mac.body.hmac})).body.valid).toBe(false)
    expect((await op(t, 'hmac', {input: b64('msg'), algorithm: hash === 'sha256' ? 'sha512' : 'sha256'})).status).toBe(400)
  })
})

describe('capabilities and key state', () => {
  it('refuses operations the key type does not support', async () => {
    expect((await op('ecdsa-p256', 'encrypt', {plaintext: b64('x')})).status).toBe(400)
    expect((await op('ed25519', 'decrypt', {ciphertext: 'thalassa:v1:AAAA'})).status).toBe(400)
    expect((await op('aes256-gcm96', 'sign', {input: b64('x')})).status).toBe(400)
    expect((await op('aes256-gcm96', 'hmac', {input: b64('x')})).status).toBe(400)
    expect((await op('hmac', 'encrypt', {plaintext: b64('x')})).status).toBe(400)
    const msg = await op('hmac-sha256', 'sign', {input: b64('x')})
    expect(msg.body.message).toMatch(/not supported for key type hmac-sha256/)
  })

  it('refuses crypto on disabled and pending-deletion keys with 400', async () => {
    const disabled = await api('POST', `${KMS}/keys/${DEMO.keys.legacyData.slug}/encrypt`, {plaintext: b64('x')})
    expect(disabled.status).toBe(400)
    expect(disabled.body.message).toMatch(/disabled/)
    const pending = await api('POST', `${KMS}/keys/${DEMO.keys.oldHmac.slug}/hmac`, {input: b64('x')})
    expect(pending.status).toBe(400)
    expect(pending.body.message).toMatch(/pending deletion/)
  })
})

describe('export', () => {
  it('returns the exact material of the requested version, base64', async () => {
    const t = 'aes256-gcm96'
    const res = await op<{keyMaterial: string; keyVersion: string}>(t, 'export', {})
    expect(res.status).toBe(200)
    expect(res.body.keyVersion).toBe('2')
    expect(Buffer.from(res.body.keyMaterial, 'base64').equals(material(t, 2))).toBe(true)
    const v1 = await op<{keyMaterial: string; keyVersion: string}>(t, 'export', {keyVersion: '1'})
    expect(Buffer.from(v1.body.keyMaterial, 'base64').equals(material(t, 1))).toBe(true)
    const ec = await op<{keyMaterial: string}>('ecdsa-p256', 'export', {keyVersion: 1})
    expect(Buffer.from(ec.body.keyMaterial, 'base64').equals(material('ecdsa-p256'))).toBe(true)
  })

  it('400 when export is not allowed or the key is not active', async () => {
    const denied = await api('POST', `${KMS}/keys/${DEMO.keys.appSecrets.slug}/export`, {})
    expect(denied.status).toBe(400)
    expect(denied.body.message).toMatch(/export not allowed/)
    await op('chacha20-poly1305', 'disable', undefined)
    expect((await op('chacha20-poly1305', 'export', {})).status).toBe(400)
  })
})

describe('audit of crypto operations', () => {
  it('records kms.* events with status, version and payload size, failures included, and no sensitive values', async () => {
    const t = 'aes128-gcm96'
    const id = keys[t].identity
    const from = h.state.audit.length
    const enc = await op<Enc>(t, 'encrypt', {plaintext: b64('sixteen byte msg')})
    await op(t, 'decrypt', {ciphertext: enc.body.ciphertext})
    await op(t, 'decrypt', {ciphertext: 'thalassa:v1:AAAA'})
    const events = h.state.audit.slice(from).filter((e) => e.resourceIdentity === id)
    expect(events.map((e) => [e.action, e.context.status, e.context.keyVersion])).toEqual([
      ['kms.encrypt', 200, '2'], ['kms.decrypt', 200, '2'], ['kms.decrypt', 400, '1'],
    ])
    expect(events[0]).toMatchObject({resourceType: 'kms_key', subject: DEMO.users.operator.subject})
    expect(events[0].context).toMatchObject({method: 'POST', region: 'nl-01', keySlug: keys[t].slug, keyType: t, payloadSize: 16})
    const dump = JSON.stringify(h.state.audit)
    expect(dump).not.toContain(enc.body.ciphertext.split(':')[2])
    expect(dump).not.toContain(b64('sixteen byte msg'))
    expect(dump).not.toContain('thalassa:v')
    expect(dump).not.toContain(material(t).toString('base64'))
  })
})
