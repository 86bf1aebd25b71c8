/**
 * Key types (§2.3 of the API fact sheet) and their capabilities, and the check that BYOK key material really is
 * what its declared key type needs — raw bytes of the right length for symmetric keys, an unencrypted PKCS#8
 * private key of the right algorithm and size for asymmetric ones. Messages name expected vs actual, never bytes.
 */
import {createPrivateKey, type KeyObject} from 'node:crypto'
import {usageError} from '../cli/errors.js'

export const KEY_TYPE_NAMES = [
  'aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305',
  'rsa-2048', 'rsa-3072', 'rsa-4096',
  'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519',
  'hmac', 'hmac-sha256', 'hmac-sha512',
] as const
export type KeyType = (typeof KEY_TYPE_NAMES)[number]

export interface KeyTypeInfo {
  readonly name: KeyType
  readonly symmetric: boolean
  readonly asymmetric: boolean
  readonly hmac: boolean
  readonly dnssecCapable: boolean
  /** Usable as a Secrets Manager key. */
  readonly secretsCapable: boolean
  /** BYOK import allowed. */
  readonly importable: boolean
}

const DNSSEC_TYPES: ReadonlySet<string> = new Set(['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'])

const kindOf = (name: KeyType): 'symmetric' | 'asymmetric' | 'hmac' =>
  name.startsWith('hmac') ? 'hmac' : /^(rsa|ecdsa|ed25519)/.test(name) ? 'asymmetric' : 'symmetric'

export const KEY_TYPES: readonly KeyTypeInfo[] = KEY_TYPE_NAMES.map((name) => {
  const kind = kindOf(name)
  return {
    name,
    symmetric: kind === 'symmetric',
    asymmetric: kind === 'asymmetric',
    hmac: kind === 'hmac',
    dnssecCapable: DNSSEC_TYPES.has(name),
    secretsCapable: kind === 'symmetric',
    importable: kind !== 'hmac',
  }
})

export const findKeyType = (name: string): KeyTypeInfo | undefined => KEY_TYPES.find((info) => info.name === name)

/** What importable material must be, per key type. */
type AsymmetricExpectation = {kind: 'rsa'; bits: number} | {kind: 'ec'; curve: string} | {kind: 'ed25519'}
type Expectation = {kind: 'symmetric'; bytes: number} | AsymmetricExpectation

const EXPECTATIONS: Partial<Record<KeyType, Expectation>> = {
  'aes128-gcm96': {kind: 'symmetric', bytes: 16},
  'aes256-gcm96': {kind: 'symmetric', bytes: 32},
  'chacha20-poly1305': {kind: 'symmetric', bytes: 32},
  'rsa-2048': {kind: 'rsa', bits: 2048},
  'rsa-3072': {kind: 'rsa', bits: 3072},
  'rsa-4096': {kind: 'rsa', bits: 4096},
  'ecdsa-p256': {kind: 'ec', curve: 'prime256v1'},
  'ecdsa-p384': {kind: 'ec', curve: 'secp384r1'},
  'ecdsa-p521': {kind: 'ec', curve: 'secp521r1'},
  'ed25519': {kind: 'ed25519'},
}

const CURVE_LABELS: Record<string, string> = {prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521'}
const curveLabel = (curve: string | undefined) => (curve === undefined ? 'unknown curve' : CURVE_LABELS[curve] ?? curve)

const PKCS8_HINT = 'Provide an unencrypted PKCS#8 private key, DER or PEM ("-----BEGIN PRIVATE KEY-----"); convert with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.p8.pem`.'

const expectationFor = (keyType: string): Expectation => {
  const info = findKeyType(keyType)
  if (info === undefined) throw usageError(`Unknown key type "${keyType}".`, `Known key types: ${KEY_TYPE_NAMES.join(', ')}.`, 'UNKNOWN_KEY_TYPE')
  const expectation = EXPECTATIONS[info.name]
  if (expectation === undefined) {
    throw usageError(`Key type ${keyType} cannot be imported: the platform does not accept HMAC key material.`, 'Create the HMAC key in KMS instead (`kmsguard create --type ...`).', 'KEY_TYPE_NOT_IMPORTABLE')
  }
  return expectation
}

const describeExpected = (e: Expectation): string => {
  switch (e.kind) {
    case 'symmetric': return `${e.bytes} raw bytes (a ${e.bytes * 8}-bit key)`
    case 'rsa': return `an RSA-${e.bits} private key`
    case 'ec': return `an EC ${curveLabel(e.curve)} private key`
    case 'ed25519': return 'an Ed25519 private key'
  }
}

const describeKey = (key: KeyObject): string => {
  switch (key.asymmetricKeyType) {
    case 'rsa': return `an RSA-${key.asymmetricKeyDetails?.modulusLength} private key`
    case 'rsa-pss': return `an RSA-PSS-${key.asymmetricKeyDetails?.modulusLength} private key`
    case 'ec': return `an EC ${curveLabel(key.asymmetricKeyDetails?.namedCurve)} private key`
    case 'ed25519': return 'an Ed25519 private key'
    default: return `a ${key.asymmetricKeyType ?? 'unknown'} private key`
  }
}

const matches = (e: AsymmetricExpectation, key: KeyObject): boolean => {
  switch (e.kind) {
    case 'rsa': return key.asymmetricKeyType === 'rsa' && key.asymmetricKeyDetails?.modulusLength === e.bits
    case 'ec': return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === e.curve
    case 'ed25519': return key.asymmetricKeyType === 'ed25519'
  }
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{1,40})-----/g
const pemLabels = (bytes: Buffer): string[] => [...bytes.toString('latin1').matchAll(PEM_BEGIN)].map((m) => m[1])

/** Length of a DER TLV starting at offset 0 (header + content), or undefined when the header is malformed. */
const derLength = (der: Buffer): number | undefined => {
  if (der.length < 2) return undefined
  const first = der[1]
  if (first < 0x80) return 2 + first
  const octets = first & 0x7f
  if (octets === 0 || octets > 4 || der.length < 2 + octets) return undefined
  return 2 + octets + der.subarray(2, 2 + octets).reduce((acc, b) => acc * 256 + b, 0)
}

const looksLikeText = (bytes: Buffer) => bytes.every((b) => b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))

/**
 * Bring material into the form validateMaterial checks and the import sends: asymmetric keys given as PKCS#8 PEM
 * become PKCS#8 DER; everything else is returned unchanged.
 */
export const normaliseMaterial = (keyType: string, bytes: Buffer): Buffer => {
  const expectation = expectationFor(keyType)
  const labels = pemLabels(bytes)
  if (expectation.kind === 'symmetric' || labels.length === 0) return bytes
  if (labels.length > 1) throw usageError(`The ${keyType} material holds ${labels.length} PEM blocks; exactly one private key is expected.`, PKCS8_HINT, 'INVALID_KEY_MATERIAL')
  if (labels[0] !== 'PRIVATE KEY') throw usageError(`The ${keyType} material is a "${labels[0]}" PEM block; an unencrypted PKCS#8 "PRIVATE KEY" is expected.`, PKCS8_HINT, 'INVALID_KEY_MATERIAL')
  try {
    return createPrivateKey({key: bytes, format: 'pem'}).export({type: 'pkcs8', format: 'der'})
  } catch {
    throw usageError(`The ${keyType} material is not a readable PKCS#8 PEM private key.`, PKCS8_HINT, 'INVALID_KEY_MATERIAL')
  }
}

export interface MaterialCheck {
  kind: 'symmetric' | 'asymmetric'
  description: string
}

/** Check normalised material against its key type; any mismatch is a usage error naming expected vs actual. */
export const validateMaterial = (keyType: string, material: Buffer): MaterialCheck => {
  const expectation = expectationFor(keyType)
  const expected = describeExpected(expectation)
  if (expectation.kind === 'symmetric') {
    if (material.length !== expectation.bytes) {
      throw usageError(
        `Key type ${keyType} needs ${expected}; the material is ${material.length} bytes.`,
        looksLikeText(material) ? 'The material looks like text (hex, base64 or PEM?); provide the raw key bytes.' : undefined,
        'INVALID_KEY_MATERIAL',
      )
    }
    return {kind: 'symmetric', description: `${keyType} key, ${expectation.bytes * 8} bits`}
  }
  if (pemLabels(material).length > 0) {
    throw usageError(`Key type ${keyType} needs ${expected} as PKCS#8 DER; the material is still PEM text.`, undefined, 'INVALID_KEY_MATERIAL')
  }
  const notPkcs8 = () => usageError(`Key type ${keyType} needs ${expected} as unencrypted PKCS#8; the material is not a PKCS#8 private key.`, PKCS8_HINT, 'INVALID_KEY_MATERIAL')
  if (material[0] !== 0x30 || derLength(material) !== material.length) throw notPkcs8()
  let key: KeyObject
  try {
    key = createPrivateKey({key: material, format: 'der', type: 'pkcs8'})
  } catch {
    throw notPkcs8()
  }
  if (!matches(expectation, key)) {
    throw usageError(`Key type ${keyType} needs ${expected}; the material is ${describeKey(key)}.`, undefined, 'INVALID_KEY_MATERIAL')
  }
  return {kind: 'asymmetric', description: `${keyType} key: ${describeKey(key).replace(/^an? /, '')} (PKCS#8)`}
}
