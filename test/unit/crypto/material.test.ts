import {createPublicKey, randomBytes, type KeyObject} from 'node:crypto'
import {beforeAll, describe, expect, it} from 'vitest'
import {ExitCode, KmsGuardError} from '../../../src/cli/errors.js'
import {KEY_TYPE_NAMES, KEY_TYPES, findKeyType, normaliseMaterial, validateMaterial} from '../../../src/crypto/material.js'
import {ecPair, ed25519Pair, rsaPair, thrown} from './helpers.js'

const keys: Record<string, KeyObject> = {}
beforeAll(async () => {
  const [r2048, r3072, r4096, p256, p384, p521, k256, ed] = await Promise.all([
    rsaPair(2048), rsaPair(3072), rsaPair(4096), ecPair('P-256'), ecPair('P-384'), ecPair('P-521'), ecPair('secp256k1'), ed25519Pair(),
  ])
  Object.assign(keys, {
    'rsa-2048': r2048.privateKey, 'rsa-3072': r3072.privateKey, 'rsa-4096': r4096.privateKey,
    'ecdsa-p256': p256.privateKey, 'ecdsa-p384': p384.privateKey, 'ecdsa-p521': p521.privateKey,
    secp256k1: k256.privateKey, ed25519: ed.privateKey,
  })
})

const pkcs8Der = (name: string) => keys[name].export({type: 'pkcs8', format: 'der'})
const pkcs8Pem = (name: string) => Buffer.from(keys[name].export({type: 'pkcs8', format: 'pem'}))

/** The refusal is a usage error (exit 2) with the given code whose text shows none of the material. */
const refusal = async (fn: () => unknown, material: Buffer, code = 'INVALID_KEY_MATERIAL'): Promise<KmsGuardError> => {
  const err = await thrown(fn)
  expect(err).toBeInstanceOf(KmsGuardError)
  const e = err as KmsGuardError
  expect(e.exitCode).toBe(ExitCode.USAGE)
  expect(e.code).toBe(code)
  const text = `${e.message} ${e.hint ?? ''}`
  if (material.length >= 8) {
    expect(text).not.toContain(material.subarray(0, 8).toString('hex'))
    expect(text).not.toContain(material.subarray(material.length - 12).toString('base64'))
  }
  return e
}

describe('KEY_TYPES', () => {
  it('lists the thirteen §2.3 key types once each', () => {
    expect(KEY_TYPES.map((t) => t.name)).toEqual([...KEY_TYPE_NAMES])
    expect(new Set(KEY_TYPE_NAMES).size).toBe(13)
  })

  it('carries the §2.3 capabilities', () => {
    const names = (pick: (t: (typeof KEY_TYPES)[number]) => boolean) => KEY_TYPES.filter(pick).map((t) => t.name)
    expect(names((t) => t.symmetric)).toEqual(['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305'])
    expect(names((t) => t.secretsCapable)).toEqual(['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305'])
    expect(names((t) => t.asymmetric)).toEqual(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519'])
    expect(names((t) => t.hmac)).toEqual(['hmac', 'hmac-sha256', 'hmac-sha512'])
    expect(names((t) => t.dnssecCapable)).toEqual(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384'])
    expect(names((t) => !t.importable)).toEqual(['hmac', 'hmac-sha256', 'hmac-sha512'])
    expect(findKeyType('ec-p256')).toBeUndefined()
    expect(findKeyType('ed25519')?.asymmetric).toBe(true)
  })
})

describe('validateMaterial: symmetric', () => {
  const sizes: Array<[string, number]> = [['aes128-gcm96', 16], ['aes256-gcm96', 32], ['chacha20-poly1305', 32]]
  for (const [keyType, bytes] of sizes) {
    it(`${keyType} accepts exactly ${bytes} bytes and refuses ${bytes - 1}, ${bytes + 1}, 0 and other sizes`, async () => {
      expect(validateMaterial(keyType, randomBytes(bytes))).toEqual({kind: 'symmetric', description: `${keyType} key, ${bytes * 8} bits`})
      for (const n of [0, bytes - 1, bytes + 1, bytes === 16 ? 32 : 16, 64]) {
        const material = randomBytes(n)
        const e = await refusal(() => validateMaterial(keyType, material), material)
        expect(e.message).toContain(`${bytes} raw bytes`)
        expect(e.message).toContain(`the material is ${n} bytes`)
      }
    })
  }

  it('hints at text encodings when a symmetric key file holds hex', async () => {
    const material = Buffer.from(`${randomBytes(32).toString('hex')}\n`)
    const e = await refusal(() => validateMaterial('aes256-gcm96', material), material)
    expect(e.hint).toMatch(/looks like text/)
  })
})

describe('validateMaterial: asymmetric PKCS#8', () => {
  const ok = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519']
  for (const keyType of ok) {
    it(`${keyType} accepts its own PKCS#8 DER`, () => {
      const result = validateMaterial(keyType, pkcs8Der(keyType))
      expect(result.kind).toBe('asymmetric')
      expect(result.description).toMatch(/\(PKCS#8\)$/)
    })
  }

  const mismatches: Array<[string, string, RegExp]> = [
    ['rsa-4096', 'rsa-2048', /needs an RSA-4096 private key; the material is an RSA-2048 private key/],
    ['rsa-2048', 'rsa-3072', /needs an RSA-2048 private key; the material is an RSA-3072 private key/],
    ['rsa-3072', 'rsa-4096', /needs an RSA-3072 .* RSA-4096/],
    ['ecdsa-p256', 'ecdsa-p384', /needs an EC P-256 private key; the material is an EC P-384 private key/],
    ['ecdsa-p384', 'ecdsa-p521', /EC P-384 .* EC P-521/],
    ['ecdsa-p521', 'ecdsa-p256', /EC P-521 .* EC P-256/],
    ['ecdsa-p256', 'secp256k1', /EC P-256 .* EC secp256k1/],
    ['ecdsa-p256', 'rsa-2048', /EC P-256 .* RSA-2048/],
    ['rsa-2048', 'ecdsa-p256', /RSA-2048 .* EC P-256/],
    ['ed25519', 'ecdsa-p256', /Ed25519 .* EC P-256/],
    ['ecdsa-p256', 'ed25519', /EC P-256 .* Ed25519/],
  ]
  for (const [keyType, actual, pattern] of mismatches) {
    it(`${keyType} refuses ${actual} material, naming both`, async () => {
      const material = pkcs8Der(actual)
      const e = await refusal(() => validateMaterial(keyType, material), material)
      expect(e.message).toMatch(pattern)
    })
  }

  it('refuses PKCS#1, SEC1, encrypted PKCS#8, trailing bytes, truncation, raw bytes and public keys', async () => {
    const encrypted = keys['ecdsa-p256'].export({type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'x'})
    const cases: Array<[string, Buffer]> = [
      ['rsa-2048', keys['rsa-2048'].export({type: 'pkcs1', format: 'der'})],
      ['ecdsa-p256', keys['ecdsa-p256'].export({type: 'sec1', format: 'der'})],
      ['ecdsa-p256', encrypted],
      ['ecdsa-p256', Buffer.concat([pkcs8Der('ecdsa-p256'), Buffer.from([0])])],
      ['rsa-2048', pkcs8Der('rsa-2048').subarray(0, 600)],
      ['ed25519', randomBytes(32)],
      ['rsa-2048', Buffer.from([0x30])],
      ['ecdsa-p384', createPublicKey(keys['ecdsa-p384']).export({type: 'spki', format: 'der'})],
    ]
    for (const [keyType, material] of cases) {
      const e = await refusal(() => validateMaterial(keyType, material), material)
      expect(e.message).toMatch(/not a PKCS#8 private key/)
      expect(e.hint).toMatch(/openssl pkcs8 -topk8 -nocrypt/)
    }
  })

  it('refuses PEM text handed straight to validateMaterial', async () => {
    const material = pkcs8Pem('ecdsa-p256')
    const e = await refusal(() => validateMaterial('ecdsa-p256', material), material)
    expect(e.message).toMatch(/still PEM text/)
  })
})

describe('normaliseMaterial', () => {
  for (const keyType of ['rsa-3072', 'ecdsa-p521', 'ed25519']) {
    it(`turns ${keyType} PKCS#8 PEM into the same key's PKCS#8 DER, which then validates`, () => {
      const der = normaliseMaterial(keyType, pkcs8Pem(keyType))
      expect(der.equals(pkcs8Der(keyType))).toBe(true)
      expect(validateMaterial(keyType, der).kind).toBe('asymmetric')
    })
  }

  it('returns DER and symmetric bytes unchanged', () => {
    const der = pkcs8Der('ecdsa-p256')
    expect(normaliseMaterial('ecdsa-p256', der)).toBe(der)
    const raw = randomBytes(32)
    expect(normaliseMaterial('aes256-gcm96', raw)).toBe(raw)
  })

  it('refuses PKCS#1, SEC1 and encrypted PEM, several PEM blocks, and a corrupt PEM', async () => {
    const pkcs1 = Buffer.from(keys['rsa-2048'].export({type: 'pkcs1', format: 'pem'}))
    const sec1 = Buffer.from(keys['ecdsa-p256'].export({type: 'sec1', format: 'pem'}))
    const encrypted = Buffer.from(keys['ecdsa-p256'].export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x'}))
    expect((await refusal(() => normaliseMaterial('rsa-2048', pkcs1), pkcs1)).message).toMatch(/"RSA PRIVATE KEY" PEM block/)
    expect((await refusal(() => normaliseMaterial('ecdsa-p256', sec1), sec1)).message).toMatch(/"EC PRIVATE KEY" PEM block/)
    expect((await refusal(() => normaliseMaterial('ecdsa-p256', encrypted), encrypted)).message).toMatch(/"ENCRYPTED PRIVATE KEY" PEM block/)
    const two = Buffer.concat([pkcs8Pem('ecdsa-p256'), pkcs8Pem('ecdsa-p384')])
    expect((await refusal(() => normaliseMaterial('ecdsa-p256', two), two)).message).toMatch(/2 PEM blocks/)
    const corrupt = Buffer.from('-----BEGIN PRIVATE KEY-----\nTUlJQklq\n-----END PRIVATE KEY-----\n')
    expect((await refusal(() => normaliseMaterial('ecdsa-p256', corrupt), corrupt)).message).toMatch(/not a readable PKCS#8 PEM/)
  })
})

describe('key types that cannot be imported', () => {
  for (const keyType of ['hmac', 'hmac-sha256', 'hmac-sha512']) {
    it(`${keyType} is refused as not importable`, async () => {
      const material = randomBytes(32)
      const e = await refusal(() => validateMaterial(keyType, material), material, 'KEY_TYPE_NOT_IMPORTABLE')
      expect(e.message).toContain(`${keyType} cannot be imported`)
      await refusal(() => normaliseMaterial(keyType, material), material, 'KEY_TYPE_NOT_IMPORTABLE')
    })
  }

  it('an unknown or removed key type is refused with the list of known ones', async () => {
    for (const keyType of ['ec-p256', 'aes-256', 'hmac-sha384', '']) {
      const e = await refusal(() => validateMaterial(keyType, randomBytes(32)), Buffer.alloc(0), 'UNKNOWN_KEY_TYPE')
      expect(e.hint).toContain('aes256-gcm96')
    }
  })
})
