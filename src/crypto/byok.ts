/**
 * BYOK import wrapping: map the wrapping algorithm a region announces (GET …/wrapping-key `algorithm`) to a
 * scheme kmsguard implements — refusing, never guessing, when the name is missing or unknown — and wrap the
 * material under the region's wrapping key into the `importKeyMaterial` / `hashFunction` create fields.
 */
import {guardRefused, usageError} from '../cli/errors.js'
import {modulusBits, oaepEncrypt, oaepMaxBytes, parseRsaPublicKey, rsaAesKeyWrap} from './rsa.js'

export type WrappingScheme = 'rsa-oaep-sha256' | 'rsa-aes-kwp-sha256'

/** Accepted spellings, upper-cased with `-` turned into `_`. Our own scheme names are accepted too. */
const SPELLINGS = new Map<string, WrappingScheme>([
  ['RSA_OAEP_SHA256', 'rsa-oaep-sha256'],
  ['RSAES_OAEP_SHA_256', 'rsa-oaep-sha256'],
  ['RSA_OAEP_256', 'rsa-oaep-sha256'],
  ['RSA_AES_KEY_WRAP_SHA_256', 'rsa-aes-kwp-sha256'],
  ['CKM_RSA_AES_KEY_WRAP', 'rsa-aes-kwp-sha256'],
  ['RSA_AES_KWP_SHA256', 'rsa-aes-kwp-sha256'],
])

const WRAP_YOURSELF_HINT = 'Wrap the material with your HSM or key tooling as the region requires and import it with --wrapped-material FILE.'

export const resolveWrappingScheme = (algorithm: string | undefined): WrappingScheme => {
  const scheme = algorithm === undefined ? undefined : SPELLINGS.get(algorithm.trim().toUpperCase().replaceAll('-', '_'))
  if (scheme !== undefined) return scheme
  const message = algorithm === undefined || algorithm.trim() === ''
    ? 'The region\'s wrapping key announces no wrapping algorithm; kmsguard will not guess how to wrap the material.'
    : `The region's wrapping key announces the wrapping algorithm ${JSON.stringify(algorithm)}, which kmsguard does not know; kmsguard will not guess how to wrap the material.`
  throw guardRefused('UNKNOWN_WRAPPING_ALGORITHM', message, {
    hint: `${WRAP_YOURSELF_HINT} Known algorithms: RSA_OAEP_SHA256 (RSAES_OAEP_SHA_256, RSA-OAEP-256) and RSA_AES_KEY_WRAP_SHA_256 (CKM_RSA_AES_KEY_WRAP).`,
    details: {announcedAlgorithm: algorithm ?? null},
  })
}

export interface ImportWrapping {
  /** base64 of the wrapped material, for the create request's `importKeyMaterial`. */
  importKeyMaterial: string
  hashFunction: 'sha256'
  scheme: WrappingScheme
}

export const wrapForImport = (material: Buffer, wrappingKeyPem: string, algorithm: string | undefined): ImportWrapping => {
  const scheme = resolveWrappingScheme(algorithm)
  const key = parseRsaPublicKey(wrappingKeyPem, 'The region\'s wrapping key', (message) => guardRefused('INVALID_WRAPPING_KEY', message))
  if (scheme === 'rsa-oaep-sha256' && material.length > oaepMaxBytes(key)) {
    throw usageError(
      `The key material is ${material.length} bytes, but RSA-OAEP-SHA256 under the region's ${modulusBits(key)}-bit wrapping key carries at most ${oaepMaxBytes(key)} bytes.`,
      `The region announces plain RSA-OAEP, which fits symmetric keys but not private keys. ${WRAP_YOURSELF_HINT}`,
      'MATERIAL_TOO_LARGE_FOR_WRAPPING',
    )
  }
  const wrapped = scheme === 'rsa-oaep-sha256' ? oaepEncrypt(key, material) : rsaAesKeyWrap(key, material)
  return {importKeyMaterial: wrapped.toString('base64'), hashFunction: 'sha256', scheme}
}
