/**
 * The emulator's HTTP server (node:http, keep-alive): per request it records the call, waits the configured
 * latency, reads the body, maybe injects a fault (without touching state), matches the route, authenticates,
 * resolves organisation and project scope, runs clock-driven housekeeping and the handler, answers JSON and
 * schedules persistence. Errors are always `{"message": ...}`.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {resolve as resolvePath} from 'node:path'
import {authenticate} from './auth.js'
import {createClock, type MovableClock} from './clock.js'
import {applyFault, FaultInjector, faultStatus, type FaultOptions} from './faults.js'
import {badRequest, forbidden, HttpError, notFound, readBody, type Reply} from './http.js'
import {openStateFile, type Persister} from './persistence.js'
import {matchRoute, type BaseContext, type Route} from './router.js'
import {auditRoutes} from './routes/audit.js'
import {dnsRoutes} from './routes/dns.js'
import {iamRoutes} from './routes/iam.js'
import {kmsCryptoRoutes} from './routes/kms-crypto.js'
import {kmsKeyRoutes} from './routes/kms-keys.js'
import {meRoutes} from './routes/me.js'
import {oidcRoutes} from './routes/oidc.js'
import {projectRoutes} from './routes/projects.js'
import {secretRoutes} from './routes/secrets.js'
import {seedState, type SeedOption} from './seed.js'
import {refreshState, type EmulatorState, type Membership, type Org, type Project} from './state.js'
import {parseJsonObject, type Body} from './validate.js'

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** 0 (default) = a free port. */
  port?: number
  /** Default 'demo'. */
  seed?: SeedOption
  /** Persist state in this file (and its master key in `<dataFile>.key`); absent = in memory only. */
  dataFile?: string
  /** Fixed delay before handling each request. */
  latencyMs?: number
  faults?: FaultOptions
  /** Base clock in epoch ms (default Date.now); the handle's clock moves relative to it. */
  clock?: () => number
  /** No diagnostics on stderr. */
  quiet?: boolean
}

/** One request as seen by the emulator: no bodies, no headers, no tokens. status 0 = no HTTP answer. */
export interface RecordedRequest {
  method: string
  path: string
  query: string
  user?: string
  project?: string
  status: number
  at: number
}

export interface EmulatorHandle {
  url: string
  port: number
  close(): Promise<void>
  requests: RecordedRequest[]
  clearRequests(): void
  clock: MovableClock
  setFaults(f: FaultOptions | undefined): void
  setLatency(ms: number): void
  state: EmulatorState
}

const ROUTES: Route[] = [
  ...oidcRoutes, ...meRoutes, ...iamRoutes, ...projectRoutes, ...kmsKeyRoutes, ...kmsCryptoRoutes, ...secretRoutes,
  ...dnsRoutes, ...auditRoutes,
]

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function resolveOrg(state: EmulatorState, ref: string | undefined, subject: string): {org: Org; membership: Membership} {
  if (ref === undefined || ref === '') throw badRequest('X-Organisation-Identity header is required')
  const org = state.orgs.find((o) => o.identity === ref || o.slug === ref)
  const membership = org === undefined ? undefined : state.memberships.find((m) => m.orgIdentity === org.identity && m.subject === subject)
  if (org === undefined || membership === undefined) throw forbidden(`not a member of organisation ${ref}`)
  return {org, membership}
}

function resolveProject(state: EmulatorState, org: Org, ref: string | undefined): Project | undefined {
  if (ref === undefined || ref === '') return undefined
  const project = state.projects.find((p) => p.orgIdentity === org.identity && (p.identity === ref || p.slug === ref))
  if (project === undefined) throw notFound(`project ${ref} not found`)
  return project
}

function validateLatency(ms: number): number {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new Error('latencyMs must be a non-negative number')
  return ms
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const clock = createClock(opts.clock)
  const host = opts.host ?? '127.0.0.1'
  const log = (message: string) => {
    if (!opts.quiet) process.stderr.write(`kmsguard emulator: ${message}\n`)
  }
  const seed = () => seedState(opts.seed ?? 'demo', clock.now())
  let state: EmulatorState
  let persister: Persister | undefined
  if (opts.dataFile !== undefined) ({state, persister} = await openStateFile(resolvePath(opts.dataFile), seed, log))
  else state = await seed()

  let faults = opts.faults === undefined ? undefined : new FaultInjector(opts.faults)
  let latency = validateLatency(opts.latencyMs ?? 0)
  const requests: RecordedRequest[] = []
  const sleepers = new Set<() => void>()
  const inflight = new Set<Promise<unknown>>()
  let closed = false

  const sleep = (ms: number) => new Promise<void>((done) => {
    const wake = () => {
      clearTimeout(timer)
      sleepers.delete(wake)
      done()
    }
    const timer = setTimeout(wake, ms)
    sleepers.add(wake)
  })

  /** Best-effort caller identity for the request log (never throws, never mutates). */
  function describeCaller(req: IncomingMessage, entry: RecordedRequest): void {
    try {
      entry.user = authenticate(state, header(req, 'authorization'), clock.now()).subject
    } catch {
      entry.user = undefined
    }
    const ref = header(req, 'x-project-identity')
    if (ref !== undefined && ref !== '') entry.project = state.projects.find((p) => p.identity === ref || p.slug === ref)?.identity ?? ref
  }

  async function dispatch(req: IncomingMessage, url: URL, rawBody: string): Promise<Reply> {
    const method = req.method ?? 'GET'
    const match = matchRoute(ROUTES, method, url.pathname)
    if (match === undefined) throw notFound(`no route for ${method} ${url.pathname}`)
    if (match === 'method-not-allowed') throw new HttpError(405, `method ${method} not allowed on ${url.pathname}`)
    const now = clock.now()
    let dirty = method !== 'GET' || refreshState(state, now)
    let parsed: Body | undefined
    const base: BaseContext = {
      method, path: url.pathname, query: url.searchParams, params: match.params, headers: req.headers, rawBody,
      body: () => (parsed ??= parseJsonObject(rawBody)), state, now, clientIp: req.socket.remoteAddress ?? '',
      markDirty: () => {
        dirty = true
      },
    }
    try {
      const {route} = match
      if (route.access === 'public') return await route.handler(base)
      const principal = authenticate(state, header(req, 'authorization'), now)
      if (route.access === 'user') return await route.handler({...base, principal})
      const {org, membership} = resolveOrg(state, header(req, 'x-organisation-identity'), principal.subject)
      const project = route.useProject ? resolveProject(state, org, header(req, 'x-project-identity') ?? url.searchParams.get('project') ?? undefined) : undefined
      return await route.handler({...base, principal, org, membership, project, scope: {orgIdentity: org.identity, projectIdentity: project?.identity}})
    } finally {
      if (dirty) persister?.markDirty()
    }
  }

  function send(res: ServerResponse, entry: RecordedRequest, reply: Reply): void {
    entry.status = reply.status
    if (res.destroyed || res.headersSent) return
    if (reply.body === undefined) {
      res.writeHead(reply.status)
      res.end()
      return
    }
    const text = JSON.stringify(reply.body)
    res.writeHead(reply.status, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text))})
    res.end(text)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid')
    const entry: RecordedRequest = {method: req.method ?? 'GET', path: url.pathname, query: url.search.replace(/^\?/, ''), status: 0, at: clock.now()}
    requests.push(entry)
    try {
      if (latency > 0) await sleep(latency)
      const rawBody = closed ? '' : await readBody(req)
      if (closed) {
        res.destroy()
        return
      }
      describeCaller(req, entry)
      const fault = faults?.pick(entry.method, entry.path)
      if (fault !== undefined && faults !== undefined) {
        entry.status = faultStatus(fault)
        applyFault(fault, res, faults)
        return
      }
      const work = dispatch(req, url, rawBody)
      inflight.add(work)
      try {
        send(res, entry, await work)
      } finally {
        inflight.delete(work)
      }
    } catch (e) {
      if (!(e instanceof HttpError)) log(`internal error on ${entry.method} ${entry.path}: ${(e as Error).message}`)
      const err = e instanceof HttpError ? e : new HttpError(500, 'internal emulator error')
      send(res, entry, {status: err.status, body: {message: err.message}})
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res)
  })
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port

  let closing: Promise<void> | undefined
  const close = () => (closing ??= (async () => {
    closed = true
    for (const wake of [...sleepers]) wake()
    const stopped = new Promise<void>((done) => server.close(() => done()))
    server.closeAllConnections()
    await stopped
    await Promise.allSettled([...inflight])
    persister?.flush()
  })())

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close,
    requests,
    clearRequests: () => {
      requests.length = 0
    },
    clock,
    setFaults: (f) => {
      faults = f === undefined ? undefined : new FaultInjector(f)
    },
    setLatency: (ms) => {
      latency = validateLatency(ms)
    },
    state,
  }
}
