/**
 * approve / approve --reject (the approver's half of two-person export): read the request with the approver
 * API → approval guard (intact kmsguard export binding, not the caller's own request, pending, unexpired) →
 * resolve the bound key for display when the approver can read it → confirmation (approve: typed key slug, or
 * --yes / --confirm non-interactively; reject: y/N or --yes) → one POST …/approve or …/reject with the note.
 */
import type {AccessElevation} from '../api/schemas.js'
import {ApiError, notConfirmed, usageError} from '../cli/errors.js'
import {reviewApprovalGuard} from '../guards/approval.js'
import type {GuardResult} from '../guards/types.js'
import type {ConfirmationMethod} from '../ui/confirm.js'
import {validateElevationId, type ExportBinding} from './binding.js'
import {withGuards, type OperationOutcome, type PlannedCall} from './common.js'
import type {OperationContext} from './context.js'
import {findCaller} from './export-target.js'

export interface ApproveInput {
  elevation: string
  action: 'approve' | 'reject'
  note?: string
  yes?: boolean
  /** Typed confirmation given as a flag: the bound key's slug or identity. */
  confirm?: string
  dryRun: boolean
}

export interface ApprovedKey {
  identity: string
  slug?: string
  name?: string
  keyType?: string
  status?: string
}

export interface ApproveResult {
  elevation: string
  action: 'approve' | 'reject'
  /** Status after the review (before it, on a dry run). */
  status: string
  binding?: ExportBinding
  key?: ApprovedKey
  requester?: {subject?: string; name?: string; email?: string}
  reason?: string
  expiresAt?: string
  reviewNote?: string
  planned: PlannedCall[]
}

function validateNote(note: string | undefined): string | undefined {
  const n = note?.trim()
  if (!n) return undefined
  if (n.length > 1000) throw usageError('--note is limited to 1000 characters')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F]/.test(n)) throw usageError('--note must be one line of plain text')
  return n
}

/** The bound key as the approver can see it; identity only (and a warning) when it cannot be read. */
async function describeKey(ctx: OperationContext, b: ExportBinding, warnings: string[]): Promise<ApprovedKey> {
  try {
    const keys = await ctx.api.kms.listKeys(b.region, {identity: b.key}, b.scope === 'project' ? b.project : null)
    const k = keys.find((x) => x.identity === b.key)
    if (k) return {identity: k.identity, slug: k.slug, name: k.name, keyType: k.keyType, status: k.status}
    warnings.push(`key ${b.key} is not visible to you in ${b.region}; check the identity with the requester`)
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
    warnings.push(`key ${b.key} could not be read (${error.message}); only its identity is shown`)
  }
  return {identity: b.key}
}

/** The request in plain words, for the prompt: the approver must see what they decide before they decide. */
function describeRequest(e: AccessElevation, key: ApprovedKey | undefined, b: ExportBinding | undefined): string {
  const requester = [e.requester?.name, e.requester?.email ? `<${e.requester.email}>` : undefined].filter(Boolean).join(' ') || e.requester?.subject || 'an unknown requester'
  const target = b ? `key ${key?.slug ?? b.key} (${b.key}${key?.keyType ? `, ${key.keyType}` : ''}) version ${b.keyVersion} from ${b.region}, ${b.scope} ${b.project}` : 'an unbound request'
  return `the export of ${target}, requested by ${requester} for "${e.reason ?? ''}", valid until ${e.requestedExpiresAt ?? '?'}`
}

async function confirmReview(ctx: OperationContext, input: ApproveInput, e: AccessElevation, key: ApprovedKey | undefined, b: ExportBinding | undefined): Promise<ConfirmationMethod> {
  if (input.action === 'reject') return ctx.confirm.yesNo({question: `Reject ${input.elevation}: ${describeRequest(e, key, b)}?`, yes: input.yes})
  const accepted = [key?.slug, key?.identity].filter((x): x is string => Boolean(x))
  const action = `approve ${describeRequest(e, key, b)}`
  if (input.confirm !== undefined) return ctx.confirm.typed({action, accepted, flagValue: input.confirm})
  if (input.yes) return 'yes-flag'
  if (!ctx.confirm.interactive) throw notConfirmed(`approving ${input.elevation} needs a confirmation; in non-interactive mode pass --yes (or --confirm ${accepted[0]})`, 'Read the request first: kmsguard approve ID --dry-run.')
  return ctx.confirm.typed({action, accepted})
}

export async function reviewExport(ctx: OperationContext, input: ApproveInput): Promise<OperationOutcome<ApproveResult>> {
  const id = validateElevationId(input.elevation, 'ELEVATION')
  const note = validateNote(input.note)
  ctx.journal.approval = id
  const warnings: string[] = []
  const guards: GuardResult[] = []
  const caller = input.action === 'approve' ? await findCaller(ctx) : undefined
  const verdict = await reviewApprovalGuard(ctx.api, {approvalId: id, action: input.action, caller, now: ctx.now()}, guards)
  guards.push(...verdict.guards)
  const {elevation: e, binding: b} = verdict
  if (b) ctx.journal.region = b.region
  const key = b ? await withGuards(guards, () => describeKey(ctx, b, warnings)) : undefined
  if (key) ctx.journal.key = {identity: key.identity, slug: key.slug, name: key.name}
  const planned: PlannedCall[] = [{method: 'POST', path: `/v1/projects/iam/access-elevations/${id}/${input.action}`, body: {reviewNote: note ?? ''}}]
  const result: ApproveResult = {
    elevation: id, action: input.action, status: e.status, binding: b, key, requester: e.requester, reason: e.reason, expiresAt: e.requestedExpiresAt, reviewNote: note, planned,
  }
  if (input.dryRun) return {result, guards, warnings, dryRun: true}

  ctx.journal.confirmation = await withGuards(guards, () => confirmReview(ctx, {...input, elevation: id}, e, key, b))
  const reviewed = await withGuards(guards, () => ctx.api.elevations.review(id, input.action, note))
  ctx.journal.summary = `${input.action === 'approve' ? 'approved' : 'rejected'} export request ${id}${b ? ` (${key?.slug ?? b.key} v${b.keyVersion})` : ''}`
  return {result: {...result, status: reviewed.status}, guards, warnings, dryRun: false}
}
