/**
 * The approval guard of two-person export. An approval is an IAM access elevation created by
 * `kmsguard export:request` and bound (labels/annotations, see operations/binding.ts) to one export.
 *
 * - `exportApprovalGuard` (requester, before `export`): the elevation must exist, carry an intact binding, be
 *   the caller's own request, be `approved`, not be past its expiry, have been reviewed by someone other than
 *   the requester, be bound to exactly this key/region/scope/version/policy, and not be recorded as used in the
 *   operator journal. Any "no" is exit 5 (EXPORT_REFUSED) before anything is exported.
 * - `reviewApprovalGuard` (approver, before `approve`): the request must be a pending, unexpired, intact
 *   kmsguard export binding that the caller did not request (self-approval is refused here even though the
 *   server refuses it too). Rejecting needs only a pending request: rejecting is always the safe direction.
 *
 * Guards never prompt; they return a `pass` verdict or throw a KmsGuardError carrying every verdict so far.
 */
import type {Api} from '../api/index.js'
import type {AccessElevation} from '../api/schemas.js'
import {ApiError, ExitCode, KmsGuardError} from '../cli/errors.js'
import {isApprovalConsumed} from '../journal/index.js'
import {bindingDifferences, readBinding, type ExportBinding} from '../operations/binding.js'
import type {Caller} from '../operations/export-target.js'
import type {GuardResult} from './types.js'

export interface ApprovalVerdict {
  guard: GuardResult
  elevation: AccessElevation
  binding: ExportBinding
}

const REQUEST_AGAIN = 'Request a new approval with `kmsguard export:request`.'

function refuse(code: string, message: string, prior: GuardResult[], opts: {hint?: string; details?: Record<string, unknown>} = {}): never {
  const guard: GuardResult = {guard: 'approval', outcome: 'fail', message, details: opts.details}
  throw new KmsGuardError(code, ExitCode.EXPORT_REFUSED, message, {guards: [...prior, guard], hint: opts.hint, details: opts.details})
}

const who = (u: {subject?: string; name?: string; email?: string} | undefined): string =>
  u === undefined ? 'unknown' : [u.name, u.email ? `<${u.email}>` : undefined].filter(Boolean).join(' ') || u.subject || 'unknown'

async function fetchElevation(load: () => Promise<AccessElevation>, id: string, prior: GuardResult[], hint: string): Promise<AccessElevation> {
  try {
    return await load()
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) refuse('APPROVAL_MISSING', `approval ${id} was not found`, prior, {hint})
    throw error
  }
}

/** The identity and slug of the IAM policy the elevation grants, as far as the API says. */
const grantedPolicies = (e: AccessElevation): string[] => [e.iamPolicy?.identity, e.iamPolicy?.slug].filter((p): p is string => Boolean(p))

/** The binding, intact and consistent with the elevation it sits on (requester, granted policy). */
function intactBinding(e: AccessElevation, prior: GuardResult[]): ExportBinding {
  const read = readBinding(e)
  if (!read.ok) refuse(read.kind === 'absent' ? 'APPROVAL_NOT_BOUND' : 'APPROVAL_BINDING_MISMATCH', `approval ${e.identity}: ${read.message}`, prior, {hint: REQUEST_AGAIN})
  const b = read.binding
  if (e.requester?.subject !== b.requester) {
    refuse('APPROVAL_BINDING_MISMATCH', `approval ${e.identity} was requested by ${e.requester?.subject ?? 'an unknown subject'} but its binding names ${b.requester}`, prior, {hint: REQUEST_AGAIN})
  }
  const granted = grantedPolicies(e)
  if (granted.length > 0 && !granted.includes(b.policy)) {
    refuse('APPROVAL_BINDING_MISMATCH', `approval ${e.identity} grants IAM policy ${granted.join(' / ')} but its binding names ${b.policy}`, prior, {hint: REQUEST_AGAIN})
  }
  return b
}

function expiry(e: AccessElevation, now: Date, prior: GuardResult[]): string {
  const at = e.requestedExpiresAt === undefined ? Number.NaN : Date.parse(e.requestedExpiresAt)
  if (Number.isNaN(at)) refuse('APPROVAL_EXPIRED', `approval ${e.identity} carries no valid expiry time, so kmsguard cannot tell whether it is still valid`, prior, {hint: REQUEST_AGAIN})
  if (at <= now.getTime()) refuse('APPROVAL_EXPIRED', `approval ${e.identity} expired at ${e.requestedExpiresAt}`, prior, {hint: REQUEST_AGAIN, details: {expiresAt: e.requestedExpiresAt}})
  return e.requestedExpiresAt as string
}

const STATUS_REFUSALS: Record<string, {code: string; words: string}> = {
  pending: {code: 'APPROVAL_PENDING', words: 'is still pending: nobody has approved it yet'},
  rejected: {code: 'APPROVAL_REJECTED', words: 'was rejected'},
  expired: {code: 'APPROVAL_EXPIRED', words: 'has expired'},
  revoked: {code: 'APPROVAL_REVOKED', words: 'was revoked'},
  cancelled: {code: 'APPROVAL_CANCELLED', words: 'was cancelled'},
}

export interface ExportApprovalInput {
  approvalId: string
  /** The caller; undefined when the API did not say who holds the token. */
  caller: Caller | undefined
  /** What this export is: every given field must equal the bound value. */
  expected: Partial<ExportBinding>
  journalPath: string
  now: Date
  /** The printed approve command, for the hint of a pending approval. */
  approveCommand: string
}

/** Before `export`: see the header. Sends only GETs and reads the journal. */
export async function exportApprovalGuard(api: Api, input: ExportApprovalInput, prior: GuardResult[] = []): Promise<ApprovalVerdict> {
  const id = input.approvalId
  const e = await fetchElevation(() => api.elevations.getMine(id), id, prior, 'Check the id (kmsguard export:request printed it) and --org/--project: an approval is only visible in the scope it was requested in, and only to its requester.')
  const binding = intactBinding(e, prior)
  if (input.caller === undefined) refuse('APPROVAL_CALLER_UNKNOWN', 'the API did not say who holds this token, so kmsguard cannot check that you are the requester of the approval', prior, {hint: 'Export with a personal access token of the person who ran export:request.'})
  if (e.requester?.subject !== input.caller.subject) {
    refuse('APPROVAL_NOT_REQUESTER', `approval ${id} was requested by ${who(e.requester)}, not by you (${input.caller.subject}): only the requester may use it`, prior, {hint: REQUEST_AGAIN})
  }
  if (e.status !== 'approved') {
    const s = STATUS_REFUSALS[e.status] ?? {code: 'APPROVAL_NOT_APPROVED', words: `is ${e.status}, not approved`}
    const note = e.reviewNote ? ` (note: ${e.reviewNote})` : ''
    refuse(s.code, `approval ${id} ${s.words}${note}`, prior, {hint: e.status === 'pending' ? `The approver runs: ${input.approveCommand}` : REQUEST_AGAIN, details: {status: e.status}})
  }
  const expiresAt = expiry(e, input.now, prior)
  if (!e.reviewedBy?.subject) refuse('APPROVAL_REVIEWER_UNKNOWN', `approval ${id} names no reviewer, so kmsguard cannot check that a second person approved it`, prior, {hint: REQUEST_AGAIN})
  if (e.reviewedBy.subject === e.requester?.subject) {
    refuse('APPROVAL_SELF_APPROVED', `approval ${id} was approved by its own requester (${who(e.requester)}); an export needs a second person`, prior, {hint: `${REQUEST_AGAIN} Someone else must approve it.`})
  }
  // An expected policy named by the other spelling (identity vs slug) of the granted policy is the same policy.
  const expected = grantedPolicies(e).includes(input.expected.policy ?? '') ? {...input.expected, policy: undefined} : input.expected
  const diffs = bindingDifferences(binding, expected)
  if (diffs.length > 0) {
    refuse('APPROVAL_BINDING_MISMATCH', `approval ${id} is bound to another export: ${diffs.map((d) => `${d.field} ${d.bound} (this export: ${d.actual})`).join(', ')}`, prior, {
      hint: `Run the export the approval was given for (export:request printed the command). ${REQUEST_AGAIN}`, details: {differences: diffs},
    })
  }
  if (await isApprovalConsumed(input.journalPath, id)) {
    refuse('APPROVAL_USED', `approval ${id} was already used for an export (operator journal ${input.journalPath})`, prior, {hint: `Each approval allows one export. ${REQUEST_AGAIN}`})
  }
  const message = `approval ${id}: approved by ${who(e.reviewedBy)} for ${binding.key} version ${binding.keyVersion} in ${binding.region}, valid until ${expiresAt}, not used yet`
  return {guard: {guard: 'approval', outcome: 'pass', message, details: {approval: id, reviewer: e.reviewedBy.subject, expiresAt}}, elevation: e, binding}
}

export interface ReviewInput {
  approvalId: string
  action: 'approve' | 'reject'
  caller: Caller | undefined
  now: Date
}

export interface ReviewVerdict {
  guards: GuardResult[]
  elevation: AccessElevation
  /** Undefined only when rejecting a request whose binding is absent or broken. */
  binding?: ExportBinding
}

/** Before `approve` / `approve --reject`: see the header. Sends only a GET. */
export async function reviewApprovalGuard(api: Api, input: ReviewInput, prior: GuardResult[] = []): Promise<ReviewVerdict> {
  const id = input.approvalId
  const e = await fetchElevation(() => api.elevations.getForReview(id), id, prior, 'Check the id and --org/--project (use the exact command the requester was given); only approvers can see requests.')
  if (input.action === 'reject') {
    if (e.status !== 'pending') refuse('APPROVAL_NOT_PENDING', `approval ${id} is ${e.status}; only a pending request can be rejected`, prior, {details: {status: e.status}})
    const read = readBinding(e)
    const guard: GuardResult = read.ok
      ? {guard: 'approval', outcome: 'pass', message: `approval ${id}: pending request by ${who(e.requester)}`}
      : {guard: 'approval', outcome: 'warn', message: `approval ${id}: ${read.message}`}
    return {guards: [guard], elevation: e, binding: read.ok ? read.binding : undefined}
  }
  const binding = intactBinding(e, prior)
  if (input.caller === undefined) refuse('APPROVAL_CALLER_UNKNOWN', 'the API did not say who holds this token, so kmsguard cannot rule out self-approval', prior, {hint: 'Approve with your own personal access token.'})
  if (input.caller.subject === binding.requester) {
    refuse('APPROVAL_SELF_APPROVED', `approval ${id} was requested by you (${input.caller.subject}); an export needs a second person to approve it`, prior, {hint: 'Ask another approver to run this command.'})
  }
  if (e.status !== 'pending') refuse('APPROVAL_NOT_PENDING', `approval ${id} is ${e.status}; only a pending request can be approved`, prior, {hint: REQUEST_AGAIN, details: {status: e.status}})
  const expiresAt = expiry(e, input.now, prior)
  return {guards: [{guard: 'approval', outcome: 'pass', message: `approval ${id}: pending export request by ${who(e.requester)}, intact binding, expires ${expiresAt}`}], elevation: e, binding}
}
