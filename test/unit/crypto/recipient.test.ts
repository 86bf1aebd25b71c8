import {randomBytes} from 'node:crypto'
import {beforeAll, describe, expect, it} from 'vitest'
import {ExitCode, KmsGuardError} from '../../../src/cli/errors.js'
import {aesKeyUnwrapPad} from '../../../src/crypto/keywrap.js'
import {parseRecipientKey, unwrapWithPrivateKey, wrapForRecipient} from '../../../src/crypto/recipient.js'
import {certificatePem, ecPair, ed25519Pair, oaepSha256DecodeManually, rsaPair, rsaPssSpkiPem, thrown, type Pair} from './helpers.js'

let rsa2048: Pair
let rsa4096: Pair
beforeAll(async () => {
  ;[rsa2048, rsa4096] = await Promise.all([rsaPair(2048), rsaPair(4096)])
})

const expectRecipientRefusal = async (pem: string | Buffer, pattern: RegExp) => {
  const err = await thrown(() => parseRecipientKey(pem))
  expect(err).toBeInstanceOf(KmsGuardError)
  expect((err as KmsGuardError).exitCode).toBe(ExitCode.USAGE)
  expect((err as KmsGuardError).code).toBe('INVALID_RECIPIENT_KEY')
  expect((err as KmsGuardError).message).toMatch(pattern)
}

describe('wrapForRecipient → unwrapWithPrivateKey', () => {
  for (const n of [1, 16, 32, 33, 64]) {
    it(`round-trips ${n}-byte material for RSA-2048 and RSA-4096 recipients`, () => {
      for (const pair of [rsa2048, rsa4096]) {
        const material = randomBytes(n)
        const wrapped = wrapForRecipient(material, pair.publicPem)
        expect(unwrapWithPrivateKey(wrapped, pair.privatePem).equals(material)).toBe(true)
      }
    })
  }

  it('round-trips PKCS#8 RSA-4096 private-key material', () => {
    const material = rsa4096.privateKey.export({type: 'pkcs8', format: 'der'})
    const wrapped = wrapForRecipient(material, Buffer.from(rsa2048.publicPem))
    expect(unwrapWithPrivateKey(wrapped, rsa2048.privatePem).equals(material)).toBe(true)
  })

  it('fails to unwrap when the RSA block or the AES-wrapped part is corrupted', async () => {
    for (const [n, at] of [[32, 10], [64, 10], [64, 256 + 3]]) {
      const wrapped = wrapForRecipient(randomBytes(n), rsa2048.publicPem)
      wrapped[at] ^= 0x01
      const err = await thrown(() => unwrapWithPrivateKey(wrapped, rsa2048.privatePem))
      expect((err as KmsGuardError).code).toBe('KEY_UNWRAP_FAILED')
    }
  })

  it('fails to unwrap with another RSA private key', async () => {
    const wrapped = wrapForRecipient(randomBytes(64), rsa4096.publicPem)
    const err = await thrown(() => unwrapWithPrivateKey(wrapped.subarray(0, 256 + 72), rsa2048.privatePem))
    expect((err as KmsGuardError).code).toBe('KEY_UNWRAP_FAILED')
  })
})

describe('the exact contract layout', () => {
  it('material ≤ 32 bytes is one RSA-OAEP(SHA-256, MGF1-SHA-256, empty label) block of modulus length', () => {
    for (const pair of [rsa2048, rsa4096]) {
      const k = pair.publicKey.asymmetricKeyDetails!.modulusLength! / 8
      for (const n of [16, 32]) {
        const material = randomBytes(n)
        const wrapped = wrapForRecipient(material, pair.publicPem)
        expect(wrapped.length).toBe(k)
        expect(oaepSha256DecodeManually(pair.privateKey, wrapped).equals(material)).toBe(true)
      }
    }
  })

  it('material > 32 bytes is RSA-OAEP(fresh AES-256 key) || RFC 5649 wrap, modulus + 8·⌈n/8⌉ + 8 bytes', () => {
    for (const pair of [rsa2048, rsa4096]) {
      const k = pair.publicKey.asymmetricKeyDetails!.modulusLength! / 8
      for (const n of [33, 64, 100]) {
        const material = randomBytes(n)
        const wrapped = wrapForRecipient(material, pair.publicPem)
        expect(wrapped.length).toBe(k + 8 * Math.ceil(n / 8) + 8)
        const aesKey = oaepSha256DecodeManually(pair.privateKey, wrapped.subarray(0, k))
        expect(aesKey.length).toBe(32)
        expect(aesKeyUnwrapPad(aesKey, wrapped.subarray(k)).equals(material)).toBe(true)
      }
    }
  })

  it('uses a fresh AES key for every wrap', () => {
    const material = randomBytes(48)
    const k = 256
    const keys = [0, 1].map(() => oaepSha256DecodeManually(rsa2048.privateKey, wrapForRecipient(material, rsa2048.publicPem).subarray(0, k)))
    expect(keys[0].equals(keys[1])).toBe(false)
  })
})

describe('parseRecipientKey', () => {
  it('accepts an SPKI PEM and returns that RSA key', () => {
    const key = parseRecipientKey(rsa2048.publicPem)
    expect(key.export({type: 'spki', format: 'der'}).equals(rsa2048.publicKey.export({type: 'spki', format: 'der'}))).toBe(true)
  })

  it('accepts a PKCS#1 "RSA PUBLIC KEY" PEM', () => {
    const key = parseRecipientKey(rsa2048.publicKey.export({type: 'pkcs1', format: 'pem'}))
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('accepts an X.509 certificate and takes its public key, which then unwraps', () => {
    const cert = certificatePem(rsa4096.publicKey, rsa2048.privateKey)
    expect(parseRecipientKey(cert).export({type: 'spki', format: 'der'}).equals(rsa4096.publicKey.export({type: 'spki', format: 'der'}))).toBe(true)
    const material = randomBytes(48)
    expect(unwrapWithPrivateKey(wrapForRecipient(material, cert), rsa4096.privatePem).equals(material)).toBe(true)
  })

  it('refuses an EC public key and an Ed25519 public key', async () => {
    await expectRecipientRefusal((await ecPair('P-256')).publicPem, /not an RSA key \(it is EC\); an RSA public key is required/)
    await expectRecipientRefusal((await ed25519Pair()).publicPem, /not an RSA key \(it is ED25519\)/)
  })

  it('refuses a certificate carrying an EC key', async () => {
    await expectRecipientRefusal(certificatePem((await ecPair('P-384')).publicKey, rsa2048.privateKey), /an RSA public key is required/)
  })

  it('refuses a 1024-bit RSA key', async () => {
    await expectRecipientRefusal((await rsaPair(1024)).publicPem, /RSA-1024; at least 2048 bits/)
  })

  it('refuses an RSA-PSS-only key', async () => {
    await expectRecipientRefusal(rsaPssSpkiPem(rsa2048.publicKey), /RSA-PSS-only key/)
  })

  it('refuses private keys (PKCS#8, PKCS#1, or bundled after the public key) without echoing them', async () => {
    const pkcs1 = rsa2048.privateKey.export({type: 'pkcs1', format: 'pem'}).toString()
    for (const pem of [rsa2048.privatePem, pkcs1, rsa2048.publicPem + pkcs1]) {
      await expectRecipientRefusal(pem, /contains a private key/)
      const err = (await thrown(() => parseRecipientKey(pem))) as KmsGuardError
      expect(`${err.message} ${err.hint}`).not.toContain(rsa2048.privatePem.split('\n')[1])
    }
  })

  it('refuses garbage, an unknown PEM block and a corrupt public key', async () => {
    await expectRecipientRefusal('not a key at all', /not a PEM document/)
    await expectRecipientRefusal(Buffer.from([0x30, 0x82, 0x01, 0x22, 0xff]), /not a PEM document/)
    await expectRecipientRefusal('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', /"CERTIFICATE REQUEST" PEM block/)
    await expectRecipientRefusal('-----BEGIN PUBLIC KEY-----\nTUlJQklq\n-----END PUBLIC KEY-----\n', /could not be parsed as a public key/)
    await expectRecipientRefusal('-----BEGIN CERTIFICATE-----\nTUlJQklq\n-----END CERTIFICATE-----\n', /could not be parsed as an X.509 certificate/)
  })

  it('wrapForRecipient refuses a bad recipient before wrapping anything', async () => {
    const err = await thrown(() => wrapForRecipient(randomBytes(32), rsa2048.privatePem))
    expect((err as KmsGuardError).code).toBe('INVALID_RECIPIENT_KEY')
  })
})

describe('unwrapWithPrivateKey input checks', () => {
  it('refuses a non-RSA private key, garbage and data shorter than one RSA block', async () => {
    const ec = await ecPair('P-256')
    expect(((await thrown(() => unwrapWithPrivateKey(randomBytes(256), ec.privatePem))) as KmsGuardError).code).toBe('INVALID_PRIVATE_KEY')
    expect(((await thrown(() => unwrapWithPrivateKey(randomBytes(256), 'garbage'))) as KmsGuardError).code).toBe('INVALID_PRIVATE_KEY')
    expect(((await thrown(() => unwrapWithPrivateKey(randomBytes(255), rsa2048.privatePem))) as KmsGuardError).code).toBe('KEY_UNWRAP_FAILED')
  })
})
