/**
 * Pieces every guarded operation shares: the outcome shape, planned calls for --dry-run, the compact key
 * summary shown in results, and the standard preflight (region guard, then resolve the key and check its state).
 */
import type {KmsKey, SummaryRegion} from '../api/schemas.js'
import type {GuardResult} from '../guards/types.js'
import {regionGuard} from '../guards/region.js'
import {keyStateGuard, resolveKey, validateKeyArg, type RequiredState} from '../guards/key.js'
import {isKmsGuardError, usageError} from '../cli/errors.js'
import type {OperationContext} from './context.js'
import type {ConfirmationMethod, Confirmer} from '../ui/confirm.js'

export interface OperationOutcome<R> {
  result: R
  guards: GuardResult[]
  warnings: string[]
  dryRun: boolean
}

export interface PlannedCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  body?: Record<string, unknown>
}

export interface KeySummary {
  identity: string
  slug: string
  name: string
  keyType: string
  status: string
  latestVersion?: number
  projectId?: string
}

export const keySummary = (k: KmsKey): KeySummary => ({identity: k.identity, slug: k.slug, name: k.name, keyType: k.keyType, status: k.status, latestVersion: k.latestVersion, projectId: k.projectId})

export const keyPath = (region: string, key: KmsKey, suffix = '') => `/v1/kms/${region}/keys/${key.identity}${suffix}`

export interface Target {
  key: KmsKey
  /** The region as the summary knows it (slug and identity). */
  region: SummaryRegion
}

/**
 * Region guard, then key resolution (any state). Guards accumulate in `guards`; a refusal throws a
 * KmsGuardError that carries every verdict so far.
 */
export async function resolveTarget(ctx: OperationContext, input: {region: string; key: string}, guards: GuardResult[]): Promise<Target> {
  validateKeyArg(input.key) // bad input is refused before anything is sent
  ctx.journal.region = input.region
  const verdict = await withGuards(guards, () => regionGuard(ctx.api, input.region, guards))
  guards.push(verdict.guard)
  const key = await withGuards(guards, () => resolveKey(ctx.api, input.region, input.key))
  ctx.journal.key = {identity: key.identity, slug: key.slug, name: key.name}
  return {key, region: verdict.region}
}

/** resolveTarget, then the key-state guard for `operation`. */
export async function preflightKey(ctx: OperationContext, input: {region: string; key: string; operation: string; allowed: RequiredState[]}, guards: GuardResult[]): Promise<KmsKey> {
  const {key} = await resolveTarget(ctx, input, guards)
  guards.push(keyStateGuard(key, input.region, input.operation, input.allowed, guards))
  return key
}

/**
 * Asks for confirmation once every guard has passed: the verdicts are shown first (interactively), so the
 * operator decides with them in view; a refusal carries them like any other error.
 */
export function confirmAfter(ctx: OperationContext, guards: GuardResult[], ask: (confirm: Confirmer) => Promise<ConfirmationMethod>): Promise<ConfirmationMethod> {
  ctx.confirm.show(guards)
  return withGuards(guards, () => ask(ctx.confirm))
}

/** Runs `fn`; an error that escapes carries the guards gathered so far (unless it already has its own). */
export async function withGuards<T>(guards: GuardResult[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (isKmsGuardError(error) && error.guards.length === 0) error.guards = [...guards]
    throw error
  }
}

/** Checks a free-text --reason: present, not blank, bounded. */
export function requireReason(reason: string | undefined, flag: string, why: string): string {
  const r = reason?.trim()
  if (!r) throw usageError(`${flag} needs --reason TEXT: ${why}`)
  if (r.length > 500) throw usageError('--reason is limited to 500 characters')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F]/.test(r)) throw usageError('--reason must be one line of plain text')
  return r
}
