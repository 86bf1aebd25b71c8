/**
 * Deterministic fault injection. A seeded PRNG (mulberry32) decides, request by request, whether a request whose
 * "METHOD /path" matches one of `routes` gets a fault instead of an answer, and which kind. The same seed and
 * the same request sequence always give the same faults. Applying a fault never runs the handler, so a faulted
 * request cannot change state.
 */
import type {ServerResponse} from 'node:http'

export type FaultKind =
  | '500' | '502' | '503' | '429' | '429-no-retry-after'
  | 'reset' | 'timeout' | 'malformed' | 'truncated' | 'wrong-shape'

export const FAULT_KINDS: readonly FaultKind[] = [
  '500', '502', '503', '429', '429-no-retry-after', 'reset', 'timeout', 'malformed', 'truncated', 'wrong-shape',
]

export interface FaultOptions {
  /** Probability 0..1 that a matching request is faulted. */
  rate: number
  kinds: FaultKind[]
  /** Substrings or regular-expression sources matched against "METHOD /path"; all requests when absent. */
  routes?: string[]
  seed?: number
}

/** mulberry32: tiny, fast, good enough to make fault sequences reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WRONG_SHAPES = ['{"unexpected":true}', '"unexpected"', '[1,2,3]']

export class FaultInjector {
  private readonly rng: () => number
  private readonly matchers: ((s: string) => boolean)[] | undefined

  constructor(private readonly opts: FaultOptions) {
    if (!(opts.rate >= 0 && opts.rate <= 1)) throw new Error('faults.rate must be between 0 and 1')
    const unknown = opts.kinds.filter((k) => !FAULT_KINDS.includes(k))
    if (opts.kinds.length === 0 || unknown.length > 0) throw new Error(`faults.kinds must be a non-empty list of: ${FAULT_KINDS.join(', ')}`)
    this.rng = mulberry32(opts.seed ?? 1)
    this.matchers = opts.routes?.map(matcher)
  }

  /** The fault for this request, if any (draws from the PRNG only for matching requests). */
  pick(method: string, path: string): FaultKind | undefined {
    const target = `${method} ${path}`
    if (this.matchers !== undefined && !this.matchers.some((m) => m(target))) return undefined
    if (this.rng() >= this.opts.rate) return undefined
    return this.opts.kinds[Math.floor(this.rng() * this.opts.kinds.length)]
  }

  /** Body for the wrong-shape fault (also PRNG-driven). */
  wrongShape(): string {
    return WRONG_SHAPES[Math.floor(this.rng() * WRONG_SHAPES.length)]
  }
}

function matcher(route: string): (s: string) => boolean {
  let re: RegExp | undefined
  try {
    re = new RegExp(route)
  } catch {
    re = undefined
  }
  return (s) => s.includes(route) || (re !== undefined && re.test(s))
}

/** HTTP status a fault answers with; 0 = no HTTP answer at all (reset, timeout). */
export function faultStatus(kind: FaultKind): number {
  switch (kind) {
    case '500': return 500
    case '502': return 502
    case '503': return 503
    case '429':
    case '429-no-retry-after': return 429
    case 'reset':
    case 'timeout': return 0
    default: return 200
  }
}

/**
 * Writes the fault onto the response. `timeout` leaves the response open (the server's close() destroys it);
 * `reset` and `truncated` destroy the socket.
 */
export function applyFault(kind: FaultKind, res: ServerResponse, injector: FaultInjector): void {
  const send = (status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...headers})
    res.end(body)
  }
  switch (kind) {
    case '500':
    case '502':
    case '503':
      return send(faultStatus(kind), JSON.stringify({message: `injected fault: HTTP ${kind}`}))
    case '429':
      return send(429, JSON.stringify({message: 'injected fault: rate limited'}), {'Retry-After': '1'})
    case '429-no-retry-after':
      return send(429, JSON.stringify({message: 'injected fault: rate limited'}))
    case 'malformed':
      return send(200, '{"items": [ this is not json')
    case 'wrong-shape':
      return send(200, injector.wrongShape())
    case 'truncated': {
      const body = '{"identity": "kms-truncated", "name": "trunc'
      res.writeHead(200, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length + 64)})
      res.write(body, () => res.destroy())
      return
    }
    case 'reset': {
      const socket = res.socket
      if (socket !== null && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
      else res.destroy()
      return
    }
    case 'timeout':
      return
  }
}
