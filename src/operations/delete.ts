/**
 * delete: schedule a key's deletion (30-day window). Region → key-state (disabled first, unless
 * --allow-active --reason) → references (the full scan; references always refuse, an incomplete scan refuses
 * unless --accept-incomplete-scan --reason) → typed confirmation → exactly one DELETE → when it is scheduled
 * and the exact command that undoes it. Overrides used are recorded in the result and the journal.
 */
import type {KmsKey} from '../api/schemas.js'
import {ApiError, guardRefused, usageError} from '../cli/errors.js'
import {referencesGuard, scanReferences, type ScanReport} from '../guards/references.js'
import type {GuardResult} from '../guards/types.js'
import {confirmAfter, keyPath, keySummary, requireReason, resolveTarget, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import type {OperationContext} from './context.js'
import {scanInputFor} from './references.js'

export interface DeleteInput {
  region: string
  key: string
  dryRun: boolean
  /** --confirm: the key's slug or identity (non-interactive typed confirmation). */
  confirm?: string
  allowActive?: boolean
  acceptIncompleteScan?: boolean
  /** --reason: required by, and shared between, the overrides. */
  reason?: string
}

export interface Override {
  flag: '--allow-active' | '--accept-incomplete-scan'
  reason: string
}

export interface DeleteResult {
  key: KeySummary
  scan: ScanReport
  overrides: Override[]
  planned: PlannedCall[]
  /** RFC 3339; absent on a dry run. */
  deletionScheduledAt?: string
  /** Where deletionScheduledAt came from: the DELETE response, a follow-up GET, or now + 30 days. */
  deletionScheduledAtSource?: 'response' | 'key' | 'estimated'
  cancelCommand: string
}

const RETENTION_DAYS = 30

export async function deleteKey(ctx: OperationContext, input: DeleteInput): Promise<OperationOutcome<DeleteResult>> {
  const reason = overrideReason(input)
  const guards: GuardResult[] = []
  const warnings: string[] = []
  const overrides: Override[] = []
  const use = (flag: Override['flag']) => {
    overrides.push({flag, reason: reason!})
    ctx.journal.overrides = [...overrides]
  }

  const target = await resolveTarget(ctx, input, guards)
  const key = target.key
  guards.push(deleteStateGuard(key, input.region, reason && input.allowActive ? reason : undefined, guards))
  if (key.status === 'active') use('--allow-active')
  else if (input.allowActive) warnings.push(`--allow-active was not needed: ${key.slug} is ${key.status}`)

  const scan = await withGuards(guards, () => scanReferences(ctx, scanInputFor(target, input.region)))
  const verdict = referencesGuard(scan, {acceptIncomplete: input.acceptIncompleteScan ? {reason: reason!} : undefined}, guards)
  guards.push(verdict)
  if (verdict.outcome === 'warn') {
    use('--accept-incomplete-scan')
    warnings.push(`the reference scan was incomplete (${scan.unread.length} source(s) unread); proceeding under --accept-incomplete-scan`)
  } else if (input.acceptIncompleteScan) {
    warnings.push('--accept-incomplete-scan was not needed: the reference scan was complete')
  }
  ctx.journal.details = {references: scan.references.length, unread: scan.unread.length, scanComplete: scan.complete}

  const cancelCommand = `kmsguard cancel-deletion ${key.slug} -r ${input.region}`
  const planned: PlannedCall[] = [{method: 'DELETE', path: keyPath(input.region, key)}]
  const base = {scan, overrides, planned, cancelCommand}
  if (input.dryRun) return {result: {key: keySummary(key), ...base}, guards, warnings, dryRun: true}

  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.typed({action: `schedule deletion of ${key.slug} (${key.identity}) in ${input.region}`, accepted: [key.slug, key.identity], flagValue: input.confirm}))
  const response = await withGuards(guards, () => ctx.api.kms.deleteKey(input.region, key.identity))
  const scheduled = await scheduledAt(ctx, input.region, key, response?.deletionScheduledAt, warnings)
  ctx.journal.summary = `scheduled deletion of ${key.slug} for ${scheduled.at}${scheduled.source === 'estimated' ? ' (estimated)' : ''}`
  ctx.journal.details = {...ctx.journal.details, deletionScheduledAt: scheduled.at}
  const after = scheduled.key ?? {...key, status: response?.status ?? 'pending_deletion'}
  return {result: {key: keySummary(after), ...base, deletionScheduledAt: scheduled.at, deletionScheduledAtSource: scheduled.source}, guards, warnings, dryRun: false}
}

/** --reason goes with the overrides: required when one is used, and only meaningful then. */
function overrideReason(input: DeleteInput): string | undefined {
  const flag = [input.allowActive && '--allow-active', input.acceptIncompleteScan && '--accept-incomplete-scan'].filter(Boolean).join(' and ')
  if (!flag) {
    if (input.reason !== undefined) throw usageError('--reason is only used with --allow-active or --accept-incomplete-scan', 'Drop --reason, or add the override it explains.')
    return undefined
  }
  return requireReason(input.reason, flag, 'an override of a delete guard is recorded with its reason')
}

/** Delete needs a disabled key ("disable before delete"); an active key only with --allow-active --reason. */
function deleteStateGuard(key: KmsKey, region: string, allowActiveReason: string | undefined, prior: GuardResult[]): GuardResult {
  const who = `${key.slug} (${key.identity})`
  if (key.status === 'disabled') return {guard: 'key-state', outcome: 'pass', message: `${who} is disabled`}
  if (key.status === 'active' && allowActiveReason) return {guard: 'key-state', outcome: 'warn', message: `${who} is active; deleting it without disabling first, allowed by --allow-active (reason: ${allowActiveReason})`, details: {status: key.status}}
  const details = {status: key.status, required: ['disabled']}
  const refuse = (message: string, hint?: string) => {
    const guard: GuardResult = {guard: 'key-state', outcome: 'fail', message, details}
    return guardRefused('KEY_STATE', message, {guards: [...prior, guard], hint, details})
  }
  if (key.status === 'pending_deletion') {
    const at = key.deletionScheduledAt ? ` (for ${key.deletionScheduledAt})` : ''
    throw refuse(`${who} is already scheduled for deletion${at}; nothing to do`, `To keep the key instead: kmsguard cancel-deletion ${key.slug} -r ${region}`)
  }
  if (key.status === 'active') {
    throw refuse(`disable before delete: ${who} is active`, `First: kmsguard disable ${key.slug} -r ${region} --reason "…", and check nothing breaks while it is disabled. To delete an active key anyway: --allow-active --reason TEXT.`)
  }
  throw refuse(`delete needs the key to be disabled, but ${who} is ${key.status}`)
}

/**
 * When the deletion happens: the DELETE response's deletionScheduledAt, else the key's (a follow-up GET),
 * else now + 30 days, marked estimated. The DELETE already succeeded, so a failed GET is only a warning.
 */
async function scheduledAt(ctx: OperationContext, region: string, key: KmsKey, fromResponse: string | undefined, warnings: string[]): Promise<{at: string; source: 'response' | 'key' | 'estimated'; key?: KmsKey}> {
  if (fromResponse) return {at: fromResponse, source: 'response'}
  let after: KmsKey | undefined
  try {
    after = await ctx.api.kms.getKey(region, key.identity)
  } catch (error) {
    if (ctx.signal.aborted) throw error
    warnings.push(`the deletion was scheduled, but re-reading the key failed (${(error as Error).message}); the date shown is estimated`)
  }
  // A 2xx that did not change the key is no deletion: say so (exit 6) rather than report one that never happened.
  if (after && after.status !== 'pending_deletion') {
    throw new ApiError('DELETE_NOT_APPLIED', `DELETE /v1/kms/${region}/keys/${key.identity} answered success, but ${key.slug} still reads as ${after.status}: no deletion is scheduled`, {endpoint: `DELETE /v1/kms/${region}/keys/${key.identity}`, hint: `Check with kmsguard get ${key.slug} -r ${region} before trying again.`})
  }
  if (after?.deletionScheduledAt) return {at: after.deletionScheduledAt, source: 'key', key: after}
  return {at: new Date(ctx.now().getTime() + RETENTION_DAYS * 86_400_000).toISOString(), source: 'estimated', key: after}
}
