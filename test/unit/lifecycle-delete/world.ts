/**
 * A small fake Thalassa API for the delete / references tests, served through nock: the KMS summary and key
 * GETs, projects, Secrets Manager lists and DNS zones + DNSSEC statuses, each answered per scope (the
 * X-Project-Identity header). Tests mutate the world, inject failures through `override`, and read `log` to
 * see what was requested, in which order, and how many requests were in flight at once.
 */
import nock from 'nock'
import {ORIGIN} from '../../helpers/context.js'

export type Route = 'summary' | 'keys' | 'key' | 'projects' | 'secrets' | 'zones' | 'dnssec'
export type Reply = [number, string | Record<string, unknown> | Array<Record<string, unknown>>] | {error: Error}

export interface Request {
  route: Route
  /** 'org' or the project identity from X-Project-Identity. */
  scope: string
  /** Key id or zone identity, where the path has one. */
  target?: string
  query: URLSearchParams
}

export interface LogEntry extends Request {
  event: 'start' | 'end'
  seq: number
}

export interface World {
  keys: Array<Record<string, unknown>>
  projects: Array<{identity: string; name: string; slug: string}>
  secrets: Record<string, Array<Record<string, unknown>>>
  zones: Record<string, Array<Record<string, unknown>>>
  dnssec: Record<string, Record<string, unknown>>
  /** Return a reply to replace the normal answer for a request (undefined = answer normally). */
  override?: (req: Request) => Reply | undefined | Promise<Reply | undefined>
  /** Awaited between the start and the end of every answer (latency; gates for ordering tests). */
  latency?: (req: Request) => Promise<void>
  log: LogEntry[]
  inFlight: number
  peak: number
}

export const REGION = 'nl-01'

export function key(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {identity: 'kms-app1', name: 'App key', slug: 'app-key', keyType: 'aes256-gcm96', status: 'disabled', exportAllowed: false, keyRotationEnabled: false, latestVersion: 2, ...overrides}
}

/** A listed secret bound to `bound` (nested kmsKey object), or with the flat kmsKeyIdentity of older servers. */
export function secret(path: string, bound: {identity?: string; slug?: string} | {flat: string} | null): Record<string, unknown> {
  if (bound === null) return {path, currentVersion: 1}
  if ('flat' in bound) return {path, kmsKeyIdentity: bound.flat, currentVersion: 1}
  return {path, kmsKey: {name: 'some key', ...bound}, region: {identity: 'reg-nl01', slug: REGION, name: 'NL 01'}, currentVersion: 1}
}

export function newWorld(partial: Partial<World> = {}): World {
  return {keys: [key()], projects: [], secrets: {}, zones: {}, dnssec: {}, log: [], inFlight: 0, peak: 0, ...partial}
}

function classify(pathname: string): {route: Route; target?: string} {
  let m: RegExpMatchArray | null
  if (pathname === '/v1/kms/summary') return {route: 'summary'}
  if (/^\/v1\/kms\/[^/]+\/keys$/.test(pathname)) return {route: 'keys'}
  if ((m = pathname.match(/^\/v1\/kms\/[^/]+\/keys\/([^/]+)$/))) return {route: 'key', target: decodeURIComponent(m[1])}
  if (pathname === '/v1/projects') return {route: 'projects'}
  if (/^\/v1\/secrets\/[^/]+\/secrets$/.test(pathname)) return {route: 'secrets'}
  if (pathname === '/v1/dns/zones') return {route: 'zones'}
  if ((m = pathname.match(/^\/v1\/dns\/zones\/([^/]+)\/dnssec$/))) return {route: 'dnssec', target: decodeURIComponent(m[1])}
  throw new Error(`the test world has no GET ${pathname}`)
}

function normal(world: World, req: Request): Reply {
  switch (req.route) {
    case 'summary':
      return [200, {featureEnabled: true, regions: [
        {identity: 'reg-nl01', name: 'NL 01', slug: REGION, kmsAvailable: true, totalKeys: 1},
        {identity: 'reg-nl02', name: 'NL 02', slug: 'nl-02', kmsAvailable: false},
      ]}]
    case 'keys':
      return [200, world.keys]
    case 'key': {
      const k = world.keys.find((x) => x.identity === req.target || x.slug === req.target)
      return k ? [200, k] : [404, {message: 'key not found'}]
    }
    case 'projects':
      return [200, world.projects]
    case 'secrets':
      return [200, world.secrets[req.scope] ?? []]
    case 'zones':
      return [200, world.zones[req.scope] ?? []]
    case 'dnssec':
      return [200, world.dnssec[req.target!] ?? {enabled: false, dsDelegated: false}]
  }
}

/** Serves every GET of the world until nock.cleanAll(). */
export function serve(world: World): void {
  let seq = 0
  const answer = async (uri: string, headers: Record<string, unknown>): Promise<Reply> => {
    const url = new URL(uri, ORIGIN)
    const project = headers['x-project-identity']
    const req: Request = {...classify(url.pathname), scope: typeof project === 'string' ? project : 'org', query: url.searchParams}
    world.log.push({...req, event: 'start', seq: seq++})
    world.inFlight++
    world.peak = Math.max(world.peak, world.inFlight)
    try {
      await world.latency?.(req)
      return (await world.override?.(req)) ?? normal(world, req)
    } finally {
      world.inFlight--
      world.log.push({...req, event: 'end', seq: seq++})
    }
  }
  nock(ORIGIN).persist().get(/^\/v1\//).query(true).reply(function (uri, _body, cb) {
    answer(uri, this.req.headers).then((r) => ('error' in r ? cb(r.error, [0, '']) : cb(null, r)), (error: Error) => cb(error, [0, '']))
  })
}

/** The requests of one route (start events), e.g. to count retries or see which scopes were read. */
export const started = (world: World, route: Route) => world.log.filter((e) => e.event === 'start' && e.route === route)

/** A network-level timeout as the transport sees it (fetch rejecting with a TimeoutError). */
export const timeoutError = () => Object.assign(new Error('The operation was aborted due to timeout'), {name: 'TimeoutError'})
