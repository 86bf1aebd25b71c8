/**
 * export:request (the requester's half of two-person export): region → key-state (active) + exportAllowed →
 * key version → who is asking → y/N or --yes → one POST /v1/projects/iam/my-access-elevations for the export
 * IAM policy, with labels/annotations binding the elevation to exactly this export (operations/binding.ts).
 * The result names the elevation and the exact commands the approver and then the requester run.
 */
import {guardRefused, usageError} from '../cli/errors.js'
import {SETTINGS} from '../config/settings.js'
import type {GuardResult} from '../guards/types.js'
import {bindingMetadata, currentScope, readBinding, scopeFlags, shellCommand, type ExportBinding} from './binding.js'
import {confirmAfter, keySummary, requireReason, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import type {OperationContext} from './context.js'
import {findCaller, preflightExport} from './export-target.js'

export interface ExportRequestInput {
  region: string
  key: string
  /** IAM policy identity or slug; default: the `exportPolicy` setting. */
  policy?: string
  reason?: string
  /** How long the elevation lasts once approved, e.g. 30m, 1h, 2h30m (default 1h, at most 24h). */
  duration?: string
  keyVersion?: number
  yes?: boolean
  dryRun: boolean
}

export interface ExportRequestResult {
  /** The created request; absent on a dry run. */
  elevation?: {identity: string; status: string; expiresAt?: string}
  key: KeySummary
  region: string
  keyVersion: number
  policy: string
  duration: string
  reason: string
  binding: ExportBinding
  labels: Record<string, string>
  annotations: Record<string, string>
  /** What the approver runs, then what the requester runs once it is approved (absent on a dry run). */
  approveCommand?: string
  exportCommand?: string
  planned: PlannedCall[]
}

export const DEFAULT_DURATION = '1h'
const MIN_MINUTES = 5
const MAX_MINUTES = 24 * 60

/** Strict `NhMm` / `Nh` / `Nm` (5 minutes … 24 hours), returned in canonical form ("90m" → "1h30m"). */
export function parseElevationDuration(text: string): string {
  const m = /^(?:([1-9]\d?)h)?(?:([1-9]\d{0,3})m)?$/.exec(text)
  const minutes = m === null || text === '' ? Number.NaN : Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)
  if (Number.isNaN(minutes) || minutes < MIN_MINUTES || minutes > MAX_MINUTES) {
    throw usageError(`--duration "${text}" is not a duration between ${MIN_MINUTES}m and 24h`, 'Use hours and/or minutes, e.g. 30m, 1h, 2h or 1h30m.', 'INVALID_DURATION')
  }
  const h = Math.floor(minutes / 60)
  const rest = minutes % 60
  return `${h > 0 ? `${h}h` : ''}${rest > 0 ? `${rest}m` : ''}`
}

function exportPolicy(ctx: OperationContext, flag: string | undefined): string {
  const policy = flag?.trim() || ctx.config.settings.exportPolicy
  if (!policy) {
    throw usageError('export:request needs the IAM policy that grants KMS export', 'Pass --policy POLICY, or set the default once with `kmsguard config set exportPolicy POLICY`.', 'EXPORT_POLICY_REQUIRED')
  }
  if (!SETTINGS.exportPolicy.pattern.test(policy)) throw usageError(`--policy "${policy}" is not an IAM policy identity or slug`)
  return policy
}

export async function requestExport(ctx: OperationContext, input: ExportRequestInput): Promise<OperationOutcome<ExportRequestResult>> {
  const reason = requireReason(input.reason, 'export:request', 'the approver sees it and the audit log keeps it')
  const duration = parseElevationDuration(input.duration ?? DEFAULT_DURATION)
  const policy = exportPolicy(ctx, input.policy)
  const guards: GuardResult[] = []
  const {key, keyVersion} = await preflightExport(ctx, {region: input.region, key: input.key, keyVersion: input.keyVersion, operation: 'export:request'}, guards)
  const caller = await withGuards(guards, () => findCaller(ctx))
  if (caller === undefined) {
    const guard: GuardResult = {guard: 'approval', outcome: 'fail', message: 'the API did not say who holds this token; an export approval must name its requester'}
    throw guardRefused('CALLER_UNKNOWN', guard.message, {guards: [...guards, guard], hint: 'Request the export with your own personal access token (kmsguard whoami shows the caller).'})
  }
  const binding: ExportBinding = {key: key.identity, region: input.region, ...currentScope(ctx.api), keyVersion, requester: caller.subject, policy}
  const {labels, annotations} = bindingMetadata(binding)
  const body = {policyIdentity: policy, reason, duration, labels, annotations}
  const planned: PlannedCall[] = [{method: 'POST', path: '/v1/projects/iam/my-access-elevations', body}]
  ctx.journal.details = {keyVersion, policy, duration}
  const result: ExportRequestResult = {key: keySummary(key), region: input.region, keyVersion, policy, duration, reason, binding, labels, annotations, planned}
  if (input.dryRun) return {result, guards, warnings: [], dryRun: true}

  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.yesNo({
    question: `Ask a second person to approve exporting ${key.slug} (${key.identity}) version ${keyVersion} from ${input.region}, through IAM policy ${policy} for ${duration}?`,
    yes: input.yes,
  }))
  const elevation = await withGuards(guards, () => ctx.api.elevations.create(body))
  ctx.journal.approval = elevation.identity
  ctx.journal.summary = `requested export approval ${elevation.identity} for ${key.slug} v${keyVersion}`
  const warnings = readBinding(elevation).ok ? [] : [`the API did not keep the binding labels/annotations on ${elevation.identity}; kmsguard export will refuse this approval`]
  const scope = scopeFlags(ctx.api)
  return {
    result: {
      ...result,
      elevation: {identity: elevation.identity, status: elevation.status, expiresAt: elevation.requestedExpiresAt},
      approveCommand: shellCommand(['kmsguard', 'approve', elevation.identity, ...scope]),
      exportCommand: `${shellCommand(['kmsguard', 'export', key.slug, '-r', input.region, '--approval', elevation.identity, '--key-version', keyVersion, ...scope])} --recipient RECIPIENT_PUBLIC_KEY.pem --out NEW_FILE`,
    },
    guards,
    warnings,
    dryRun: false,
  }
}
