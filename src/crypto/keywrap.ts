/**
 * AES key wrap with padding (RFC 5649, "KWP") on node:crypto's OpenSSL ciphers `id-aes{128,192,256}-wrap-pad`.
 * The building block of the RSA-AES layouts (export to a recipient key, BYOK import): an AES key encrypts
 * key material of any length with integrity protection.
 */
import {createCipheriv, createDecipheriv} from 'node:crypto'
import {usageError} from '../cli/errors.js'
import {zeroize} from './fingerprint.js'

/** RFC 5649 §3: the constant high half of the alternative initial value (OpenSSL appends the length). */
const AIV_CONSTANT = Buffer.from('a65959a6', 'hex')

const cipherFor = (kek: Buffer): string => {
  switch (kek.length) {
    case 16: return 'id-aes128-wrap-pad'
    case 24: return 'id-aes192-wrap-pad'
    case 32: return 'id-aes256-wrap-pad'
    default: throw new RangeError(`AES key wrap needs a 128-, 192- or 256-bit key-encryption key, got ${kek.length * 8} bits`)
  }
}

/** Wrap `material` (at least one byte) under `kek`; the result is 8·⌈n/8⌉ + 8 bytes. */
export const aesKeyWrapPad = (kek: Buffer, material: Buffer): Buffer => {
  const algorithm = cipherFor(kek)
  if (material.length === 0) throw new RangeError('AES key wrap with padding cannot wrap empty key material')
  const cipher = createCipheriv(algorithm, kek, AIV_CONSTANT)
  return Buffer.concat([cipher.update(material), cipher.final()])
}

/**
 * Unwrap RFC 5649 output. A wrong key, corrupted or truncated data fail the integrity check and raise a usage
 * error (exit 2) that says so without showing any bytes.
 */
export const aesKeyUnwrapPad = (kek: Buffer, wrapped: Buffer): Buffer => {
  const algorithm = cipherFor(kek)
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) {
    throw usageError(`AES-wrapped key material must be a multiple of 8 bytes and at least 16 bytes long, got ${wrapped.length} bytes`, undefined, 'KEY_UNWRAP_FAILED')
  }
  const parts: Buffer[] = []
  try {
    const decipher = createDecipheriv(algorithm, kek, AIV_CONSTANT)
    parts.push(decipher.update(wrapped), decipher.final())
    return Buffer.concat(parts)
  } catch {
    throw usageError('AES key unwrap failed its integrity check: wrong key, or corrupted or truncated data', undefined, 'KEY_UNWRAP_FAILED')
  } finally {
    parts.forEach(zeroize)
  }
}
