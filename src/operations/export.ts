/**
 * export (break-glass, the requester's second step): local checks first — the --out path (new, not a symlink,
 * parent exists, never stdout or a terminal) and the --recipient public key — then region → key-state (active)
 * + exportAllowed → key version → approval guard (exit 5 on any doubt, nothing exported) → typed confirmation →
 * the approval is recorded as used → one POST …/export → the material is wrapped to the recipient at once (or
 * kept raw with --plaintext), written to a new 0600 file and wiped from memory. Only its SHA-256 fingerprint is
 * returned; the material itself is never printed, logged or journaled.
 */
import {lstat, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {ExitCode, KmsGuardError, isKmsGuardError, usageError} from '../cli/errors.js'
import {readPublicFile, reserveSecretFile, type NewFile} from '../crypto/files.js'
import {fingerprint, zeroize} from '../crypto/fingerprint.js'
import {parseRecipientKey, RECIPIENT_DIRECT_MAX_BYTES, wrapForRecipient} from '../crypto/recipient.js'
import {exportApprovalGuard} from '../guards/approval.js'
import type {KmsKey} from '../api/schemas.js'
import type {GuardResult} from '../guards/types.js'
import {consumeApproval, journalGuards} from '../journal/index.js'
import {currentScope, scopeFlags, shellCommand, validateElevationId} from './binding.js'
import {confirmAfter, keyPath, keySummary, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import type {OperationContext} from './context.js'
import {findCaller, preflightExport, type Caller} from './export-target.js'
import {journalPath} from './journal-hook.js'

export interface ExportInput {
  region: string
  key: string
  approval: string
  out: string
  /** Path of the recipient's RSA public key (PEM); exactly one of recipient / plaintext. */
  recipient?: string
  plaintext?: boolean
  keyVersion?: number
  confirm?: string
  dryRun: boolean
}

export type ExportFormat = 'rsa-oaep-sha256' | 'rsa-aes-kwp' | 'raw'

export interface ExportResult {
  key: KeySummary
  region: string
  keyVersion: number
  approval: string
  /** Absolute path of the written file (of the file that would be written, on a dry run). */
  out: string
  mode: '0600'
  /** Known once the material is in hand: it depends on the material's size when wrapping to a recipient. */
  format?: ExportFormat
  /** `sha256:<hex>` of the exported material itself (not of the file when it is wrapped). */
  fingerprint?: string
  bytesWritten?: number
  planned: PlannedCall[]
}

const RECIPIENT_MAX_BYTES = 64 * 1024

/** The --out checks that can be made before anything is sent; reserveSecretFile repeats them when it creates the file. */
async function checkOutPath(out: string): Promise<string> {
  if (out.trim() === '' || out === '-') throw usageError('--out must name a new file: key material is never written to stdout', 'Give --out a path for a new file, e.g. --out ./key.wrapped', 'UNSAFE_OUTPUT')
  const path = resolve(out)
  if (/^\/(dev|proc)\//.test(path)) throw usageError(`refusing to write key material to ${out}: it is a device or stream, not a new regular file`, undefined, 'UNSAFE_OUTPUT')
  const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)))
  if (existing) {
    throw usageError(`refusing to overwrite ${out}: it already exists${existing.isSymbolicLink() ? ' (a symbolic link)' : ''}`, 'Choose a path that does not exist yet; kmsguard never overwrites or follows links.', 'OUTPUT_EXISTS')
  }
  const parent = await stat(dirname(path)).catch(() => undefined)
  if (!parent?.isDirectory()) throw usageError(`cannot create ${out}: directory ${dirname(path)} does not exist`, undefined, 'FILE_REFUSED')
  return path
}

async function readRecipient(path: string): Promise<Buffer> {
  const pem = await readPublicFile(path, {maxBytes: RECIPIENT_MAX_BYTES, label: '--recipient file'})
  parseRecipientKey(pem)
  return pem
}

const formatFor = (material: Buffer, wrapped: boolean): ExportFormat =>
  !wrapped ? 'raw' : material.length <= RECIPIENT_DIRECT_MAX_BYTES ? 'rsa-oaep-sha256' : 'rsa-aes-kwp'

export async function exportKeyMaterial(ctx: OperationContext, input: ExportInput): Promise<OperationOutcome<ExportResult>> {
  if (Boolean(input.recipient) === Boolean(input.plaintext)) {
    throw usageError(
      input.plaintext ? '--recipient and --plaintext exclude each other' : 'export needs --recipient PEM_FILE (or, deliberately, --plaintext)',
      'By default exported material is wrapped to a recipient\'s RSA public key (--recipient PEM_FILE) so it never rests in plaintext; --plaintext writes the raw bytes instead.',
      'RECIPIENT_REQUIRED',
    )
  }
  const approval = validateElevationId(input.approval, '--approval')
  ctx.journal.approval = approval
  const out = await checkOutPath(input.out)
  const recipientPem = input.recipient ? await readRecipient(input.recipient) : undefined

  const guards: GuardResult[] = []
  const {key, keyVersion} = await preflightExport(ctx, {region: input.region, key: input.key, keyVersion: input.keyVersion, operation: 'export'}, guards)
  const caller = await withGuards(guards, () => findCaller(ctx))
  const path = journalPath(ctx.config)
  const verdict = await withGuards(guards, () => exportApprovalGuard(ctx.api, {
    approvalId: approval,
    caller,
    expected: {key: key.identity, region: input.region, ...currentScope(ctx.api), keyVersion, requester: caller?.subject, policy: ctx.config.settings.exportPolicy},
    journalPath: path,
    now: ctx.now(),
    approveCommand: shellCommand(['kmsguard', 'approve', approval, ...scopeFlags(ctx.api)]),
  }, guards))
  guards.push(verdict.guard)
  ctx.journal.details = {keyVersion, mode: recipientPem ? 'recipient' : 'plaintext'}
  const planned: PlannedCall[] = [{method: 'POST', path: keyPath(input.region, key, '/export'), body: {keyVersion: String(keyVersion)}}]
  const result: ExportResult = {key: keySummary(key), region: input.region, keyVersion, approval, out, mode: '0600', planned}
  if (input.dryRun) return {result, guards, warnings: [], dryRun: true}

  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.typed({
    action: `export ${recipientPem ? 'wrapped' : 'PLAINTEXT'} key material of ${key.slug} version ${keyVersion} to ${out}`,
    accepted: [key.slug, key.identity],
    flagValue: input.confirm,
  }))
  // The output file is created (empty, 0600, O_EXCL) before anything is consumed or exported, so the material
  // never arrives without a place to go; it is removed again if anything below fails.
  const file = await withGuards(guards, () => reserveSecretFile(out))
  try {
    return await exportInto(ctx, {file, guards, result, key, keyVersion, approval, caller, journal: path, recipientPem})
  } catch (error) {
    await file.abandon()
    throw error
  }
}

interface ExportStep {
  file: NewFile
  guards: GuardResult[]
  result: ExportResult
  key: KmsKey
  keyVersion: number
  approval: string
  caller: Caller | undefined
  journal: string
  recipientPem: Buffer | undefined
}

async function exportInto(ctx: OperationContext, {file, guards, result, key, keyVersion, approval, caller, journal: path, recipientPem}: ExportStep): Promise<OperationOutcome<ExportResult>> {
  const input = {region: result.region}
  const out = file.path
  // The approval is recorded as used BEFORE the export request: if kmsguard crashes or is killed after the
  // server has released the material, the approval can still never be used a second time.
  await withGuards(guards, () => consumeApproval(path, approval, {
    operator: {subject: caller?.subject, email: caller?.email},
    endpoint: ctx.config.endpoint.value,
    org: ctx.api.transport.organisation,
    project: ctx.api.transport.project,
    region: input.region,
    command: 'export',
    dryRun: false,
    key: {identity: key.identity, slug: key.slug, name: key.name},
    guards: journalGuards(guards),
    confirmation: ctx.journal.confirmation,
    result: {status: 'ok', exitCode: 0, summary: `approval reserved for the export of ${key.slug} v${keyVersion}, before POST …/export`},
  }))
  // The response's base64 string cannot be wiped (JS strings are immutable); the decoded buffer is.
  const response = await withGuards(guards, () => ctx.api.kms.exportKey(input.region, key.identity, keyVersion))
  const written = await writeMaterial(file, Buffer.from(response.keyMaterial, 'base64'), recipientPem, response.keyVersion, keyVersion)
  ctx.journal.details = {keyVersion, format: written.format, fingerprint: written.fingerprint}
  ctx.journal.summary = `exported ${key.slug} v${keyVersion} (${written.format}) to ${out}`
  return {result: {...result, ...written}, guards, warnings: [], dryRun: false}
}

/** Wraps (or not), writes the new 0600 file and wipes every buffer that held material, whatever happens. */
async function writeMaterial(file: NewFile, material: Buffer, recipientPem: Buffer | undefined, returnedVersion: string | undefined, keyVersion: number) {
  let payload: Buffer | undefined
  try {
    if (material.length === 0) throw new KmsGuardError('EXPORT_EMPTY', ExitCode.API, 'POST …/export returned no key material; nothing was written')
    if (returnedVersion !== undefined && returnedVersion !== String(keyVersion)) {
      throw new KmsGuardError('EXPORT_VERSION_MISMATCH', ExitCode.API, `POST …/export returned version ${returnedVersion}, not the approved version ${keyVersion}; nothing was written and the material was discarded`)
    }
    const format = formatFor(material, recipientPem !== undefined)
    const fp = fingerprint(material)
    payload = recipientPem ? wrapForRecipient(material, recipientPem) : material
    await file.write(payload)
    return {format, fingerprint: fp, bytesWritten: payload.length}
  } catch (error) {
    if (isKmsGuardError(error) && error.exitCode !== ExitCode.USAGE) throw error
    const why = isKmsGuardError(error) ? error.message : String(error)
    throw new KmsGuardError('EXPORT_WRITE_FAILED', ExitCode.USAGE, `the key material was exported but could not be written: ${why}. It was discarded; the approval is used up`, {
      hint: 'Free the --out path (or pick a new one), then request a new approval with `kmsguard export:request`.',
      cause: error,
    })
  } finally {
    if (payload && payload !== material) zeroize(payload)
    zeroize(material)
  }
}
