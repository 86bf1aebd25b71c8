import {randomBytes} from 'node:crypto'
import {beforeAll, describe, expect, it} from 'vitest'
import {ExitCode, KmsGuardError} from '../../../src/cli/errors.js'
import {resolveWrappingScheme, wrapForImport} from '../../../src/crypto/byok.js'
import {aesKeyUnwrapPad} from '../../../src/crypto/keywrap.js'
import {unwrapWithPrivateKey} from '../../../src/crypto/recipient.js'
import {ecPair, oaepSha256DecodeManually, rsaPair, thrown, type Pair} from './helpers.js'

let wrapping: Pair // RSA-3072: 384-byte modulus, OAEP-SHA256 capacity 318 bytes
beforeAll(async () => {
  wrapping = await rsaPair(3072)
})

const asError = (err: unknown) => {
  expect(err).toBeInstanceOf(KmsGuardError)
  return err as KmsGuardError
}

/** Each documented spelling in its own case, upper, lower, and with `-`/`_` swapped. */
const variants = (spelling: string) => {
  const swapped = spelling.includes('_') ? spelling.replaceAll('_', '-') : spelling.replaceAll('-', '_')
  return [spelling, spelling.toLowerCase(), swapped, swapped.toLowerCase(), ` ${spelling.toLowerCase()} `]
}

describe('resolveWrappingScheme', () => {
  const matrix: Array<[string, string]> = [
    ['RSA_OAEP_SHA256', 'rsa-oaep-sha256'],
    ['RSAES_OAEP_SHA_256', 'rsa-oaep-sha256'],
    ['RSA-OAEP-256', 'rsa-oaep-sha256'],
    ['RSA_AES_KEY_WRAP_SHA_256', 'rsa-aes-kwp-sha256'],
    ['CKM_RSA_AES_KEY_WRAP', 'rsa-aes-kwp-sha256'],
    ['rsa-oaep-sha256', 'rsa-oaep-sha256'],
    ['rsa-aes-kwp-sha256', 'rsa-aes-kwp-sha256'],
  ]
  for (const [spelling, scheme] of matrix) {
    it(`maps ${spelling} in any case and with - or _ to ${scheme}`, () => {
      for (const v of variants(spelling)) expect(resolveWrappingScheme(v)).toBe(scheme)
    })
  }

  const unknown = ['RSA_OAEP_SHA1', 'RSAES_OAEP_SHA_1', 'RSA-OAEP', 'RSA_OAEP_SHA384', 'AES_KWP', 'RSA_AES_KEY_WRAP_SHA_1', 'CKM_RSA_PKCS_OAEP', 'RSAOAEPSHA256', 'constructor', '__proto__', 'rsa_oaep_sha256\u001b[2J']
  for (const announced of unknown) {
    it(`refuses ${JSON.stringify(announced)} with exit 3, naming it verbatim and not guessing`, async () => {
      const err = asError(await thrown(() => resolveWrappingScheme(announced)))
      expect(err.exitCode).toBe(ExitCode.GUARD_REFUSED)
      expect(err.code).toBe('UNKNOWN_WRAPPING_ALGORITHM')
      expect(err.message).toContain(JSON.stringify(announced))
      expect(err.message).toContain('will not guess')
      expect(err.details).toEqual({announcedAlgorithm: announced})
      expect(err.message).not.toContain('\u001b')
    })
  }

  for (const missing of [undefined, '', '   ']) {
    it(`refuses a missing algorithm (${JSON.stringify(missing)}) with exit 3`, async () => {
      const err = asError(await thrown(() => resolveWrappingScheme(missing)))
      expect(err.exitCode).toBe(ExitCode.GUARD_REFUSED)
      expect(err.code).toBe('UNKNOWN_WRAPPING_ALGORITHM')
      expect(err.message).toMatch(/announces no wrapping algorithm.*will not guess/)
      expect(err.hint).toContain('--wrapped-material')
    })
  }
})

describe('wrapForImport', () => {
  it('RSA-OAEP: one 384-byte OAEP-SHA256 block, base64, hashFunction sha256', () => {
    const material = randomBytes(32)
    const out = wrapForImport(material, wrapping.publicPem, 'RSAES_OAEP_SHA_256')
    expect(out.scheme).toBe('rsa-oaep-sha256')
    expect(out.hashFunction).toBe('sha256')
    const wrapped = Buffer.from(out.importKeyMaterial, 'base64')
    expect(wrapped.toString('base64')).toBe(out.importKeyMaterial)
    expect(wrapped.length).toBe(384)
    expect(oaepSha256DecodeManually(wrapping.privateKey, wrapped).equals(material)).toBe(true)
  })

  it('RSA-OAEP: material of exactly modulus − 66 bytes fits; one byte more is refused with exit 2', async () => {
    const fits = randomBytes(384 - 66)
    const out = wrapForImport(fits, wrapping.publicPem, 'RSA_OAEP_SHA256')
    expect(unwrapWithPrivateKey(Buffer.from(out.importKeyMaterial, 'base64'), wrapping.privatePem).equals(fits)).toBe(true)
    const err = asError(await thrown(() => wrapForImport(randomBytes(384 - 65), wrapping.publicPem, 'RSA_OAEP_SHA256')))
    expect(err.exitCode).toBe(ExitCode.USAGE)
    expect(err.code).toBe('MATERIAL_TOO_LARGE_FOR_WRAPPING')
    expect(err.message).toContain('319 bytes')
    expect(err.message).toContain('at most 318 bytes')
    expect(err.hint).toContain('--wrapped-material')
  })

  it('RSA-OAEP refuses PKCS#8 RSA private-key material', async () => {
    const der = wrapping.privateKey.export({type: 'pkcs8', format: 'der'})
    const err = asError(await thrown(() => wrapForImport(der, wrapping.publicPem, 'RSA-OAEP-256')))
    expect(err.code).toBe('MATERIAL_TOO_LARGE_FOR_WRAPPING')
  })

  for (const n of [16, 32, 33, 1218]) {
    it(`RSA-AES: ${n}-byte material becomes OAEP(AES-256 key) || RFC 5649 wrap, always in two parts`, () => {
      const material = randomBytes(n)
      const out = wrapForImport(material, wrapping.publicPem, 'CKM_RSA_AES_KEY_WRAP')
      expect(out.scheme).toBe('rsa-aes-kwp-sha256')
      expect(out.hashFunction).toBe('sha256')
      const wrapped = Buffer.from(out.importKeyMaterial, 'base64')
      expect(wrapped.length).toBe(384 + 8 * Math.ceil(n / 8) + 8)
      const aesKey = oaepSha256DecodeManually(wrapping.privateKey, wrapped.subarray(0, 384))
      expect(aesKey.length).toBe(32)
      expect(aesKeyUnwrapPad(aesKey, wrapped.subarray(384)).equals(material)).toBe(true)
    })
  }

  it('checks the algorithm before the wrapping key: unknown algorithm wins over a bad key', async () => {
    const err = asError(await thrown(() => wrapForImport(randomBytes(32), 'garbage', 'RSA_OAEP_SHA1')))
    expect(err.code).toBe('UNKNOWN_WRAPPING_ALGORITHM')
  })

  it('refuses an unusable wrapping key with exit 3', async () => {
    for (const pem of ['garbage', (await ecPair('P-256')).publicPem, (await rsaPair(1024)).publicPem]) {
      const err = asError(await thrown(() => wrapForImport(randomBytes(32), pem, 'RSA_OAEP_SHA256')))
      expect(err.exitCode).toBe(ExitCode.GUARD_REFUSED)
      expect(err.code).toBe('INVALID_WRAPPING_KEY')
      expect(err.message).toContain('wrapping key')
    }
  })
})
