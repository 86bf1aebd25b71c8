/**
 * rotate: rotate a key now (region → key-state: active → policy: may it rotate → y/N → one POST …/rotate), change
 * its automatic rotation (same guards → one PATCH …/rotation), or rotate every key with some labels (fleet).
 * Rotation is not idempotent — each call is a new, billable key version — so a rotate whose answer is lost is
 * never repeated: the key is read again and its latestVersion tells whether the rotation happened.
 */
import type {KmsKey} from '../api/schemas.js'
import {keyStateGuard} from '../guards/key.js'
import {enforcePolicy, parseRotationDays, rotationAllowedVerdict, rotationOffVerdict} from '../guards/policy.js'
import type {GuardResult} from '../guards/types.js'
import type {OperationContext} from './context.js'
import {confirmAfter, keyPath, keySummary, preflightKey, requireReason, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import {applyVerified, notDoneError, runFleet, type FleetInput, type FleetResult, type KeyAction} from './fleet.js'

const versionCount = (k: KmsKey) => k.versions?.length ?? k.latestVersion

const billingNote = (k: KmsKey) => `each rotation adds a key version, and every key version is billed: ${k.slug} has ${versionCount(k) ?? '?'} version(s)`

export const ROTATE: KeyAction = {
  verb: 'rotate',
  check: (key, region) => [keyStateGuard(key, region, 'rotate', ['active']), rotationAllowedVerdict(key)],
  planned: (region, key) => ({method: 'POST', path: keyPath(region, key, '/rotate')}),
  send: (ctx, region, key) => ctx.api.kms.rotate(region, key.identity),
  happened: (before, after) => (before.latestVersion === undefined || after.latestVersion === undefined ? undefined : after.latestVersion > before.latestVersion),
  describe: (before, after) => `version ${before.latestVersion ?? '?'} → ${after.latestVersion ?? '?'}`,
}

/** An optional --reason: when given it must be one line of bounded text. */
const optionalReason = (reason: string | undefined, flag: string) => (reason?.trim() ? requireReason(reason, flag, '') : undefined)

/** Region → key → key-state (active) → policy verdicts; a failing policy verdict refuses. */
async function preflightRotation(ctx: OperationContext, input: {region: string; key: string}, operation: string, policy: (key: KmsKey) => GuardResult): Promise<{key: KmsKey; guards: GuardResult[]}> {
  const guards: GuardResult[] = []
  const key = await preflightKey(ctx, {region: input.region, key: input.key, operation, allowed: ['active']}, guards)
  const verdict = policy(key)
  enforcePolicy([verdict], guards)
  guards.push(verdict)
  return {key, guards}
}

// --- rotate now ---------------------------------------------------------------------------------------

export interface RotateInput {
  region: string
  key: string
  dryRun: boolean
  yes?: boolean
  reason?: string
}

export interface RotateResult {
  key: KeySummary
  previousVersion?: number
  latestVersion?: number
  versionCount?: number
  billingNote: string
  planned: PlannedCall[]
}

export async function rotateKey(ctx: OperationContext, input: RotateInput): Promise<OperationOutcome<RotateResult>> {
  const reason = optionalReason(input.reason, '--reason')
  if (reason) ctx.journal.details = {...ctx.journal.details, reason}
  const {key, guards} = await preflightRotation(ctx, input, 'rotate', rotationAllowedVerdict)
  const planned = [ROTATE.planned(input.region, key)]
  const before = {previousVersion: key.latestVersion, planned}
  if (input.dryRun) return {result: {key: keySummary(key), ...before, latestVersion: key.latestVersion, versionCount: versionCount(key), billingNote: billingNote(key)}, guards, warnings: [], dryRun: true}

  const next = key.latestVersion === undefined ? 'a new version' : `version ${key.latestVersion + 1}`
  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.yesNo({question: `Rotate ${key.slug} (${key.identity}) in ${input.region} now? This creates ${next}; ${billingNote(key)} today.`, yes: input.yes}))
  const applied = await applyVerified(ctx, input.region, key, ROTATE)
  if (applied.outcome !== 'done') throw notDoneError(ROTATE, key, applied, guards)
  const rotated = applied.key
  const warnings = applied.recoveredFrom ? [`the API answered ${applied.recoveredFrom.code}, but a re-read shows version ${rotated.latestVersion} exists: the rotation happened (it was not retried)`] : []
  ctx.journal.summary = `rotated ${rotated.slug}: ${ROTATE.describe(key, rotated)}`
  ctx.journal.details = {...ctx.journal.details, previousVersion: key.latestVersion ?? null, latestVersion: rotated.latestVersion ?? null}
  return {result: {key: keySummary(rotated), ...before, latestVersion: rotated.latestVersion, versionCount: versionCount(rotated), billingNote: billingNote(rotated)}, guards, warnings, dryRun: false}
}

// --- automatic rotation schedule ----------------------------------------------------------------------

export interface ScheduleInput {
  region: string
  key: string
  dryRun: boolean
  yes?: boolean
  reason?: string
  /** Days between automatic rotations (string as typed on the command line), or `false` to turn it off. */
  schedule: string | number | false
}

interface RotationSettings {
  keyRotationEnabled: boolean
  rotationPeriodInDays?: number
}

export interface ScheduleResult {
  key: KeySummary
  before: RotationSettings
  after: RotationSettings
  /** False when the key already had the requested settings: nothing was (or would be) sent. */
  changed: boolean
  note: string
  planned: PlannedCall[]
}

const settingsOf = (k: KmsKey): RotationSettings => ({keyRotationEnabled: k.keyRotationEnabled, rotationPeriodInDays: k.rotationPeriodInDays})

export async function updateRotationSchedule(ctx: OperationContext, input: ScheduleInput): Promise<OperationOutcome<ScheduleResult>> {
  const days = input.schedule === false ? undefined : parseRotationDays(input.schedule, '--schedule')
  const off = days === undefined
  const reason = optionalReason(input.reason, '--reason')
  if (reason) ctx.journal.details = {...ctx.journal.details, reason}
  const policy = (k: KmsKey) => (off ? rotationOffVerdict(k, reason, '--no-schedule') : rotationAllowedVerdict(k))
  const {key, guards} = await preflightRotation(ctx, input, off ? 'turning off automatic rotation' : 'scheduling rotation', policy)
  // a warning from the rotation-off rule means the policy default was overridden, with the reason given
  if (off && reason && guards.at(-1)?.outcome === 'warn') ctx.journal.overrides = [...(ctx.journal.overrides ?? []), {flag: '--no-schedule', reason}]

  const wanted: RotationSettings = off ? {keyRotationEnabled: false, rotationPeriodInDays: key.rotationPeriodInDays} : {keyRotationEnabled: true, rotationPeriodInDays: days}
  const body = off ? {keyRotationEnabled: false} : {keyRotationEnabled: true, rotationPeriodInDays: days}
  const changed = off ? key.keyRotationEnabled : !(key.keyRotationEnabled && key.rotationPeriodInDays === days)
  const note = off ? `without automatic rotation ${key.slug} stays at version ${key.latestVersion ?? '?'} until rotated by hand` : `about ${Math.max(1, Math.round(365 / days))} new key version(s) a year, each billable`
  const planned: PlannedCall[] = changed ? [{method: 'PATCH', path: keyPath(input.region, key, '/rotation'), body}] : []
  const result = (k: KmsKey, after: RotationSettings): ScheduleResult => ({key: keySummary(k), before: settingsOf(key), after, changed, note, planned})
  const target = off ? 'off' : `every ${days} days`
  if (!changed) {
    ctx.journal.summary = `${key.slug}: automatic rotation already ${target}; nothing sent`
    return {result: result(key, settingsOf(key)), guards, warnings: [], dryRun: input.dryRun}
  }
  if (input.dryRun) return {result: result(key, wanted), guards, warnings: [], dryRun: true}

  const question = off ? `Turn off automatic rotation of ${key.slug} (${key.identity}) in ${input.region}?` : `Rotate ${key.slug} (${key.identity}) in ${input.region} automatically every ${days} days (${note})?`
  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.yesNo({question, yes: input.yes}))
  const updated = await withGuards(guards, () => ctx.api.kms.updateRotation(input.region, key.identity, body))
  ctx.journal.summary = `automatic rotation of ${updated.slug}: ${target}`
  return {result: result(updated, settingsOf(updated)), guards, warnings: [], dryRun: false}
}

// --- fleet ----------------------------------------------------------------------------------------------

/** Rotates every key matching all labels; see fleet.ts for the run and its exit codes. */
export async function rotateFleet(ctx: OperationContext, input: FleetInput & {reason?: string}): Promise<OperationOutcome<FleetResult>> {
  const reason = optionalReason(input.reason, '--reason')
  if (reason) ctx.journal.details = {...ctx.journal.details, reason}
  return runFleet(ctx, input, ROTATE)
}
