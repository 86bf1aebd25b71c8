/**
 * disable: the incident fast path. Region → key-state (active; already disabled is a refusal that says so) →
 * impact (the reference scan, bounded to 10 s; what it finds — or that it failed — is shown as a warning and
 * never blocks: disabling is reversible with `enable`, and in an incident speed matters) → typed confirmation
 * (slug or identity, or --confirm) → one POST …/disable. The reason is required and journaled.
 * A fleet disable (--label) skips the scan per key and recommends `kmsguard references` for each key instead.
 */
import type {KmsKey} from '../api/schemas.js'
import {guardRefused, isKmsGuardError, type KmsGuardError} from '../cli/errors.js'
import {keyStateGuard} from '../guards/key.js'
import {describeScanned, scanReferences, type Reference, type ScanReport} from '../guards/references.js'
import type {GuardResult} from '../guards/types.js'
import type {OperationContext} from './context.js'
import {confirmAfter, keyPath, keySummary, preflightKey, requireReason, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import {applyVerified, notDoneError, runFleet, type FleetInput, type FleetResult, type KeyAction} from './fleet.js'

const SCAN_TIMEOUT_MS = 10_000
const WHY_REASON = 'disabling suspends all crypto on the key and breaks whatever depends on it; the reason goes to the journal'

function alreadyDisabled(slug: string, region: string, prior: GuardResult[]): KmsGuardError {
  const guard: GuardResult = {guard: 'key-state', outcome: 'fail', message: `${slug} is already disabled: crypto on it is already suspended, nothing to do`, details: {status: 'disabled', required: ['active']}}
  return guardRefused('ALREADY_DISABLED', guard.message, {guards: [...prior, guard], hint: `kmsguard enable ${slug} -r ${region} undoes a disable.`})
}

export const DISABLE: KeyAction = {
  verb: 'disable',
  check: (key, region) => {
    if (key.status === 'disabled') throw alreadyDisabled(key.slug, region, [])
    return [keyStateGuard(key, region, 'disable', ['active'])]
  },
  planned: (region, key) => ({method: 'POST', path: keyPath(region, key, '/disable')}),
  send: (ctx, region, key) => ctx.api.kms.disable(region, key.identity),
  happened: (_before, after) => after.status === 'disabled',
  describe: (before, after) => `${before.status} → ${after.status}`,
}

export interface DisableInput {
  region: string
  key: string
  reason?: string
  /** --confirm: the key's slug or identity (non-interactive typed confirmation). */
  confirm?: string
  dryRun: boolean
}

export interface DisableResult {
  key: KeySummary
  region: string
  reason: string
  planned: PlannedCall[]
}

export async function disableKey(ctx: OperationContext, input: DisableInput): Promise<OperationOutcome<DisableResult>> {
  const reason = requireReason(input.reason, 'disable', WHY_REASON)
  ctx.journal.details = {...ctx.journal.details, reason}
  const guards: GuardResult[] = []
  const key = await preflightActive(ctx, input, guards)
  const impact = await impactVerdict(ctx, input.region, key)
  guards.push(impact)
  const planned = [DISABLE.planned(input.region, key)]
  if (input.dryRun) return {result: {key: keySummary(key), region: input.region, reason, planned}, guards, warnings: [], dryRun: true}

  // The prompt comes before any output, so it carries the impact itself.
  const action = `disable ${key.slug} (all crypto on it stops until enabled again)${impact.outcome === 'warn' ? `; ${impact.message}` : ''}`
  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.typed({action, accepted: [key.slug, key.identity], flagValue: input.confirm}))
  const applied = await applyVerified(ctx, input.region, key, DISABLE)
  if (applied.outcome !== 'done') throw notDoneError(DISABLE, key, applied, guards)
  ctx.journal.summary = `disabled ${applied.key.slug}`
  const warnings = applied.recoveredFrom ? [`the API answered ${applied.recoveredFrom.code}, but a re-read shows ${applied.key.slug} is disabled`] : []
  return {result: {key: keySummary(applied.key), region: input.region, reason, planned}, guards, warnings, dryRun: false}
}

/** preflightKey for `active`, except that an already disabled key is refused with a message that says so. */
async function preflightActive(ctx: OperationContext, input: DisableInput, guards: GuardResult[]): Promise<KmsKey> {
  try {
    return await preflightKey(ctx, {region: input.region, key: input.key, operation: 'disable', allowed: ['active']}, guards)
  } catch (error) {
    const failed = isKmsGuardError(error) && error.code === 'KEY_STATE' ? error.guards.at(-1) : undefined
    if (!isKmsGuardError(error) || failed?.details?.status !== 'disabled') throw error
    throw alreadyDisabled(ctx.journal.key?.slug ?? input.key, input.region, error.guards.slice(0, -1))
  }
}

const describeReference = (r: Reference) => (r.type === 'secret' ? `secret ${r.path}` : `DNSSEC zone ${r.zone}`) + (r.project === null ? '' : ` (project ${r.project})`)

/**
 * The impact of disabling: what the reference scan finds. Never blocks — references, an incomplete scan and a
 * failed scan are all `warn`; only an interrupt (Ctrl-C) stops the operation here.
 */
async function impactVerdict(ctx: OperationContext, region: string, key: KmsKey): Promise<GuardResult> {
  let report: ScanReport
  try {
    report = await scanReferences(ctx, {region, key, timeoutMs: SCAN_TIMEOUT_MS})
  } catch (error) {
    if (ctx.signal.aborted) throw error
    const message = (error as Error).message
    return {guard: 'references', outcome: 'warn', message: `the reference scan failed (${message}): what depends on ${key.slug} is unknown; disabling anyway (enable undoes it)`, details: {error: message}}
  }
  const details = {references: report.references, scanned: report.scanned, unread: report.unread, complete: report.complete}
  const incomplete = report.complete ? '' : `; the scan was incomplete (${report.unread.length} item(s) could not be read)`
  if (report.references.length > 0) {
    const shown = report.references.slice(0, 5).map(describeReference).join(', ') + (report.references.length > 5 ? `, … ${report.references.length - 5} more` : '')
    return {guard: 'references', outcome: 'warn', message: `${report.references.length} reference(s) to ${key.slug} will stop working while it is disabled: ${shown}${incomplete}`, details}
  }
  if (!report.complete) return {guard: 'references', outcome: 'warn', message: `no references to ${key.slug} found${incomplete}`, details}
  return {guard: 'references', outcome: 'pass', message: `no secret or DNSSEC zone uses ${key.slug} (scanned ${describeScanned(report.scanned)})`, details}
}

/** Disables every key matching all labels. The per-key reference scan is skipped to keep an incident fast. */
export async function disableFleet(ctx: OperationContext, input: FleetInput & {reason?: string}): Promise<OperationOutcome<FleetResult>> {
  const reason = requireReason(input.reason, 'disable', WHY_REASON)
  ctx.journal.details = {...ctx.journal.details, reason}
  const skipped: GuardResult = {guard: 'references', outcome: 'skip', message: 'reference scan skipped for a fleet disable (kept fast): check each key with kmsguard references'}
  return runFleet(ctx, input, DISABLE, {guards: [skipped], warnFor: (key, region) => `${key.slug}: what depends on it was not checked; run kmsguard references ${key.slug} -r ${region}`})
}
