/**
 * The policy guard: kmsguard's house rules for how keys are created and rotated, as `policy` verdicts.
 *
 * - Export is break-glass, and `exportAllowed` can be chosen only at creation and never changed afterwards:
 *   `--allow-export` needs a `--reason` (and, in the operation, an extra confirmation).
 * - Symmetric keys rotate automatically by default (every `rotationPeriodDays` from kmsguard config, else 90
 *   days); turning that off is an override that needs a `--reason`. Asymmetric and HMAC keys may rotate
 *   automatically too (the API allows it) but are off by default; for asymmetric keys every rotation is a new
 *   public key, which whoever pins the public key (verifiers, DNSSEC DS records) must follow.
 * - Keys should say what they are for: no `purpose` label is a warning.
 * - An imported (BYOK) key rotates only when it was imported with `allowRotation`; that is fixed at import.
 *
 * Rules return verdicts and never throw; `enforcePolicy` turns failing verdicts into the error: exit 2 when
 * every failure is a missing or bad flag, exit 3 otherwise.
 */
import type {KmsKey} from '../api/schemas.js'
import {ExitCode, KmsGuardError, usageError} from '../cli/errors.js'
import {findKeyType, type KeyTypeInfo} from '../crypto/material.js'
import type {GuardResult} from './types.js'

export const DEFAULT_ROTATION_DAYS = 90
export const MIN_ROTATION_DAYS = 1
export const MAX_ROTATION_DAYS = 3650

/** Details every policy verdict carries: which rule, and for flag problems the flag to fix. */
export interface PolicyDetails extends Record<string, unknown> {
  rule: 'export' | 'rotation' | 'purpose-label' | 'rotation-allowed'
  /** Set when the failure is a flag problem (exit 2): the flag that is missing or wrong. */
  flag?: string
  hint?: string
}

const verdict = (outcome: GuardResult['outcome'], message: string, details: PolicyDetails): GuardResult => ({guard: 'policy', outcome, message, details})

/** A whole number of days, 1–3650, from a flag value (string as typed, or a number from a caller). */
export function parseRotationDays(value: string | number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const text = String(value).trim()
  const n = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(n) || n < MIN_ROTATION_DAYS || n > MAX_ROTATION_DAYS) {
    throw usageError(`${flag} must be a whole number of days from ${MIN_ROTATION_DAYS} to ${MAX_ROTATION_DAYS}, got "${text}"`, `e.g. ${flag} ${DEFAULT_ROTATION_DAYS}`, 'INVALID_ROTATION_PERIOD')
  }
  return n
}

export interface CreatePolicyInput {
  keyType: KeyTypeInfo
  labels: Record<string, string>
  allowExport: boolean
  /** Already checked for length and control characters; undefined when not given. */
  reason?: string
  rotationPeriodDays?: number
  noRotation: boolean
  /** kmsguard config `rotationPeriodDays`, if set. */
  defaultRotationDays?: number
}

export interface CreatePolicyVerdict {
  guards: GuardResult[]
  rotation: {keyRotationEnabled: boolean; rotationPeriodInDays?: number}
  exportAllowed: boolean
  /** Policy defaults the operator overrode, with the reason (for the journal). */
  overrides: Array<{flag: string; reason: string}>
}

/** Evaluates the create rules. Never throws; pass the guards to `enforcePolicy`. */
export function createPolicy(input: CreatePolicyInput): CreatePolicyVerdict {
  const overrides: CreatePolicyVerdict['overrides'] = []
  const exportRule = exportVerdict(input, overrides)
  const {guard: rotationRule, rotation} = rotationVerdict(input, overrides)
  return {guards: [exportRule, rotationRule, purposeVerdict(input.labels)], rotation, exportAllowed: input.allowExport, overrides}
}

function exportVerdict(input: CreatePolicyInput, overrides: CreatePolicyVerdict['overrides']): GuardResult {
  if (!input.allowExport) return verdict('pass', 'export not allowed (the safe default; exportAllowed cannot be turned on after creation)', {rule: 'export'})
  const why = 'export is break-glass, and exportAllowed can be chosen only at creation and never changed afterwards'
  if (!input.reason) return verdict('fail', `--allow-export needs --reason TEXT: ${why}`, {rule: 'export', flag: '--reason', hint: 'Re-run with --reason "why this key must be exportable" (it goes to the journal).'})
  overrides.push({flag: '--allow-export', reason: input.reason})
  return verdict('warn', `exportAllowed: true — ${why}; every export will still need a second person's approval (export:request)`, {rule: 'export', reason: input.reason})
}

function rotationVerdict(input: CreatePolicyInput, overrides: CreatePolicyVerdict['overrides']): {guard: GuardResult; rotation: CreatePolicyVerdict['rotation']} {
  const {keyType: t} = input
  const off = {keyRotationEnabled: false}
  if (t.symmetric) {
    const period = input.rotationPeriodDays ?? input.defaultRotationDays ?? DEFAULT_ROTATION_DAYS
    if (!input.noRotation) {
      const source = input.rotationPeriodDays !== undefined ? '--rotation-period' : input.defaultRotationDays !== undefined ? 'kmsguard config rotationPeriodDays' : 'kmsguard default'
      return {guard: verdict('pass', `automatic rotation every ${period} days (${source}); symmetric keys rotate automatically by policy`, {rule: 'rotation', periodDays: period}), rotation: {keyRotationEnabled: true, rotationPeriodInDays: period}}
    }
    const why = `symmetric keys rotate automatically by policy (default every ${period} days)`
    if (!input.reason) return {guard: verdict('fail', `--no-rotation on a symmetric key (${t.name}) needs --reason TEXT: ${why}`, {rule: 'rotation', flag: '--reason', hint: 'Re-run with --reason "why this key must not rotate", or drop --no-rotation.'}), rotation: off}
    overrides.push({flag: '--no-rotation', reason: input.reason})
    return {guard: verdict('warn', `automatic rotation off, overriding the policy: ${why}`, {rule: 'rotation', reason: input.reason}), rotation: off}
  }
  const kind = t.asymmetric ? 'asymmetric' : 'HMAC'
  if (input.rotationPeriodDays === undefined) {
    return {guard: verdict('pass', `automatic rotation off (default for ${kind} keys; on by default only for symmetric keys — the API allows it, see --rotation-period)`, {rule: 'rotation'}), rotation: off}
  }
  const rotation = {keyRotationEnabled: true, rotationPeriodInDays: input.rotationPeriodDays}
  if (t.asymmetric) {
    return {guard: verdict('warn', `automatic rotation every ${input.rotationPeriodDays} days on an asymmetric key: the API allows it, but each rotation makes a new public key that verifiers${t.dnssecCapable ? ' and DNSSEC DS records' : ''} pinning the old one must follow`, {rule: 'rotation', periodDays: input.rotationPeriodDays}), rotation}
  }
  return {guard: verdict('pass', `automatic rotation every ${input.rotationPeriodDays} days (on request; on by default only for symmetric keys)`, {rule: 'rotation', periodDays: input.rotationPeriodDays}), rotation}
}

function purposeVerdict(labels: Record<string, string>): GuardResult {
  const purpose = labels.purpose?.trim()
  if (purpose) return verdict('pass', `purpose=${purpose}`, {rule: 'purpose-label'})
  return verdict('warn', 'no purpose label: add --label purpose=… so whoever finds this key can tell what it protects (fleet commands select keys by label)', {rule: 'purpose-label'})
}

/**
 * Turning off automatic rotation on an existing key: the same rule as `--no-rotation` at create (symmetric keys
 * need a reason, as an override of the policy); other types are off by default and need none.
 */
export function rotationOffVerdict(key: KmsKey, reason: string | undefined, flag: string): GuardResult {
  if (!findKeyType(key.keyType)?.symmetric) return verdict('pass', `automatic rotation may be off for a ${key.keyType} key (on by default only for symmetric keys)`, {rule: 'rotation'})
  const why = 'symmetric keys rotate automatically by policy'
  if (!reason) return verdict('fail', `${flag} on ${key.slug} (${key.keyType}) needs --reason TEXT: ${why}`, {rule: 'rotation', flag: '--reason', hint: `Re-run with --reason "why ${key.slug} must stop rotating".`})
  return verdict('warn', `automatic rotation off, overriding the policy: ${why}`, {rule: 'rotation', reason})
}

/** An imported key rotates (now or on a schedule) only if it was imported with allowRotation. */
export function rotationAllowedVerdict(key: KmsKey): GuardResult {
  if (!key.imported) return verdict('pass', `${key.slug} may rotate`, {rule: 'rotation-allowed'})
  if (key.allowRotation === false) {
    return verdict('fail', `${key.slug} was imported (BYOK) without allowRotation, so it can never rotate: allowRotation is fixed at import time`, {rule: 'rotation-allowed', hint: 'To get new key material, import it as a new key (kmsguard import … --allow-rotation) and move consumers to that key.'})
  }
  if (key.allowRotation === true) return verdict('pass', `${key.slug} is imported with allowRotation`, {rule: 'rotation-allowed'})
  return verdict('warn', `${key.slug} is imported (BYOK) and the API does not say whether it allows rotation; if it was imported without allowRotation the API refuses`, {rule: 'rotation-allowed'})
}

/**
 * Throws when any verdict failed: a usage error (exit 2) when every failure is a flag problem, else a policy
 * refusal (exit 3). `prior` are the verdicts gathered before (region, key-state) so the envelope shows them.
 */
export function enforcePolicy(verdicts: GuardResult[], prior: GuardResult[] = []): void {
  const failed = verdicts.filter((v) => v.outcome === 'fail')
  if (failed.length === 0) return
  const details = (v: GuardResult) => v.details as PolicyDetails | undefined
  const flagOnly = failed.every((v) => details(v)?.flag !== undefined)
  const message = failed.map((v) => v.message).join('; ')
  const hint = failed.map((v) => details(v)?.hint).filter(Boolean).join(' ') || undefined
  const guards = [...prior, ...verdicts]
  if (flagOnly) throw new KmsGuardError('POLICY_FLAGS', ExitCode.USAGE, message, {hint, guards})
  const code = failed.some((v) => details(v)?.rule === 'rotation-allowed') ? 'ROTATION_NOT_ALLOWED' : 'POLICY_REFUSED'
  throw new KmsGuardError(code, ExitCode.GUARD_REFUSED, message, {hint, guards})
}
