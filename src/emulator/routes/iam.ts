/**
 * IAM access elevations (§13): the requester side (`/v1/projects/iam/my-access-elevations`) and the approver side
 * (`/v1/projects/iam/access-elevations`). The server refuses self-approval and non-approvers; expiry follows the
 * emulator clock (state.refreshState). `holdsApprovedElevation` is the check behind the export dual control.
 */
import {badRequest, created, forbidden, notFound, ok, type Reply} from '../http.js'
import {orgRoute, type Route, type ScopedContext} from '../router.js'
import {newId, type ElevationStatus, type EmulatorState, type StoredElevation} from '../state.js'
import {optString, optStringMap, reqString} from '../validate.js'
import {elevationView} from '../views.js'

const MAX_ELEVATION_MS = 7 * 24 * 3600 * 1000

/** Go-style duration ("1h", "30m", "1h30m", "90s") in milliseconds. */
function parseDuration(text: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text)
  if (m === null || text === '') return undefined
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000
}

/** True when `subject` holds an approved, unexpired elevation to `policyIdentity` valid for the project. */
export function holdsApprovedElevation(
  state: EmulatorState, orgIdentity: string, subject: string, policyIdentity: string, projectIdentity: string | undefined, now: number,
): boolean {
  return state.elevations.some((e) =>
    e.orgIdentity === orgIdentity && e.requesterSubject === subject && e.policyIdentity === policyIdentity &&
    e.status === 'approved' && e.requestedExpiresAt > now &&
    (e.projectIdentity === undefined || e.projectIdentity === projectIdentity))
}

/** Organisation scope sees every request of the org; a project scope only that project's. */
const visible = (ctx: ScopedContext) => (e: StoredElevation) =>
  e.orgIdentity === ctx.org.identity && (ctx.project === undefined || e.projectIdentity === ctx.project.identity)

const view = (ctx: ScopedContext, e: StoredElevation) => elevationView(ctx.state, e)

function findVisible(ctx: ScopedContext, ownOnly: boolean): StoredElevation {
  const e = ctx.state.elevations.find((x) => x.identity === ctx.params.identity && visible(ctx)(x))
  if (e === undefined || (ownOnly && e.requesterSubject !== ctx.principal.subject)) throw notFound('access elevation request not found')
  return e
}

function requireApprover(ctx: ScopedContext): void {
  if (!ctx.membership.approver) throw forbidden('only approvers may review access elevation requests')
}

function requestedExpiry(ctx: ScopedContext): number {
  const body = ctx.body()
  const duration = optString(body, 'duration', 32)
  const expiresAt = optString(body, 'expiresAt', 64)
  if ((duration === undefined) === (expiresAt === undefined)) throw badRequest('give exactly one of duration or expiresAt')
  const at = duration !== undefined ? ctx.now + (parseDuration(duration) ?? NaN) : Date.parse(expiresAt ?? '')
  if (Number.isNaN(at)) throw badRequest(duration !== undefined ? 'duration must look like 1h, 30m or 1h30m' : 'expiresAt must be an RFC 3339 timestamp')
  if (at <= ctx.now || at - ctx.now > MAX_ELEVATION_MS) throw badRequest('the elevation must end in the future and last at most 168h')
  return at
}

function createRequest(ctx: ScopedContext): Reply {
  const body = ctx.body()
  const policyRef = reqString(body, 'policyIdentity', 255)
  const policy = ctx.state.iamPolicies.find((p) => p.orgIdentity === ctx.org.identity && (p.identity === policyRef || p.slug === policyRef))
  if (policy === undefined) throw notFound('iam policy not found')
  const reason = reqString(body, 'reason', 1024)
  const requestedExpiresAt = requestedExpiry(ctx)
  const e: StoredElevation = {
    identity: newId('iamae'), orgIdentity: ctx.org.identity, projectIdentity: ctx.project?.identity, policyIdentity: policy.identity,
    requesterSubject: ctx.principal.subject, status: 'pending', reason, requestedExpiresAt,
    labels: optStringMap(body, 'labels') ?? {}, annotations: optStringMap(body, 'annotations') ?? {},
    createdAt: ctx.now, updatedAt: ctx.now, objectVersion: 1,
  }
  ctx.state.elevations.push(e)
  return created(view(ctx, e))
}

/** Moves `e` to `status`; with `review`, records the caller as reviewer (note may be undefined). */
function setStatus(ctx: ScopedContext, e: StoredElevation, status: ElevationStatus, review?: {note?: string}): Reply {
  e.status = status
  if (review !== undefined) {
    e.reviewerSubject = ctx.principal.subject
    e.reviewNote = review.note
    e.reviewedAt = ctx.now
  }
  e.updatedAt = ctx.now
  e.objectVersion += 1
  return ok(view(ctx, e))
}

/** An approver action allowed only from `from`; approving one's own request is refused. */
function review(action: string, from: ElevationStatus, to: ElevationStatus) {
  return (ctx: ScopedContext): Reply => {
    requireApprover(ctx)
    const note = optString(ctx.body(), 'reviewNote', 1024)
    const e = findVisible(ctx, false)
    if (action === 'approve' && e.requesterSubject === ctx.principal.subject) throw forbidden('you cannot approve your own request')
    if (e.status !== from) throw badRequest(`only ${from} requests can be ${to}; this one is ${e.status}`)
    return setStatus(ctx, e, to, {note})
  }
}

function cancel(ctx: ScopedContext): Reply {
  const e = findVisible(ctx, true)
  if (e.status !== 'pending') throw badRequest(`only pending requests can be cancelled; this one is ${e.status}`)
  return setStatus(ctx, e, 'cancelled')
}

const MINE = '/v1/projects/iam/my-access-elevations'
const ALL = '/v1/projects/iam/access-elevations'

export const iamRoutes: Route[] = [
  orgRoute('GET', MINE, (ctx) => ok(ctx.state.elevations.filter((e) => visible(ctx)(e) && e.requesterSubject === ctx.principal.subject).map((e) => view(ctx, e)))),
  orgRoute('POST', MINE, createRequest),
  orgRoute('GET', `${MINE}/:identity`, (ctx) => ok(view(ctx, findVisible(ctx, true)))),
  orgRoute('POST', `${MINE}/:identity/cancel`, cancel),
  orgRoute('GET', ALL, (ctx) => {
    requireApprover(ctx)
    return ok(ctx.state.elevations.filter(visible(ctx)).map((e) => view(ctx, e)))
  }),
  orgRoute('GET', `${ALL}/:identity`, (ctx) => {
    requireApprover(ctx)
    return ok(view(ctx, findVisible(ctx, false)))
  }),
  orgRoute('POST', `${ALL}/:identity/approve`, review('approve', 'pending', 'approved')),
  orgRoute('POST', `${ALL}/:identity/reject`, review('reject', 'pending', 'rejected')),
  orgRoute('POST', `${ALL}/:identity/revoke`, review('revoke', 'approved', 'revoked')),
]
