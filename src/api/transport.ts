/**
 * The one HTTP transport of kmsguard: global fetch over an undici keep-alive pool, with connect/headers/body
 * timeouts, an overall deadline, scoping and auth headers, a bounded jittered retry that honours Retry-After
 * for idempotent calls only, redacted debug tracing, and typed errors. Every response body is validated by
 * the caller's zod schema; a body that does not fit is an API error naming the endpoint and the field.
 *
 * Retries live here rather than in undici's retry interceptor because the decision depends on the call
 * (idempotent or not) and on the failure (a refused connection proves a mutation was never sent), and because
 * the loop must also be exercised by the nock-based unit tests, which bypass the dispatcher.
 */
import type {ZodType} from 'zod'
import {ApiError, KmsGuardError, ExitCode} from '../cli/errors.js'
import type {Credentials} from '../config/resolve.js'
import {isLoopbackUrl} from '../config/resolve.js'

export interface TransportOptions {
  endpoint: string
  organisation?: string
  project?: string
  credentials?: Credentials
  userAgent: string
  /** Overall deadline for everything this transport does, ms since epoch. */
  deadline?: number
  connectTimeoutMs?: number
  headersTimeoutMs?: number
  bodyTimeoutMs?: number
  maxRetries?: number
  retryBaseMs?: number
  retryMaxMs?: number
  connections?: number
  debug?: (line: string) => void
  /** Injected by tests (undici MockAgent); otherwise an undici Agent is created lazily. */
  dispatcher?: unknown
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
  /** Called once, just before the first request is sent (e.g. to start a read that runs alongside). */
  onFirstRequest?: () => void
}

export interface RequestSpec<T> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  schema: ZodType<T>
  /** Safe to repeat. Defaults to true for GET only. */
  idempotent?: boolean
  /** `null` sends no project header (organisation scope); a string overrides the default project. */
  project?: string | null
  /** Do not send X-Organisation-Identity (e.g. /v1/me/organisation-memberships). */
  noOrganisation?: boolean
  /** Accept 204 / an empty body; the schema then sees `undefined`. */
  allowEmpty?: boolean
  /** Extra per-request deadline in ms, tighter than the transport's. */
  timeoutMs?: number
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504])
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN'])

export class Transport {
  readonly endpoint: string
  private readonly opts: TransportOptions
  private dispatcherPromise?: Promise<unknown>
  private bearer?: {token: string; expiresAt: number}
  private bearerPromise?: Promise<string>
  /** A 429 with Retry-After pauses every request of this transport: the pool slows down, it does not give up. */
  private pausedUntil = 0
  private baseSignal?: AbortSignal | null
  requestCount = 0

  constructor(opts: TransportOptions) {
    this.opts = opts
    this.endpoint = opts.endpoint.replace(/\/+$/, '')
    const env = opts.env ?? process.env
    if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0' && !isLoopbackUrl(new URL(this.endpoint))) {
      throw new KmsGuardError('TLS_VERIFICATION_DISABLED', ExitCode.USAGE, 'NODE_TLS_REJECT_UNAUTHORIZED=0 is set: TLS certificate checks are off, so tokens and key material could go to an impostor', {hint: 'Unset NODE_TLS_REJECT_UNAUTHORIZED. To trust a private CA, use NODE_EXTRA_CA_CERTS=/path/ca.pem instead.'})
    }
  }

  get organisation(): string | undefined {
    return this.opts.organisation
  }

  get project(): string | undefined {
    return this.opts.project
  }

  /** Remaining time before the command's deadline, in ms. */
  remaining(): number {
    return this.opts.deadline === undefined ? Number.POSITIVE_INFINITY : this.opts.deadline - Date.now()
  }

  async close(): Promise<void> {
    if (!this.dispatcherPromise || this.opts.dispatcher) return
    const d = (await this.dispatcherPromise) as {close?: () => Promise<void>}
    await d.close?.()
  }

  private dispatcher(): Promise<unknown> {
    this.dispatcherPromise ??= this.opts.dispatcher
      ? Promise.resolve(this.opts.dispatcher)
      : import('undici').then(({Agent}) => new Agent({
        keepAliveTimeout: 10_000,
        connections: this.opts.connections ?? 32,
        connect: {timeout: this.opts.connectTimeoutMs ?? 5_000},
        headersTimeout: this.opts.headersTimeoutMs ?? 15_000,
        bodyTimeout: this.opts.bodyTimeoutMs ?? 30_000,
      }))
    return this.dispatcherPromise
  }

  async request<T>(spec: RequestSpec<T>): Promise<T> {
    const idempotent = spec.idempotent ?? spec.method === 'GET'
    const maxRetries = this.opts.maxRetries ?? 3
    const label = `${spec.method} ${spec.path}`
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(spec, label)
      if (outcome.ok) return outcome.value
      const retryable = outcome.failure.retryable && (idempotent || outcome.failure.notSent)
      if (!retryable || attempt >= maxRetries) throw outcome.failure.error
      const wait = this.backoff(attempt, outcome.failure.retryAfterMs)
      if (wait >= this.remaining()) throw outcome.failure.error
      this.opts.debug?.(`retry ${attempt + 1}/${maxRetries} ${label} in ${wait} ms (${outcome.failure.error.code})`)
      await sleep(wait, this.opts.signal)
    }
  }

  private backoff(attempt: number, retryAfterMs?: number): number {
    const base = this.opts.retryBaseMs ?? 200
    const max = this.opts.retryMaxMs ?? 5_000
    if (retryAfterMs !== undefined) {
      this.pausedUntil = Math.max(this.pausedUntil, Date.now() + retryAfterMs)
      return retryAfterMs
    }
    const exp = Math.min(max, base * 2 ** attempt)
    return Math.round(exp / 2 + Math.random() * (exp / 2))
  }

  private async attempt<T>(spec: RequestSpec<T>, label: string): Promise<{ok: true; value: T} | {ok: false; failure: Failure}> {
    const pause = this.pausedUntil - Date.now()
    if (pause > 0) await sleep(Math.min(pause, Math.max(0, this.remaining())), this.opts.signal)
    if (this.remaining() <= 0) return fail(new ApiError('DEADLINE_EXCEEDED', `${label}: the command's overall deadline passed before the request could be sent`, {endpoint: label, hint: 'Raise KMSGUARD_TIMEOUT (seconds) if the API is slow.'}), {notSent: true})

    const url = new URL(this.endpoint + spec.path)
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    const headers: Record<string, string> = {accept: 'application/json', 'user-agent': this.opts.userAgent}
    if (!spec.noOrganisation) {
      if (!this.opts.organisation) return fail(new KmsGuardError('ORGANISATION_REQUIRED', ExitCode.USAGE, `${label} needs an organisation`, {hint: 'Pass --org ORG, set THALASSA_ORGANISATION_ID, or select a tcloud context with an organisation.'}), {fatal: true})
      headers['x-organisation-identity'] = this.opts.organisation
    }
    const project = spec.project === undefined ? this.opts.project : spec.project
    if (project) headers['x-project-identity'] = project
    let bodyText: string | undefined
    if (spec.body !== undefined) {
      bodyText = JSON.stringify(spec.body)
      headers['content-type'] = 'application/json'
    }
    try {
      headers.authorization = await this.authorization()
    } catch (error) {
      if (error instanceof KmsGuardError) return fail(error, {fatal: true})
      throw error
    }

    const signal = this.requestSignal(spec.timeoutMs)
    const started = Date.now()
    if (this.requestCount++ === 0) this.opts.onFirstRequest?.()
    let res: Response
    try {
      res = await fetch(url, {method: spec.method, headers, body: bodyText, signal, dispatcher: await this.dispatcher()} as RequestInit)
    } catch (error) {
      if (this.opts.signal?.aborted) throw this.opts.signal.reason ?? error
      const code = networkCode(error)
      this.trace(spec.method, url, headers, `network error ${code}`, started)
      const notSent = NOT_SENT_CODES.has(code)
      return fail(new ApiError(code === 'TIMEOUT' ? 'TIMEOUT' : 'NETWORK_ERROR', `${label}: ${describeNetwork(code)}`, {endpoint: label, cause: error, hint: `Check that ${this.endpoint} is reachable.`, details: {network: code}}), {retryable: true, notSent})
    }

    let text: string
    try {
      text = await res.text()
    } catch (error) {
      this.trace(spec.method, url, headers, `${res.status} body error`, started)
      return fail(new ApiError('TRUNCATED_RESPONSE', `${label}: the response body was cut off (${networkCode(error)})`, {endpoint: label, status: res.status, cause: error}), {retryable: true})
    }
    this.trace(spec.method, url, headers, String(res.status), started)

    if (res.status >= 400) return fail(statusError(label, res.status, text, res.headers.get('retry-after')), {retryable: RETRY_STATUSES.has(res.status), retryAfterMs: parseRetryAfter(res.headers.get('retry-after'))})

    let json: unknown
    if (text.trim() === '') {
      if (!spec.allowEmpty) return fail(new ApiError('MALFORMED_RESPONSE', `${label} returned ${res.status} with an empty body where JSON was expected`, {endpoint: label, status: res.status}), {retryable: true})
      json = undefined
    } else {
      try {
        json = JSON.parse(text)
      } catch {
        return fail(new ApiError('MALFORMED_RESPONSE', `${label} returned ${res.status} with a body that is not JSON`, {endpoint: label, status: res.status, hint: 'A proxy or a partial response may be in the way.'}), {retryable: true})
      }
    }
    const parsed = spec.schema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const field = issue.path.length > 0 ? issue.path.join('.') : '(body)'
      return fail(new ApiError('MALFORMED_RESPONSE', `${label} returned a body kmsguard does not understand: ${field}: ${issue.message}`, {endpoint: label, status: res.status, details: {field}}), {})
    }
    return {ok: true, value: parsed.data}
  }

  /**
   * The signal a request runs under: the command's deadline and its cancellation, combined once per transport
   * (per-request timers are costly in a 2,000-request scan), plus the request's own limit when it has one.
   * Connect, headers and body timeouts are the dispatcher's.
   */
  private requestSignal(timeoutMs?: number): AbortSignal | undefined {
    if (this.baseSignal === undefined) {
      const parts: AbortSignal[] = []
      if (this.opts.signal) parts.push(this.opts.signal)
      if (this.opts.deadline !== undefined) parts.push(AbortSignal.timeout(Math.max(1, this.opts.deadline - Date.now())))
      this.baseSignal = parts.length === 0 ? null : parts.length === 1 ? parts[0] : AbortSignal.any(parts)
    }
    const own = timeoutMs === undefined || !Number.isFinite(timeoutMs) ? undefined : AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)))
    // Always a signal of the request's own: fetch keeps its abort listener on the signal it is given until the
    // request is garbage-collected, so handing every request the shared signal piles listeners onto it.
    // AbortSignal.any links the per-request signal to the shared one weakly, without a listener.
    const parts = [this.baseSignal, own].filter((x): x is AbortSignal => Boolean(x))
    return parts.length === 0 ? undefined : AbortSignal.any(parts)
  }

  private trace(method: string, url: URL, headers: Record<string, string>, outcome: string, started: number): void {
    if (!this.opts.debug) return
    const shown = Object.entries(headers).map(([k, v]) => `${k}: ${k === 'authorization' ? redactAuthorization(v) : v}`).join('; ')
    this.opts.debug(`${method} ${url.pathname}${url.search} -> ${outcome} in ${Date.now() - started} ms [${shown}]`)
  }

  private async authorization(): Promise<string> {
    const creds = this.opts.credentials
    if (!creds) throw new KmsGuardError('NO_CREDENTIALS', ExitCode.API, 'no credentials: kmsguard found no token to authenticate with', {hint: 'Set THALASSA_PERSONAL_ACCESS_TOKEN (tc_pat_…), THALASSA_ACCESS_TOKEN, or THALASSA_CLIENT_ID + THALASSA_CLIENT_SECRET, pass --token-file, or log in with tcloud.'})
    if (creds.kind === 'pat') return `Token ${creds.token}`
    if (creds.kind === 'bearer') return `Bearer ${creds.token}`
    if (this.bearer && this.bearer.expiresAt - 30_000 > Date.now()) return `Bearer ${this.bearer.token}`
    this.bearerPromise ??= this.fetchClientCredentialsToken(creds).finally(() => {
      this.bearerPromise = undefined
    })
    return `Bearer ${await this.bearerPromise}`
  }

  /** OAuth2 client credentials at {endpoint}/oidc/token: HTTP Basic first, form fields as fallback (RFC 6749 §2.3.1). */
  private async fetchClientCredentialsToken(creds: {clientId: string; clientSecret: string}): Promise<string> {
    const label = 'POST /oidc/token'
    const url = `${this.endpoint}/oidc/token`
    const basic = Buffer.from(`${encodeURIComponent(creds.clientId)}:${encodeURIComponent(creds.clientSecret)}`).toString('base64')
    const attempts: Array<{headers: Record<string, string>; body: URLSearchParams}> = [
      {headers: {authorization: `Basic ${basic}`}, body: new URLSearchParams({grant_type: 'client_credentials'})},
      {headers: {}, body: new URLSearchParams({grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret})},
    ]
    let lastStatus = 0
    for (const a of attempts) {
      let res: Response
      try {
        res = await fetch(url, {method: 'POST', headers: {...a.headers, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': this.opts.userAgent}, body: a.body.toString(), signal: AbortSignal.timeout(Math.max(1, Math.min(15_000, this.remaining()))), dispatcher: await this.dispatcher()} as RequestInit)
      } catch (error) {
        throw new ApiError('NETWORK_ERROR', `${label}: ${describeNetwork(networkCode(error))}`, {endpoint: label, cause: error})
      }
      const text = await res.text().catch(() => '')
      this.opts.debug?.(`POST /oidc/token -> ${res.status} [authorization: ${a.headers.authorization ? 'Basic [REDACTED]' : '(form credentials, redacted)'}]`)
      lastStatus = res.status
      if (res.status === 400 || res.status === 401) continue
      if (!res.ok) break
      let body: {access_token?: unknown; expires_in?: unknown}
      try {
        body = JSON.parse(text)
      } catch {
        throw new ApiError('MALFORMED_RESPONSE', `${label} returned a body that is not JSON`, {endpoint: label, status: res.status})
      }
      if (typeof body.access_token !== 'string' || body.access_token === '') throw new ApiError('MALFORMED_RESPONSE', `${label} returned no access_token`, {endpoint: label, status: res.status, details: {field: 'access_token'}})
      const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600
      this.bearer = {token: body.access_token, expiresAt: Date.now() + ttl * 1000}
      return body.access_token
    }
    throw new ApiError('AUTH_FAILED', `${label}: the client credentials were refused (HTTP ${lastStatus})`, {endpoint: label, status: lastStatus, hint: 'Check THALASSA_CLIENT_ID / THALASSA_CLIENT_SECRET (or the tcloud context clientID/clientSecret).'})
  }
}

interface Failure {
  error: KmsGuardError
  retryable: boolean
  notSent: boolean
  retryAfterMs?: number
}

function fail(error: KmsGuardError, f: {retryable?: boolean; notSent?: boolean; retryAfterMs?: number; fatal?: boolean}): {ok: false; failure: Failure} {
  return {ok: false, failure: {error, retryable: !f.fatal && (f.retryable ?? false), notSent: f.notSent ?? false, retryAfterMs: f.retryAfterMs}}
}

function statusError(label: string, status: number, text: string, retryAfter: string | null): ApiError {
  let apiMessage: string | undefined
  try {
    const body = JSON.parse(text) as {message?: unknown; error?: unknown}
    const m = body.message ?? body.error
    if (typeof m === 'string') apiMessage = m.slice(0, 500)
  } catch {
    // not JSON: the message stays generic; the raw body is never echoed (it could carry anything)
  }
  const said = apiMessage ? `: ${apiMessage}` : ''
  const init = {endpoint: label, status, apiMessage}
  switch (status) {
    case 400:
      return new ApiError('BAD_REQUEST', `${label} was rejected (400)${said}`, init)
    case 401:
      return new ApiError('AUTH_FAILED', `${label}: authentication failed (401)${said}`, {...init, hint: 'The token is missing, expired or revoked. Check your credentials (kmsguard whoami shows which were used).'})
    case 403:
      return new ApiError('PERMISSION_DENIED', `${label}: permission denied (403)${said}`, {...init, hint: 'The caller lacks the IAM permission, the organisation header is wrong, or the feature is not enabled for the organisation.'})
    case 404:
      return new ApiError('NOT_FOUND', `${label}: not found (404)${said}`, {...init, hint: 'KMS also answers 404 when you lack permission on the resource or it lives in another project scope (see --project).'})
    case 409:
      return new ApiError('CONFLICT', `${label}: conflict (409)${said}`, init)
    case 429:
      return new ApiError('RATE_LIMITED', `${label}: rate limited (429)${retryAfter ? `, Retry-After ${retryAfter}` : ''}${said}`, init)
    case 503:
      return new ApiError('SERVICE_UNAVAILABLE', `${label}: service unavailable (503)${said}`, {...init, hint: 'For KMS this means the region has no KMS; kmsguard summary lists the available regions.'})
    default:
      return new ApiError(status >= 500 ? 'SERVER_ERROR' : 'HTTP_ERROR', `${label}: HTTP ${status}${said}`, init)
  }
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Math.min(Number(value) * 1000, 60_000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - Date.now()), 60_000)
}

function networkCode(error: unknown): string {
  let e: unknown = error
  for (let depth = 0; depth < 5 && e; depth++) {
    const x = e as {name?: string; code?: string; cause?: unknown}
    if (x.name === 'TimeoutError' || x.code === 'UND_ERR_HEADERS_TIMEOUT' || x.code === 'UND_ERR_BODY_TIMEOUT') return 'TIMEOUT'
    if (typeof x.code === 'string') return x.code
    e = x.cause
  }
  return 'UNKNOWN'
}

function describeNetwork(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset by the server'
    case 'TIMEOUT':
      return 'no response before the timeout'
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timed out'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name could not be resolved'
    default:
      return `network error (${code})`
  }
}

export function redactAuthorization(value: string): string {
  const scheme = value.split(' ')[0]
  return `${scheme} [REDACTED]`
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) return resolve()
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(t)
      reject(signal.reason)
    }, {once: true})
  })
}
