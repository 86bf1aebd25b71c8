/**
 * cancel-deletion: undo a scheduled deletion. Region → key-state (must be pending_deletion) → y/N or --yes →
 * one DELETE …/cancel-deletion (its body, if any, is ignored) → re-read the key to show the status it is in now.
 */
import type {KmsKey} from '../api/schemas.js'
import {ApiError} from '../cli/errors.js'
import type {GuardResult} from '../guards/types.js'
import {confirmAfter, keyPath, keySummary, preflightKey, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import type {OperationContext} from './context.js'

export interface CancelDeletionInput {
  region: string
  key: string
  dryRun: boolean
  yes?: boolean
}

export interface CancelDeletionResult {
  key: KeySummary
  planned: PlannedCall[]
  /** False when the key could not be re-read after the cancel; `key` then shows the state before it. */
  verified: boolean
}

export async function cancelDeletion(ctx: OperationContext, input: CancelDeletionInput): Promise<OperationOutcome<CancelDeletionResult>> {
  const guards: GuardResult[] = []
  const warnings: string[] = []
  const key = await preflightKey(ctx, {region: input.region, key: input.key, operation: 'cancel-deletion', allowed: ['pending_deletion']}, guards)
  const planned: PlannedCall[] = [{method: 'DELETE', path: keyPath(input.region, key, '/cancel-deletion')}]
  if (input.dryRun) return {result: {key: keySummary(key), planned, verified: true}, guards, warnings, dryRun: true}

  const when = key.deletionScheduledAt ? ` (scheduled for ${key.deletionScheduledAt})` : ''
  // The API returns a cancelled key to `active` — even one that was disabled before its deletion — so say so.
  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.yesNo({question: `Cancel the deletion of ${key.slug} (${key.identity}) in ${input.region}${when}? It becomes active: crypto on it works again`, yes: input.yes}))
  await withGuards(guards, () => ctx.api.kms.cancelDeletion(input.region, key.identity))

  let after: KmsKey | undefined
  try {
    after = await ctx.api.kms.getKey(input.region, key.identity)
  } catch (error) {
    if (ctx.signal.aborted) throw error
    warnings.push(`the deletion was cancelled, but re-reading the key failed (${(error as Error).message}); check with kmsguard get ${key.slug} -r ${input.region}`)
  }
  if (after?.status === 'active') warnings.push(`${key.slug} is active again: crypto on it works. If it should stay off, run kmsguard disable ${key.slug} -r ${input.region} --reason "…"`)
  if (after?.status === 'pending_deletion') {
    // Reporting success here would let a script believe the key was saved while it is still to be destroyed.
    throw new ApiError('CANCEL_NOT_APPLIED', `${planned[0].method} ${planned[0].path} answered success, but ${key.slug} still reads as pending_deletion: the deletion is NOT cancelled`, {endpoint: `DELETE ${keyPath(input.region, key, '/cancel-deletion')}`, hint: `Check with kmsguard get ${key.slug} -r ${input.region} and try again before ${key.deletionScheduledAt ?? 'the deletion date'}.`})
  }
  ctx.journal.summary = `cancelled the deletion of ${key.slug}${after ? `; now ${after.status}` : ''}`
  return {result: {key: keySummary(after ?? key), planned, verified: after !== undefined}, guards, warnings, dryRun: false}
}
