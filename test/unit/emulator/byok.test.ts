import {
  constants, createCipheriv, createDecipheriv, createPublicKey, generateKeyPair, generateKeyPairSync, publicEncrypt, randomBytes,
  verify,
} from 'node:crypto'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {b64, client, KMS, type Call, type KeyJson} from './helpers.js'

let h: EmulatorHandle
let api: Call
let wrappingPem: string

beforeAll(async () => {
  h = await startEmulator({quiet: true})
  api = client(h)
  h.state.orgs[0].settings.exportRequiresElevation = false
  const res = await api<{publicKey: string; algorithm: string}>('GET', `${KMS}/wrapping-key`)
  expect(res.status).toBe(200)
  expect(res.body.algorithm).toBe('RSA_AES_KEY_WRAP_SHA_256')
  wrappingPem = res.body.publicKey
}, 60_000)
afterAll(async () => {
  await h.close()
})

const oaep = (data: Buffer) => publicEncrypt({key: wrappingPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256'}, data)

/** RSA-OAEP of the material itself (the blob is exactly modulus-length bytes). */
const wrapDirect = (material: Buffer) => oaep(material)

/** RSA-OAEP of a fresh AES-256 key, then RFC 5649 key wrap with padding of the material. */
function wrapWithAes(material: Buffer): Buffer {
  const aesKey = randomBytes(32)
  const c = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'))
  return Buffer.concat([oaep(aesKey), c.update(material), c.final()])
}

const importKey = (name: string, keyType: string, wrapped: Buffer, extra: Record<string, unknown> = {}) =>
  api<KeyJson>('POST', `${KMS}/keys`, {name, keyType, importKeyMaterial: b64(wrapped), hashFunction: 'sha256', exportAllowed: true, ...extra})

const pkcs8 = (type: 'ed25519' | 'ec', opts: {namedCurve?: string} = {}) =>
  generateKeyPairSync(type as 'ec', {namedCurve: opts.namedCurve ?? 'P-256', privateKeyEncoding: {type: 'pkcs8', format: 'der'}, publicKeyEncoding: {type: 'spki', format: 'pem'}})

describe('wrapping key', () => {
  it('is a stable RSA-3072 PEM per region; a region without KMS is 503', async () => {
    const again = await api<{publicKey: string}>('GET', `${KMS}/wrapping-key`)
    expect(again.body.publicKey).toBe(wrappingPem)
    expect(createPublicKey(wrappingPem).asymmetricKeyDetails?.modulusLength).toBe(3072)
    expect(h.state.regions.find((r) => r.slug === 'nl-01')?.wrappingKey).toBeDefined()
    expect((await api('GET', '/v1/kms/nl-02/wrapping-key')).status).toBe(503)
  })
})

describe('import', () => {
  it('direct RSA-OAEP layout: aes256 material encrypts via the API and decrypts locally with AES-256-GCM', async () => {
    const material = randomBytes(32)
    const res = await importKey('byok-aes', 'aes256-gcm96', wrapDirect(material))
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({imported: true, status: 'active', latestVersion: 1})
    const enc = await api<{ciphertext: string}>('POST', `${KMS}/keys/byok-aes/encrypt`, {plaintext: b64('imported secret')})
    const blob = Buffer.from(enc.body.ciphertext.replace(/^thalassa:v1:/, ''), 'base64')
    const d = createDecipheriv('aes-256-gcm', material, blob.subarray(0, 12))
    d.setAuthTag(blob.subarray(blob.length - 16))
    expect(Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]).toString()).toBe('imported secret')
    const exported = await api<{keyMaterial: string}>('POST', `${KMS}/keys/byok-aes/export`, {})
    expect(Buffer.from(exported.body.keyMaterial, 'base64').equals(material)).toBe(true)
  })

  it('RSA-OAEP + AES key wrap layout: an Ed25519 key signs via the API and verifies locally', async () => {
    const {privateKey, publicKey} = pkcs8('ed25519')
    const res = await importKey('byok-ed', 'ed25519', wrapWithAes(privateKey))
    expect(res.status).toBe(201)
    expect(res.body.imported).toBe(true)
    const sig = await api<{signature: string}>('POST', `${KMS}/keys/byok-ed/sign`, {input: b64('signed by my own key')})
    const raw = Buffer.from(sig.body.signature.replace(/^thalassa:v1:/, ''), 'base64')
    expect(verify(null, Buffer.from('signed by my own key'), publicKey, raw)).toBe(true)
  })

  it('imports RSA and ECDSA keys in the wrapped layout and checks curve and modulus', async () => {
    const rsa = await promisify(generateKeyPair)('rsa', {modulusLength: 2048, privateKeyEncoding: {type: 'pkcs8', format: 'der'}, publicKeyEncoding: {type: 'spki', format: 'pem'}})
    expect((await importKey('byok-rsa', 'rsa-2048', wrapWithAes(rsa.privateKey))).status).toBe(201)
    const sig = await api<{signature: string}>('POST', `${KMS}/keys/byok-rsa/sign`, {input: b64('m')})
    expect(verify('sha256', Buffer.from('m'), rsa.publicKey, Buffer.from(sig.body.signature.split(':')[2], 'base64'))).toBe(true)
    expect((await importKey('byok-rsa-wrong', 'rsa-3072', wrapWithAes(rsa.privateKey))).status).toBe(400)
    const p384 = pkcs8('ec', {namedCurve: 'P-384'})
    expect((await importKey('byok-p384', 'ecdsa-p384', wrapWithAes(p384.privateKey))).status).toBe(201)
    const wrongCurve = await importKey('byok-p256', 'ecdsa-p256', wrapWithAes(p384.privateKey))
    expect(wrongCurve.status).toBe(400)
    expect(wrongCurve.body.message).toMatch(/not a ecdsa-p256 private key/)
  })

  it('rejects wrong sizes, HMAC types, bad blobs and hash functions', async () => {
    expect((await importKey('bad-size', 'aes128-gcm96', wrapDirect(randomBytes(32)))).status).toBe(400)
    const hmac = await importKey('bad-hmac', 'hmac-sha256', wrapDirect(randomBytes(32)))
    expect(hmac.status).toBe(400)
    expect(hmac.body.message).toMatch(/HMAC keys cannot be imported/)
    expect((await importKey('bad-blob', 'aes256-gcm96', randomBytes(384))).status).toBe(400)
    expect((await importKey('short-blob', 'aes256-gcm96', randomBytes(100))).status).toBe(400)
    expect((await importKey('bad-hash', 'aes256-gcm96', wrapDirect(randomBytes(32)), {hashFunction: 'sha1'})).status).toBe(400)
    expect((await importKey('not-pkcs8', 'ed25519', wrapWithAes(randomBytes(48)))).status).toBe(400)
    expect(h.state.keys.some((k) => k.name.startsWith('bad-') || k.name === 'short-blob' || k.name === 'not-pkcs8')).toBe(false)
  })

  it('rotation of imported keys needs allowRotation', async () => {
    await importKey('byok-fixed', 'aes256-gcm96', wrapDirect(randomBytes(32)))
    const refused = await api('POST', `${KMS}/keys/byok-fixed/rotate`)
    expect(refused.status).toBe(400)
    expect(refused.body.message).toMatch(/allowRotation/)
    expect((await api('PATCH', `${KMS}/keys/byok-fixed/rotation`, {keyRotationEnabled: true, rotationPeriodInDays: 30})).status).toBe(400)
    const original = randomBytes(32)
    await importKey('byok-rotating', 'aes256-gcm96', wrapDirect(original), {allowRotation: true})
    const rotated = await api<KeyJson>('POST', `${KMS}/keys/byok-rotating/rotate`)
    expect(rotated.body.latestVersion).toBe(2)
    const v2 = h.state.keys.find((k) => k.slug === 'byok-rotating')?.versions[1].material
    expect(v2?.length).toBe(32)
    expect(v2?.equals(original)).toBe(false)
  })
})
