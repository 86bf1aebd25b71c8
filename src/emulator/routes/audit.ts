/**
 * `GET /v1/audit` (§5.2): the organisation's audit log, newest first, paged (`page` 1-based, `limit` default 100,
 * max 1000) with filters action (comma list), resourceType (comma list), resourceIdentity, userIdentity,
 * serviceAccount and responseStatus. Organisation-wide: the project header is ignored.
 */
import {badRequest, ok} from '../http.js'
import {orgRoute, type Route, type ScopedContext} from '../router.js'
import type {AuditEvent} from '../state.js'
import {auditView} from '../views.js'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

function intParam(ctx: ScopedContext, name: string, fallback: number, max: number): number {
  const raw = ctx.query.get(name)
  if (raw === null || raw === '') return fallback
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw badRequest(`${name} must be an integer between 1 and ${max}`)
  return Number(raw)
}

function filters(q: URLSearchParams): ((e: AuditEvent) => boolean)[] {
  const list = (name: string) => q.get(name)?.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const actions = list('action')
  const types = list('resourceType')
  const resource = q.get('resourceIdentity')
  const user = q.get('userIdentity')
  const serviceAccount = q.get('serviceAccount')
  const status = q.get('responseStatus')
  return [
    (e) => actions === undefined || actions.length === 0 || actions.includes(e.action),
    (e) => types === undefined || types.length === 0 || types.includes(e.resourceType),
    (e) => resource === null || resource === '' || e.resourceIdentity === resource,
    (e) => user === null || user === '' || e.subject === user,
    (e) => serviceAccount === null || serviceAccount === '' || e.subject === serviceAccount,
    (e) => status === null || status === '' || String(e.context.status) === status,
  ]
}

export const auditRoutes: Route[] = [
  orgRoute('GET', '/v1/audit', (ctx) => {
    const page = intParam(ctx, 'page', 1, Number.MAX_SAFE_INTEGER)
    const limit = intParam(ctx, 'limit', DEFAULT_LIMIT, MAX_LIMIT)
    const checks = filters(ctx.query)
    const matched = ctx.state.audit
      .filter((e) => e.orgIdentity === ctx.org.identity && checks.every((c) => c(e)))
      .reverse() // stable sort below keeps later-recorded events first among equal timestamps
      .sort((a, b) => b.createdAt - a.createdAt)
    const items = matched.slice((page - 1) * limit, page * limit).map((e) => auditView(ctx.state, e))
    return ok({items, totalItems: matched.length, page, itemsPerPage: limit, totalPages: Math.ceil(matched.length / limit), totalCount: matched.length})
  }, false),
]
