/**
 * Route table for the emulator: path patterns (`:param` segments and one trailing `*rest` that captures the
 * remainder including its leading '/'), the three access levels a route can ask for, and the request
 * contexts handlers receive. The server (server.ts) does matching, auth and scoping; handlers only see a
 * context that already satisfies their access level.
 */
import type {IncomingHttpHeaders} from 'node:http'
import type {Reply} from './http.js'
import type {EmulatorState, Membership, Org, Principal, Project, Scope} from './state.js'
import type {Body} from './validate.js'

export interface BaseContext {
  method: string
  path: string
  query: URLSearchParams
  params: Record<string, string>
  headers: IncomingHttpHeaders
  rawBody: string
  /** The body parsed as a JSON object (400 otherwise). */
  body(): Body
  state: EmulatorState
  /** Clock reading taken when handling started. */
  now: number
  clientIp: string
  /** Tells the server a GET changed state (non-GET requests are always treated as changing it). */
  markDirty(): void
}

export interface AuthedContext extends BaseContext {
  principal: Principal
}

export interface ScopedContext extends AuthedContext {
  org: Org
  membership: Membership
  /** Active project (from X-Project-Identity or ?project=), undefined = organisation scope. */
  project?: Project
  scope: Scope
}

type Handler<C> = (ctx: C) => Reply | Promise<Reply>

interface RouteBase {
  method: string
  segments: string[]
}

/** public: no credentials; user: credentials, no organisation; org: credentials + X-Organisation-Identity. */
export type Route =
  | (RouteBase & {access: 'public'; handler: Handler<BaseContext>})
  | (RouteBase & {access: 'user'; handler: Handler<AuthedContext>})
  | (RouteBase & {access: 'org'; useProject: boolean; handler: Handler<ScopedContext>})

const split = (pattern: string) => pattern.split('/').filter((s) => s !== '')

export const publicRoute = (method: string, pattern: string, handler: Handler<BaseContext>): Route =>
  ({access: 'public', method, segments: split(pattern), handler})

export const userRoute = (method: string, pattern: string, handler: Handler<AuthedContext>): Route =>
  ({access: 'user', method, segments: split(pattern), handler})

/** An organisation route; `useProject: false` ignores X-Project-Identity (projects, audit). */
export const orgRoute = (method: string, pattern: string, handler: Handler<ScopedContext>, useProject = true): Route =>
  ({access: 'org', useProject, method, segments: split(pattern), handler})

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]
    if (p.startsWith('*')) {
      if (i >= parts.length) return undefined
      params[p.slice(1)] = '/' + parts.slice(i).join('/')
      return params
    }
    if (i >= parts.length) return undefined
    if (p.startsWith(':')) params[p.slice(1)] = parts[i]
    else if (p !== parts[i]) return undefined
  }
  return parts.length === pattern.length ? params : undefined
}

type RouteMatch = {route: Route; params: Record<string, string>} | 'method-not-allowed' | undefined

/** First route whose pattern and method match; 'method-not-allowed' if only the path matched. */
export function matchRoute(routes: Route[], method: string, path: string): RouteMatch {
  let parts: string[]
  try {
    parts = split(path).map(decodeURIComponent)
  } catch {
    return undefined
  }
  let pathMatched = false
  for (const route of routes) {
    const params = matchSegments(route.segments, parts)
    if (params === undefined) continue
    if (route.method === method) return {route, params}
    pathMatched = true
  }
  return pathMatched ? 'method-not-allowed' : undefined
}
