/**
 * Wrapping exported key material to an operator-supplied RSA public key (`export --recipient PEM`), in the
 * contract's layout: material of at most 32 bytes → RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) ciphertext;
 * larger material → RSA-OAEP of a fresh AES-256 key followed by the RFC 5649 wrap of the material under it
 * (PKCS#11 CKM_RSA_AES_KEY_WRAP). `unwrapWithPrivateKey` is the inverse, for tests and documentation.
 */
import {createPrivateKey, type KeyObject} from 'node:crypto'
import {usageError} from '../cli/errors.js'
import {modulusBytes, oaepDecrypt, oaepEncrypt, parseRsaPublicKey, rsaAesKeyUnwrap, rsaAesKeyWrap} from './rsa.js'

/** Material up to this many bytes goes directly under RSA-OAEP; anything larger uses the RSA-AES layout. */
export const RECIPIENT_DIRECT_MAX_BYTES = 32

const RECIPIENT_HINT = 'Pass the recipient\'s RSA public key (≥ 2048 bits) as SPKI PEM ("-----BEGIN PUBLIC KEY-----") or an X.509 certificate PEM, e.g. from `openssl rsa -in key.pem -pubout`.'

/** The --recipient key: an RSA public key of at least 2048 bits, else a usage error (exit 2). */
export const parseRecipientKey = (pem: string | Buffer): KeyObject =>
  parseRsaPublicKey(pem, 'The recipient key', (message) => usageError(message, RECIPIENT_HINT, 'INVALID_RECIPIENT_KEY'))

export const wrapForRecipient = (material: Buffer, recipientPem: string | Buffer): Buffer => {
  if (material.length === 0) throw new RangeError('no key material to wrap')
  const key = parseRecipientKey(recipientPem)
  return material.length <= RECIPIENT_DIRECT_MAX_BYTES ? oaepEncrypt(key, material) : rsaAesKeyWrap(key, material)
}

export const unwrapWithPrivateKey = (wrapped: Buffer, privatePem: string | Buffer): Buffer => {
  let key: KeyObject
  try {
    key = createPrivateKey(privatePem)
  } catch {
    throw usageError('the private key could not be parsed (expected an unencrypted PEM private key)', undefined, 'INVALID_PRIVATE_KEY')
  }
  if (key.asymmetricKeyType !== 'rsa') throw usageError(`the private key is ${key.asymmetricKeyType ?? 'not'} an RSA key; an RSA private key is required`, undefined, 'INVALID_PRIVATE_KEY')
  const k = modulusBytes(key)
  if (wrapped.length === k) return oaepDecrypt(key, wrapped, 'wrapped key material')
  if (wrapped.length > k) return rsaAesKeyUnwrap(key, wrapped)
  throw usageError(`wrapped key material is ${wrapped.length} bytes, shorter than the ${k}-byte RSA block of this private key`, undefined, 'KEY_UNWRAP_FAILED')
}
