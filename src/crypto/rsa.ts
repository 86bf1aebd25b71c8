/**
 * RSA building blocks shared by export-to-recipient and BYOK import: reading an RSA public key from PEM with
 * clear refusals, RSA-OAEP (SHA-256, MGF1 with SHA-256, empty label), and the PKCS#11 CKM_RSA_AES_KEY_WRAP
 * layout: RSA-OAEP(fresh AES-256 key) || RFC 5649 wrap of the material under that key.
 */
import {constants, createPublicKey, privateDecrypt, publicEncrypt, randomBytes, X509Certificate, type KeyObject} from 'node:crypto'
import {usageError, type KmsGuardError} from '../cli/errors.js'
import {zeroize} from './fingerprint.js'
import {aesKeyUnwrapPad, aesKeyWrapPad} from './keywrap.js'

export const MIN_RSA_BITS = 2048
const SHA256_BYTES = 32
const AES256_KEY_BYTES = 32
const OAEP = {padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256'} as const

export const modulusBits = (key: KeyObject): number => key.asymmetricKeyDetails?.modulusLength ?? 0
export const modulusBytes = (key: KeyObject): number => Math.ceil(modulusBits(key) / 8)
/** The largest message RSA-OAEP with SHA-256 can carry: k − 2·hLen − 2. */
export const oaepMaxBytes = (key: KeyObject): number => modulusBytes(key) - 2 * SHA256_BYTES - 2

export const oaepEncrypt = (key: KeyObject, data: Buffer): Buffer => publicEncrypt({key, ...OAEP}, data)

const unwrapFailed = (what: string) =>
  usageError(`RSA-OAEP decryption of the ${what} failed: wrong private key or corrupted data`, undefined, 'KEY_UNWRAP_FAILED')

export const oaepDecrypt = (key: KeyObject, data: Buffer, what: string): Buffer => {
  try {
    return privateDecrypt({key, ...OAEP}, data)
  } catch {
    throw unwrapFailed(what)
  }
}

/** CKM_RSA_AES_KEY_WRAP: a fresh AES-256 key under RSA-OAEP, then the material under that key (RFC 5649). */
export const rsaAesKeyWrap = (key: KeyObject, material: Buffer): Buffer => {
  const aesKey = randomBytes(AES256_KEY_BYTES)
  try {
    return Buffer.concat([oaepEncrypt(key, aesKey), aesKeyWrapPad(aesKey, material)])
  } finally {
    zeroize(aesKey)
  }
}

/** Inverse of rsaAesKeyWrap with the RSA private key. */
export const rsaAesKeyUnwrap = (privateKey: KeyObject, wrapped: Buffer): Buffer => {
  const k = modulusBytes(privateKey)
  const aesKey = oaepDecrypt(privateKey, wrapped.subarray(0, k), 'wrapped AES key')
  try {
    if (aesKey.length !== AES256_KEY_BYTES) throw unwrapFailed('wrapped AES key')
    return aesKeyUnwrapPad(aesKey, wrapped.subarray(k))
  } finally {
    zeroize(aesKey)
  }
}

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]{1,40})-----/g

/**
 * Read an RSA public key of at least 2048 bits from an SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") PEM, or
 * from an X.509 certificate PEM. `what` names the key in messages; `fail` builds the error to throw.
 */
export const parseRsaPublicKey = (pem: string | Buffer, what: string, fail: (message: string) => KmsGuardError): KeyObject => {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8')
  const labels = [...text.matchAll(PEM_LABEL)].map((m) => m[1])
  if (labels.length === 0) throw fail(`${what} is not a PEM document: expected "-----BEGIN PUBLIC KEY-----" or "-----BEGIN CERTIFICATE-----"`)
  if (labels.some((label) => label.includes('PRIVATE KEY'))) {
    throw fail(`${what} contains a private key; give the public key (or certificate) instead — kmsguard never needs the private key`)
  }
  const label = labels[0]
  if (label !== 'CERTIFICATE' && label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') {
    throw fail(`${what} is a "${label}" PEM block; expected "PUBLIC KEY" (SPKI) or "CERTIFICATE"`)
  }
  let key: KeyObject
  try {
    key = label === 'CERTIFICATE' ? new X509Certificate(text).publicKey : createPublicKey({key: text, format: 'pem'})
  } catch {
    throw fail(`${what} could not be parsed as ${label === 'CERTIFICATE' ? 'an X.509 certificate' : 'a public key'}`)
  }
  if (key.asymmetricKeyType !== 'rsa') {
    const actual = key.asymmetricKeyType === 'rsa-pss' ? 'an RSA-PSS-only key, which cannot encrypt' : `not an RSA key (it is ${(key.asymmetricKeyType ?? 'unknown').toUpperCase()})`
    throw fail(`${what} is ${actual}; an RSA public key is required`)
  }
  if (modulusBits(key) < MIN_RSA_BITS) throw fail(`${what} is RSA-${modulusBits(key)}; at least ${MIN_RSA_BITS} bits are required`)
  return key
}
