/**
 * import (BYOK): the create request's importKeyMaterial unwraps with the wrapping private key (generated here)
 * to the material, and the raw bytes never appear in the request; HMAC, unknown wrapping algorithms, readable
 * material files and unwrapped "wrapped" material are refused with nothing POSTed.
 */
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import nock from 'nock'
import {describe, expect, it} from 'vitest'
import {fingerprint} from '../../../src/crypto/fingerprint.js'
import {unwrapWithPrivateKey} from '../../../src/crypto/recipient.js'
import {importKey, type ImportInput} from '../../../src/operations/import.js'
import {REGION, REQUESTER, ctxFor, mockSummary, rsaKeyPair, useNockAndTempDir, } from './helpers.js'

const wrapping = rsaKeyPair(3072)
const rsaMaterial = rsaKeyPair(2048)
const CREATED = {identity: 'kms-imp01', name: 'legacy', slug: 'legacy', keyType: 'aes256-gcm96', status: 'active', imported: true, allowRotation: false, latestVersion: 1}

const tmp = useNockAndTempDir()

const file = (name: string, data: Buffer | string, mode = 0o600) => {
  const path = join(tmp.dir, name)
  writeFileSync(path, data, {mode})
  return path
}
const input = (over: Partial<ImportInput>): ImportInput => ({region: REGION, name: 'legacy', type: 'aes256-gcm96', yes: true, dryRun: false, ...over})
const mockWrappingKey = (algorithm?: string) => nock('https://api.kmsguard.test').get(`/v1/kms/${REGION}/wrapping-key`).reply(200, {publicKey: wrapping.publicPem, ...(algorithm === undefined ? {} : {algorithm})})

function captureCreate(reply: object = CREATED): {raw: () => string; body: () => Record<string, unknown>} {
  let body: Record<string, unknown> = {}
  nock('https://api.kmsguard.test').post(`/v1/kms/${REGION}/keys`).reply(201, (_uri, b) => {
    body = b as Record<string, unknown>
    return reply
  })
  return {raw: () => JSON.stringify(body), body: () => body}
}

describe('import --material', () => {
  it.each([
    ['32-byte AES key, RSA-AES key wrap', 'aes256-gcm96', randomBytes(32), 'RSA_AES_KEY_WRAP_SHA_256', 'rsa-aes-kwp-sha256'],
    ['32-byte AES key, RSA-OAEP', 'aes256-gcm96', randomBytes(32), 'RSA_OAEP_SHA256', 'rsa-oaep-sha256'],
    ['RSA-2048 PKCS#8 DER, RSA-AES key wrap', 'rsa-2048', rsaMaterial.pkcs8Der, 'CKM_RSA_AES_KEY_WRAP', 'rsa-aes-kwp-sha256'],
  ])('%s: importKeyMaterial unwraps to the material; the raw bytes are never sent', async (_name, type, material, algorithm, scheme) => {
    const path = file('material.bin', material)
    mockSummary()
    mockWrappingKey(algorithm)
    const created = captureCreate({...CREATED, keyType: type})
    const ctx = ctxFor(REQUESTER, tmp.dir)
    const outcome = await importKey(ctx, input({type, material: path, allowRotation: true, labels: {team: 'pay'}, description: 'from the old HSM'}))
    const body = created.body()
    expect(body).toMatchObject({name: 'legacy', keyType: type, description: 'from the old HSM', labels: {team: 'pay'}, hashFunction: 'sha256', allowRotation: true})
    expect(Object.keys(body).sort()).toEqual(['allowRotation', 'description', 'hashFunction', 'importKeyMaterial', 'keyType', 'labels', 'name'])
    expect(unwrapWithPrivateKey(Buffer.from(body.importKeyMaterial as string, 'base64'), wrapping.privatePem).equals(material)).toBe(true)
    for (const enc of ['base64', 'hex', 'base64url'] as const) expect(created.raw()).not.toContain(material.toString(enc))
    expect(outcome.result).toMatchObject({wrapping: {algorithm, scheme}, fingerprint: fingerprint(material), allowRotation: true, key: {identity: 'kms-imp01', imported: true}})
    for (const enc of ['base64', 'hex'] as const) expect(JSON.stringify({outcome, journal: ctx.journal})).not.toContain(material.toString(enc))
    expect(ctx.journal.details).toMatchObject({fingerprint: fingerprint(material), wrapping: scheme})
  })

  it('accepts PKCS#8 PEM and sends the DER form, wrapped', async () => {
    const path = file('material.pem', rsaMaterial.privatePem)
    mockSummary()
    mockWrappingKey('RSA_AES_KEY_WRAP_SHA_256')
    const created = captureCreate()
    await importKey(ctxFor(REQUESTER, tmp.dir), input({type: 'rsa-2048', material: path}))
    expect(unwrapWithPrivateKey(Buffer.from(created.body().importKeyMaterial as string, 'base64'), wrapping.privatePem).equals(rsaMaterial.pkcs8Der)).toBe(true)
    expect(created.raw()).not.toContain('PRIVATE KEY')
    expect(created.body().allowRotation).toBe(false)
  })

  it.each([[undefined], ['RSA_FANCY_WRAP']])('refuses the announced algorithm %j with exit 3 and POSTs nothing', async (algorithm) => {
    const path = file('material.bin', randomBytes(32))
    mockSummary()
    mockWrappingKey(algorithm)
    const err = await importKey(ctxFor(REQUESTER, tmp.dir), input({material: path})).catch((e) => e)
    expect(err).toMatchObject({code: 'UNKNOWN_WRAPPING_ALGORITHM', exitCode: 3})
    expect(err.guards.map((g: {guard: string; outcome: string}) => `${g.guard}:${g.outcome}`)).toEqual(['region:pass', 'policy:fail'])
    expect(nock.isDone()).toBe(true)
  })

  it('refuses a group/world-readable material file (0644) without --force-perms, before any request', async () => {
    const path = file('material.bin', randomBytes(32), 0o644)
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), input({material: path}))).rejects.toMatchObject({code: 'INSECURE_PERMISSIONS', exitCode: 2})
  })

  it('reads a 0644 material file with --force-perms', async () => {
    const path = file('material.bin', randomBytes(32), 0o644)
    mockSummary()
    mockWrappingKey('RSA_AES_KEY_WRAP_SHA_256')
    captureCreate()
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), input({material: path, forcePerms: true}))).resolves.toMatchObject({dryRun: false})
  })

  it('refuses material that does not fit the key type', async () => {
    const path = file('material.bin', randomBytes(16))
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), input({material: path}))).rejects.toMatchObject({code: 'INVALID_KEY_MATERIAL', exitCode: 2})
  })

  it('a dry run reads the wrapping key but POSTs nothing, and does not show the wrapped blob', async () => {
    const path = file('material.bin', randomBytes(32))
    mockSummary()
    mockWrappingKey('RSA_AES_KEY_WRAP_SHA_256')
    const outcome = await importKey(ctxFor(REQUESTER, tmp.dir), input({material: path, dryRun: true, yes: false}))
    expect(outcome.result.planned[0].body?.importKeyMaterial).toMatch(/^\(\d+ bytes of wrapped material, base64\)$/)
    expect(nock.isDone()).toBe(true)
  })

  it('non-interactive without --yes is exit 7 and POSTs nothing', async () => {
    const path = file('material.bin', randomBytes(32))
    mockSummary()
    mockWrappingKey('RSA_AES_KEY_WRAP_SHA_256')
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), input({material: path, yes: false}))).rejects.toMatchObject({code: 'NOT_CONFIRMED', exitCode: 7})
  })
})

describe('import: refusals before any request', () => {
  it.each(['hmac', 'hmac-sha256', 'hmac-sha512'])('%s keys cannot be imported', async (type) => {
    const path = file('material.bin', randomBytes(32))
    const err = await importKey(ctxFor(REQUESTER, tmp.dir), input({type, material: path})).catch((e) => e)
    expect(err).toMatchObject({code: 'KEY_TYPE_NOT_IMPORTABLE', exitCode: 2})
    expect(err.message).toMatch(/does not accept HMAC/)
  })

  it('needs exactly one of --material / --wrapped-material', async () => {
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), input({}))).rejects.toMatchObject({code: 'MATERIAL_REQUIRED', exitCode: 2})
  })

  it('an unknown key type is exit 2', async () => {
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), input({type: 'aes512', material: 'x'}))).rejects.toMatchObject({code: 'UNKNOWN_KEY_TYPE', exitCode: 2})
  })
})

describe('import --wrapped-material', () => {
  const blob = randomBytes(384)

  it.each([['binary', blob], ['base64 text', Buffer.from(`${blob.toString('base64').replace(/(.{64})/g, '$1\n')}\n`)]])('sends a %s blob as is, with --hash-function', async (_name, content) => {
    const path = file('wrapped', content, 0o644)
    mockSummary()
    const created = captureCreate()
    const outcome = await importKey(ctxFor(REQUESTER, tmp.dir), input({wrappedMaterial: path, hashFunction: 'SHA512'}))
    expect(created.body()).toMatchObject({importKeyMaterial: blob.toString('base64'), hashFunction: 'sha512', allowRotation: false})
    expect(outcome.result).toMatchObject({wrapping: {scheme: 'pre-wrapped'}, wrappedBytes: 384, fingerprint: undefined})
  })

  it.each([
    ['raw 32-byte material', randomBytes(32)],
    ['an unwrapped PKCS#8 private key (DER)', rsaMaterial.pkcs8Der],
    ['a PEM private key', Buffer.from(rsaMaterial.privatePem)],
    ['hex text', Buffer.from(randomBytes(384).toString('hex'))],
  ])('refuses %s given as wrapped material', async (_name, content) => {
    const path = file('wrapped', content)
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), input({wrappedMaterial: path}))).rejects.toMatchObject({code: 'NOT_WRAPPED_MATERIAL', exitCode: 2})
  })
})
