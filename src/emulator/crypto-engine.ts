/**
 * The emulator's real cryptography, all on node:crypto: key material generation for every KMS key type,
 * encrypt/decrypt, sign/verify, HMAC, public-key export, BYOK unwrapping and material validation.
 *
 * Key material (what `export` returns, byte for byte):
 *   aes128-gcm96 16 random bytes; aes256-gcm96, chacha20-poly1305, hmac, hmac-sha256 32 bytes; hmac-sha512 64 bytes;
 *   rsa-*, ecdsa-*, ed25519: the private key as PKCS#8 DER.
 *
 * Versioned outputs. Ciphertexts, signatures and HMACs are strings `thalassa:v<N>:<base64>` where N is the key
 * version used and base64 is standard with padding. The bytes behind the base64:
 *   - aes*-gcm96 and chacha20-poly1305: nonce (12 bytes) || ciphertext || tag (16 bytes); no AAD.
 *     (AES-128-GCM / AES-256-GCM / ChaCha20-Poly1305 with the version's raw material as the key.)
 *   - rsa-*: RSA-OAEP ciphertext (SHA-256, MGF1-SHA-256, empty label), modulus-length bytes.
 *   - signatures: RSA PKCS#1 v1.5 with SHA-256 (hashAlgorithm `sha256`, the default) or RSA-PSS with SHA-256,
 *     MGF1-SHA-256, salt 32 bytes (hashAlgorithm `pss-sha256`); ECDSA DER-encoded (r, s) with the curve's hash
 *     (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512); Ed25519 the 64-byte pure signature.
 *   - HMAC: the raw MAC (SHA-256 for `hmac` and `hmac-sha256`, SHA-512 for `hmac-sha512`).
 *
 * BYOK (`importKeyMaterial`, wrapping key algorithm RSA_AES_KEY_WRAP_SHA_256): a blob exactly as long as the
 * wrapping key's modulus is RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) of the material itself; a longer blob
 * is RSA-OAEP of a 32-byte AES key followed by the AES key wrap with padding (RFC 5649) of the material.
 */
import {
  constants, createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, generateKeyPair,
  privateDecrypt, publicEncrypt, randomBytes, sign, timingSafeEqual, verify, type KeyObject,
} from 'node:crypto'
import {badRequest} from './http.js'
import type {KeyType} from './state.js'

export const WRAPPING_ALGORITHM = 'RSA_AES_KEY_WRAP_SHA_256'
const WRAPPING_MODULUS_BITS = 3072
const KWP_IV = Buffer.from('A65959A6', 'hex')
const NONCE_BYTES = 12
const TAG_BYTES = 16

type Family = 'symmetric' | 'rsa' | 'ecdsa' | 'ed25519' | 'hmac'

interface TypeInfo {
  family: Family
  /** Raw size for symmetric/HMAC material, modulus bits for RSA. */
  size?: number
  cipher?: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'
  curve?: {node: string; openssl: string; hash: string}
  hash?: string
}

const TYPES: Record<KeyType, TypeInfo> = {
  'aes128-gcm96': {family: 'symmetric', size: 16, cipher: 'aes-128-gcm'},
  'aes256-gcm96': {family: 'symmetric', size: 32, cipher: 'aes-256-gcm'},
  'chacha20-poly1305': {family: 'symmetric', size: 32, cipher: 'chacha20-poly1305'},
  'rsa-2048': {family: 'rsa', size: 2048},
  'rsa-3072': {family: 'rsa', size: 3072},
  'rsa-4096': {family: 'rsa', size: 4096},
  'ecdsa-p256': {family: 'ecdsa', curve: {node: 'P-256', openssl: 'prime256v1', hash: 'sha256'}},
  'ecdsa-p384': {family: 'ecdsa', curve: {node: 'P-384', openssl: 'secp384r1', hash: 'sha384'}},
  'ecdsa-p521': {family: 'ecdsa', curve: {node: 'P-521', openssl: 'secp521r1', hash: 'sha512'}},
  ed25519: {family: 'ed25519'},
  hmac: {family: 'hmac', size: 32, hash: 'sha256'},
  'hmac-sha256': {family: 'hmac', size: 32, hash: 'sha256'},
  'hmac-sha512': {family: 'hmac', size: 64, hash: 'sha512'},
}

const info = (t: KeyType): TypeInfo => TYPES[t]

export const canEncrypt = (t: KeyType) => info(t).family === 'symmetric' || info(t).family === 'rsa'
export const canSign = (t: KeyType) => ['rsa', 'ecdsa', 'ed25519'].includes(info(t).family)
export const canHmac = (t: KeyType) => info(t).family === 'hmac'
export const isSymmetric = (t: KeyType) => info(t).family === 'symmetric'
export const isAsymmetric = (t: KeyType) => canSign(t)
export const isDnssecCapable = (t: KeyType) => ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'].includes(t)

const DER = {privateKeyEncoding: {type: 'pkcs8', format: 'der'}, publicKeyEncoding: {type: 'spki', format: 'der'}} as const

type KeyGenSpec = {type: 'rsa'; bits: number} | {type: 'ec'; curve: string} | {type: 'ed25519'}

/** A new private key as PKCS#8 DER, generated off the event loop. */
function generatePkcs8(spec: KeyGenSpec): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: Buffer, priv: Buffer) => (err === null ? resolve(priv) : reject(err))
    if (spec.type === 'rsa') generateKeyPair('rsa', {modulusLength: spec.bits, publicExponent: 0x10001, ...DER}, done)
    else if (spec.type === 'ec') generateKeyPair('ec', {namedCurve: spec.curve, ...DER}, done)
    else generateKeyPair('ed25519', DER, done)
  })
}

/** Fresh material for a key type. */
export async function generateMaterial(t: KeyType): Promise<Buffer> {
  const ti = info(t)
  switch (ti.family) {
    case 'symmetric':
    case 'hmac':
      return randomBytes(ti.size ?? 32)
    case 'rsa':
      return generatePkcs8({type: 'rsa', bits: ti.size ?? 2048})
    case 'ecdsa':
      return generatePkcs8({type: 'ec', curve: ti.curve?.node ?? 'P-256'})
    case 'ed25519':
      return generatePkcs8({type: 'ed25519'})
  }
}

/** A new regional BYOK wrapping key (RSA-3072, PKCS#8 DER). */
export const generateWrappingKey = (): Promise<Buffer> => generatePkcs8({type: 'rsa', bits: WRAPPING_MODULUS_BITS})

type AeadName = NonNullable<TypeInfo['cipher']>

const aeadCipher = (name: AeadName, key: Buffer, nonce: Buffer) =>
  name === 'chacha20-poly1305' ? createCipheriv(name, key, nonce, {authTagLength: TAG_BYTES}) : createCipheriv(name, key, nonce, {authTagLength: TAG_BYTES})

const aeadDecipher = (name: AeadName, key: Buffer, nonce: Buffer) =>
  name === 'chacha20-poly1305' ? createDecipheriv(name, key, nonce, {authTagLength: TAG_BYTES}) : createDecipheriv(name, key, nonce, {authTagLength: TAG_BYTES})

const keyCache = new WeakMap<Buffer, KeyObject>()

/** Parsed private key for PKCS#8 DER material, cached per Buffer. */
function privateKey(material: Buffer): KeyObject {
  let k = keyCache.get(material)
  if (k === undefined) {
    k = createPrivateKey({key: material, format: 'der', type: 'pkcs8'})
    keyCache.set(material, k)
  }
  return k
}

const unsupported = (op: string, t: KeyType) => badRequest(`operation ${op} is not supported for key type ${t}`)

// ---- versioned strings ---------------------------------------------------------------------------------------

export const formatVersioned = (version: number, data: Buffer): string => `thalassa:v${version}:${data.toString('base64')}`

const VERSIONED = /^thalassa:v([1-9][0-9]*):([A-Za-z0-9+/]*={0,2})$/

/** Splits `thalassa:v<N>:<base64>`; `what` names the field in the 400 message. */
export function parseVersioned(value: string, what: string): {version: number; data: Buffer} {
  const m = VERSIONED.exec(value)
  if (m === null) throw badRequest(`${what} is not in the form thalassa:v<version>:<base64>`)
  return {version: Number(m[1]), data: Buffer.from(m[2], 'base64')}
}

// ---- encrypt / decrypt -----------------------------------------------------------------------------------------

/** Largest plaintext the key can take in one call (the API allows 1..65535 bytes; RSA-OAEP is smaller). */
export function maxPlaintext(t: KeyType, material: Buffer): number {
  if (info(t).family !== 'rsa') return 65535
  const bits = privateKey(material).asymmetricKeyDetails?.modulusLength ?? 2048
  return bits / 8 - 2 * 32 - 2
}

export function encryptBytes(t: KeyType, material: Buffer, plaintext: Buffer): Buffer {
  const ti = info(t)
  if (ti.family === 'rsa') {
    return publicEncrypt({key: createPublicKey(privateKey(material)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256'}, plaintext)
  }
  if (ti.cipher === undefined) throw unsupported('encrypt', t)
  const nonce = randomBytes(NONCE_BYTES)
  const c = aeadCipher(ti.cipher, material, nonce)
  const body = Buffer.concat([c.update(plaintext), c.final()])
  return Buffer.concat([nonce, body, c.getAuthTag()])
}

export function decryptBytes(t: KeyType, material: Buffer, blob: Buffer): Buffer {
  const ti = info(t)
  try {
    if (ti.family === 'rsa') {
      return privateDecrypt({key: privateKey(material), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256'}, blob)
    }
    if (ti.cipher === undefined) throw unsupported('decrypt', t)
    if (blob.length <= NONCE_BYTES + TAG_BYTES) throw new Error('short')
    const d = aeadDecipher(ti.cipher, material, blob.subarray(0, NONCE_BYTES))
    d.setAuthTag(blob.subarray(blob.length - TAG_BYTES))
    return Buffer.concat([d.update(blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES)), d.final()])
  } catch (e) {
    if (e instanceof Error && e.name === 'HttpError') throw e
    throw badRequest('decryption failed: ciphertext is invalid or was not produced by this key')
  }
}

// ---- sign / verify ---------------------------------------------------------------------------------------------

const normalizeAlg = (s: string) => s.toLowerCase().replace(/[-_]/g, '')

type SignScheme = {hash: string | null; padding?: number; saltLength?: number}

function signScheme(t: KeyType, hashAlgorithm: string | undefined): SignScheme {
  const ti = info(t)
  const alg = hashAlgorithm === undefined || hashAlgorithm === '' ? undefined : normalizeAlg(hashAlgorithm)
  switch (ti.family) {
    case 'rsa':
      if (alg === undefined || alg === 'sha256' || alg === 'pkcs1sha256') return {hash: 'sha256', padding: constants.RSA_PKCS1_PADDING}
      if (alg === 'psssha256' || alg === 'rsapsssha256') return {hash: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32}
      throw badRequest('hashAlgorithm for RSA keys must be sha256 (PKCS#1 v1.5) or pss-sha256')
    case 'ecdsa': {
      const hash = ti.curve?.hash ?? 'sha256'
      if (alg !== undefined && alg !== hash) throw badRequest(`hashAlgorithm for ${t} must be ${hash}`)
      return {hash}
    }
    case 'ed25519':
      if (alg !== undefined) throw badRequest('ed25519 signs the input directly: omit hashAlgorithm')
      return {hash: null}
    default:
      throw unsupported('sign', t)
  }
}

export function signBytes(t: KeyType, material: Buffer, input: Buffer, hashAlgorithm?: string): Buffer {
  const s = signScheme(t, hashAlgorithm)
  return sign(s.hash, input, {key: privateKey(material), padding: s.padding, saltLength: s.saltLength})
}

export function verifyBytes(t: KeyType, material: Buffer, input: Buffer, signature: Buffer, hashAlgorithm?: string): boolean {
  const s = signScheme(t, hashAlgorithm)
  try {
    return verify(s.hash, input, {key: createPublicKey(privateKey(material)), padding: s.padding, saltLength: s.saltLength}, signature)
  } catch {
    return false
  }
}

// ---- HMAC ------------------------------------------------------------------------------------------------------

export function hmacBytes(t: KeyType, material: Buffer, input: Buffer, algorithm?: string): Buffer {
  const hash = info(t).hash
  if (hash === undefined) throw unsupported('hmac', t)
  if (algorithm !== undefined && algorithm !== '' && ![hash, `hmac${hash}`].includes(normalizeAlg(algorithm))) {
    throw badRequest(`algorithm for ${t} keys must be ${hash}`)
  }
  return createHmac(hash, material).update(input).digest()
}

export function hmacMatches(t: KeyType, material: Buffer, input: Buffer, mac: Buffer, algorithm?: string): boolean {
  const expected = hmacBytes(t, material, input, algorithm)
  return expected.length === mac.length && timingSafeEqual(expected, mac)
}

// ---- public keys -----------------------------------------------------------------------------------------------

/** SPKI PEM for RSA/ECDSA, base64 of the raw 32-byte key for Ed25519. */
export function publicKeyText(t: KeyType, material: Buffer): string {
  if (!isAsymmetric(t)) throw badRequest(`key type ${t} has no public key`)
  const pub = createPublicKey(privateKey(material))
  if (t === 'ed25519') return Buffer.from(pub.export({format: 'jwk'}).x ?? '', 'base64url').toString('base64')
  return pub.export({type: 'spki', format: 'pem'}).toString()
}

/** The public half as a KeyObject (for DNSSEC DNSKEY construction). */
export const publicKeyObject = (material: Buffer): KeyObject => createPublicKey(privateKey(material))

export const wrappingPublicKeyPem = (wrappingKey: Buffer): string =>
  createPublicKey(privateKey(wrappingKey)).export({type: 'spki', format: 'pem'}).toString()

// ---- BYOK ------------------------------------------------------------------------------------------------------

const oaepDecrypt = (key: KeyObject, data: Buffer) =>
  privateDecrypt({key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256'}, data)

/** Recovers imported material from `importKeyMaterial` (layouts in the header comment). */
export function unwrapImportedMaterial(wrappingKey: Buffer, blob: Buffer): Buffer {
  const key = privateKey(wrappingKey)
  const k = (key.asymmetricKeyDetails?.modulusLength ?? WRAPPING_MODULUS_BITS) / 8
  if (blob.length < k) throw badRequest(`importKeyMaterial is too short for the ${k * 8}-bit wrapping key`)
  try {
    if (blob.length === k) return oaepDecrypt(key, blob)
    const aesKey = oaepDecrypt(key, blob.subarray(0, k))
    if (aesKey.length !== 32) throw new Error('AES key must be 32 bytes')
    const d = createDecipheriv('id-aes256-wrap-pad', aesKey, KWP_IV)
    return Buffer.concat([d.update(blob.subarray(k)), d.final()])
  } catch {
    throw badRequest('importKeyMaterial could not be unwrapped with this region\'s wrapping key')
  }
}

/** Checks that material fits the key type: exact sizes, or PKCS#8 of the right algorithm, curve and modulus. */
export function validateMaterial(t: KeyType, material: Buffer): void {
  const ti = info(t)
  if (ti.family === 'symmetric' || ti.family === 'hmac') {
    if (material.length !== ti.size) throw badRequest(`key material for ${t} must be ${ti.size} bytes`)
    return
  }
  let key: KeyObject
  try {
    key = createPrivateKey({key: material, format: 'der', type: 'pkcs8'})
  } catch {
    throw badRequest(`key material for ${t} must be a PKCS#8 DER private key`)
  }
  const d = key.asymmetricKeyDetails ?? {}
  const fits =
    (ti.family === 'rsa' && key.asymmetricKeyType === 'rsa' && d.modulusLength === ti.size) ||
    (ti.family === 'ecdsa' && key.asymmetricKeyType === 'ec' && d.namedCurve === ti.curve?.openssl) ||
    (ti.family === 'ed25519' && key.asymmetricKeyType === 'ed25519')
  if (!fits) throw badRequest(`key material is not a ${t} private key`)
}
