/**
 * import (BYOK): local checks first — key type (HMAC keys cannot be imported), the material file (private,
 * regular, non-empty, ≤ 64 KiB) validated against the type, or the pre-wrapped blob — then the region guard,
 * then for raw material GET …/wrapping-key and a wrap under it with the scheme the region announces (an unknown
 * or missing algorithm is a refusal, never a guess), raw bytes wiped at once → y/N or --yes → one
 * POST /v1/kms/{region}/keys with the wrapped material. Raw material never reaches a request, argv, the output
 * or the journal; only its SHA-256 fingerprint is reported.
 */
import {createPrivateKey} from 'node:crypto'
import {isKmsGuardError, usageError} from '../cli/errors.js'
import type {CreateKeyBody} from '../api/kms.js'
import {readPublicFile, readSecretFile} from '../crypto/files.js'
import {fingerprint, zeroize} from '../crypto/fingerprint.js'
import {resolveWrappingScheme, wrapForImport} from '../crypto/byok.js'
import {findKeyType, KEY_TYPE_NAMES, normaliseMaterial, validateMaterial} from '../crypto/material.js'
import {regionGuard} from '../guards/region.js'
import type {GuardResult} from '../guards/types.js'
import {confirmAfter, keySummary, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import type {OperationContext} from './context.js'

export interface ImportInput {
  region: string
  name: string
  type: string
  /** File with the raw key material (32 raw bytes, or a PKCS#8 private key, DER or PEM). */
  material?: string
  /** File with material already wrapped for the region (binary, or base64 text). */
  wrappedMaterial?: string
  /** Sent with --wrapped-material (default sha256); kmsguard's own wrapping always uses sha256. */
  hashFunction?: string
  allowRotation?: boolean
  labels?: Record<string, string>
  description?: string
  forcePerms?: boolean
  yes?: boolean
  dryRun: boolean
}

export interface ImportResult {
  key?: KeySummary & {imported?: boolean; allowRotation?: boolean}
  region: string
  name: string
  keyType: string
  source: 'material' | 'wrapped-material'
  /** The region's announced algorithm and the scheme used, or `pre-wrapped`. */
  wrapping: {algorithm?: string; scheme: string}
  hashFunction: string
  allowRotation: boolean
  /** `sha256:<hex>` of the raw (normalised) material: only known with --material. */
  fingerprint?: string
  materialDescription?: string
  wrappedBytes: number
  planned: PlannedCall[]
}

const MAX_FILE_BYTES = 64 * 1024
/** The smallest RSA block (2048 bits): anything shorter cannot be material wrapped under an RSA key. */
const MIN_WRAPPED_BYTES = 256

interface Wrapped {
  importKeyMaterial: string
  hashFunction: string
  wrapping: {algorithm?: string; scheme: string}
  bytes: number
  fingerprint?: string
  materialDescription?: string
}

function checkInput(input: ImportInput): {keyType: string; name: string; description?: string} {
  const info = findKeyType(input.type)
  if (!info) throw usageError(`unknown key type "${input.type}"`, `Key types: ${KEY_TYPE_NAMES.join(', ')}.`, 'UNKNOWN_KEY_TYPE')
  if (!info.importable) throw usageError(`${info.name} keys cannot be imported: the KMS API does not accept HMAC key material`, 'Create the HMAC key in KMS instead (kmsguard create --type …).', 'KEY_TYPE_NOT_IMPORTABLE')
  const name = input.name.trim()
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > 255 || /[\u0000-\u001F\u007F]/.test(name)) throw usageError('--name must be 1–255 characters of plain text')
  const description = input.description?.trim() || undefined
  // eslint-disable-next-line no-control-regex
  if (description !== undefined && (description.length > 1024 || /[\u0000-\u001F\u007F]/.test(description))) throw usageError('--description must be one line of at most 1024 characters')
  if (Boolean(input.material) === Boolean(input.wrappedMaterial)) {
    throw usageError('import needs exactly one of --material FILE (raw material; kmsguard wraps it for the region) or --wrapped-material FILE (already wrapped)', undefined, 'MATERIAL_REQUIRED')
  }
  if (input.material && input.hashFunction !== undefined && input.hashFunction.toLowerCase() !== 'sha256') {
    throw usageError('--hash-function only applies to --wrapped-material: kmsguard wraps --material with SHA-256')
  }
  return {keyType: info.name, name, description}
}

/** Reads, normalises (PKCS#8 PEM → DER) and validates raw material; the caller must wipe the returned buffer. */
async function readMaterial(path: string, keyType: string, forcePerms: boolean | undefined): Promise<{material: Buffer; description: string}> {
  const raw = await readSecretFile(path, {maxBytes: MAX_FILE_BYTES, label: '--material file', forcePerms})
  let material: Buffer | undefined
  try {
    material = normaliseMaterial(keyType, raw)
    return {material, description: validateMaterial(keyType, material).description}
  } catch (error) {
    if (material && material !== raw) zeroize(material)
    throw error
  } finally {
    if (material !== raw) zeroize(raw)
  }
}

const isText = (b: Buffer) => b.every((c) => c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c < 0x7f))

/** A wrapped blob, binary or base64 text (detected), refused when it looks like unwrapped material. */
async function readWrapped(path: string): Promise<Buffer> {
  const file = await readPublicFile(path, {maxBytes: MAX_FILE_BYTES, label: '--wrapped-material file'})
  const refuse = (why: string) => usageError(`--wrapped-material file ${path} ${why}; refusing to send it`, 'Give raw material with --material FILE so kmsguard wraps it, or wrap it for the region first (kmsguard wrapping-key shows the key and algorithm).', 'NOT_WRAPPED_MATERIAL')
  let blob = file
  if (isText(file)) {
    const text = file.toString('latin1').replace(/\s+/g, '')
    if (text.includes('-----BEGIN')) throw refuse('is a PEM document, not wrapped key material')
    if (/^[0-9a-fA-F]+$/.test(text)) throw refuse('looks like hex text; give the wrapped bytes as binary or base64')
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw refuse('is text but not base64; give the wrapped bytes as binary or base64')
    blob = Buffer.from(text, 'base64')
  }
  if (blob.length < MIN_WRAPPED_BYTES) throw refuse(`holds only ${blob.length} bytes: too short to be material wrapped under an RSA wrapping key (at least ${MIN_WRAPPED_BYTES})`)
  let plainKey = false
  try {
    createPrivateKey({key: blob, format: 'der', type: 'pkcs8'})
    plainKey = true
  } catch {
    // not a private key: as expected for wrapped material
  }
  if (plainKey) throw refuse('is an unwrapped PKCS#8 private key')
  return blob
}

/** GET the region's wrapping key, check its algorithm (policy guard), wrap; the raw material is wiped here. */
async function wrapMaterial(ctx: OperationContext, region: string, material: Buffer, guards: GuardResult[]): Promise<Pick<Wrapped, 'importKeyMaterial' | 'hashFunction' | 'wrapping' | 'bytes'>> {
  try {
    const wk = await withGuards(guards, () => ctx.api.kms.wrappingKey(region))
    try {
      const scheme = resolveWrappingScheme(wk.algorithm)
      guards.push({guard: 'policy', outcome: 'pass', message: `${region} wrapping algorithm ${wk.algorithm} → ${scheme}`})
    } catch (error) {
      if (isKmsGuardError(error)) error.guards = [...guards, {guard: 'policy', outcome: 'fail', message: error.message}]
      throw error
    }
    const w = await withGuards(guards, async () => wrapForImport(material, wk.publicKey, wk.algorithm))
    return {importKeyMaterial: w.importKeyMaterial, hashFunction: w.hashFunction, wrapping: {algorithm: wk.algorithm, scheme: w.scheme}, bytes: Buffer.byteLength(w.importKeyMaterial, 'base64')}
  } finally {
    zeroize(material)
  }
}

export async function importKey(ctx: OperationContext, input: ImportInput): Promise<OperationOutcome<ImportResult>> {
  const {keyType, name, description} = checkInput(input)
  const allowRotation = Boolean(input.allowRotation)
  ctx.journal.key = {name}
  ctx.journal.region = input.region
  const guards: GuardResult[] = []
  let wrapped: Wrapped
  if (input.material) {
    const {material, description: materialDescription} = await readMaterial(input.material, keyType, input.forcePerms)
    const fp = fingerprint(material)
    try {
      guards.push((await withGuards(guards, () => regionGuard(ctx.api, input.region, guards))).guard)
    } catch (error) {
      zeroize(material)
      throw error
    }
    wrapped = {...(await wrapMaterial(ctx, input.region, material, guards)), fingerprint: fp, materialDescription}
  } else {
    const hashFunction = (input.hashFunction ?? 'sha256').toLowerCase()
    if (!/^[a-z0-9-]{1,32}$/.test(hashFunction)) throw usageError(`--hash-function "${input.hashFunction}" is not a hash function name (e.g. sha256)`)
    const blob = await readWrapped(input.wrappedMaterial as string)
    guards.push((await withGuards(guards, () => regionGuard(ctx.api, input.region, guards))).guard)
    wrapped = {importKeyMaterial: blob.toString('base64'), hashFunction, wrapping: {scheme: 'pre-wrapped'}, bytes: blob.length}
  }

  const body: CreateKeyBody = {name, keyType, ...(description ? {description} : {}), ...(input.labels && Object.keys(input.labels).length > 0 ? {labels: input.labels} : {}), importKeyMaterial: wrapped.importKeyMaterial, hashFunction: wrapped.hashFunction, allowRotation}
  const planned: PlannedCall[] = [{method: 'POST', path: `/v1/kms/${input.region}/keys`, body: {...body, importKeyMaterial: `(${wrapped.bytes} bytes of wrapped material, base64)`}}]
  ctx.journal.details = {keyType, wrapping: wrapped.wrapping.scheme, allowRotation, ...(wrapped.fingerprint ? {fingerprint: wrapped.fingerprint} : {})}
  const result: ImportResult = {
    region: input.region, name, keyType, source: input.material ? 'material' : 'wrapped-material', wrapping: wrapped.wrapping, hashFunction: wrapped.hashFunction,
    allowRotation, fingerprint: wrapped.fingerprint, materialDescription: wrapped.materialDescription, wrappedBytes: wrapped.bytes, planned,
  }
  if (input.dryRun) return {result, guards, warnings: [], dryRun: true}

  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.yesNo({
    question: `Import ${keyType} key "${name}" into ${input.region}${allowRotation ? ' (rotation allowed)' : ' (it can never be rotated: no --allow-rotation)'}?`,
    yes: input.yes,
  }))
  const key = await withGuards(guards, () => ctx.api.kms.createKey(input.region, body))
  ctx.journal.key = {identity: key.identity, slug: key.slug, name: key.name}
  ctx.journal.summary = `imported ${keyType} key ${key.slug}`
  return {result: {...result, key: {...keySummary(key), imported: key.imported, allowRotation: key.allowRotation}}, guards, warnings: [], dryRun: false}
}
