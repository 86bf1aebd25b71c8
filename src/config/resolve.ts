/**
 * Resolves connection settings in the contract's order — flag, environment, tcloud context, kmsguard settings,
 * default — and remembers where each value came from so `whoami` can say it (never the secret itself).
 */
import {readFile, lstat} from 'node:fs/promises'
import {usageError, KmsGuardError, ExitCode} from '../cli/errors.js'
import {loadTcloudContext, tcloudConfigPath, type TcloudContext} from './tcloud.js'
import {readSettings, type Settings} from './settings.js'

export const DEFAULT_ENDPOINT = 'https://api.thalassa.cloud'
export const DEFAULT_CONCURRENCY = 16
export const DEFAULT_TIMEOUT_SECONDS = 120

export interface Sourced<T> {
  value: T
  source: string
}

export type Credentials =
  | {kind: 'pat'; token: string}
  | {kind: 'bearer'; token: string}
  | {kind: 'client-credentials'; clientId: string; clientSecret: string}

export interface ConnectionFlags {
  endpoint?: string
  org?: string
  project?: string
  context?: string
  'token-file'?: string
  region?: string
  concurrency?: number
}

export interface ResolvedConfig {
  endpoint: Sourced<string>
  organisation?: Sourced<string>
  project?: Sourced<string>
  region?: Sourced<string>
  credentials?: Sourced<Credentials>
  concurrency: Sourced<number>
  journal?: Sourced<string>
  timeoutSeconds: number
  settings: Settings
  tcloud?: {file: string; context: string}
}

const first = <T>(...candidates: Array<[T | undefined | null | '', string]>): Sourced<T> | undefined => {
  for (const [value, source] of candidates) if (value !== undefined && value !== null && value !== '') return {value: value as T, source}
  return undefined
}

/** A bearer token that is really a PAT is sent with the Token scheme, whatever variable carried it. */
export function credentialFromToken(token: string): Credentials {
  return token.startsWith('tc_pat_') ? {kind: 'pat', token} : {kind: 'bearer', token}
}

export async function resolveConfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  const file = tcloudConfigPath(env)
  const ctx: TcloudContext | undefined = await loadTcloudContext(file, flags.context)
  const ctxSource = ctx ? `tcloud config ${ctx.file} (context ${ctx.contextName})` : ''
  const settings = await readSettings(env)

  const endpoint = first<string>([flags.endpoint, 'flag --endpoint'], [env.THALASSA_API_ENDPOINT, 'env THALASSA_API_ENDPOINT'], [ctx?.endpoint, ctxSource], [DEFAULT_ENDPOINT, 'default'])!
  endpoint.value = validateEndpoint(endpoint.value, endpoint.source)

  const concurrencyRaw = first<string | number>([flags.concurrency, 'flag --concurrency'], [env.KMSGUARD_CONCURRENCY, 'env KMSGUARD_CONCURRENCY'], [settings.concurrency, 'kmsguard config'], [DEFAULT_CONCURRENCY, 'default'])!
  const concurrency = Number(concurrencyRaw.value)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw usageError(`concurrency from ${concurrencyRaw.source} must be a whole number from 1 to 64, got "${concurrencyRaw.value}"`)

  const timeoutRaw = env.KMSGUARD_TIMEOUT ?? settings.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS
  const timeoutSeconds = Number(timeoutRaw)
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) throw usageError(`KMSGUARD_TIMEOUT must be whole seconds from 1 to 3600, got "${timeoutRaw}"`)

  return {
    endpoint,
    organisation: first([flags.org, 'flag --org'], [env.THALASSA_ORGANISATION_ID, 'env THALASSA_ORGANISATION_ID'], [env.THALASSA_ORGANISATION, 'env THALASSA_ORGANISATION'], [ctx?.organisation, ctxSource]),
    project: first([flags.project, 'flag --project'], [env.THALASSA_PROJECT_ID, 'env THALASSA_PROJECT_ID']),
    region: first([flags.region, 'flag --region'], [env.KMSGUARD_REGION, 'env KMSGUARD_REGION'], [settings.region, 'kmsguard config']),
    credentials: await resolveCredentials(flags, env, ctx, ctxSource),
    concurrency: {value: concurrency, source: concurrencyRaw.source},
    journal: first([env.KMSGUARD_JOURNAL, 'env KMSGUARD_JOURNAL'], [settings.journal, 'kmsguard config']),
    timeoutSeconds,
    settings,
    tcloud: ctx ? {file: ctx.file, context: ctx.contextName} : undefined,
  }
}

async function resolveCredentials(flags: ConnectionFlags, env: NodeJS.ProcessEnv, ctx: TcloudContext | undefined, ctxSource: string): Promise<Sourced<Credentials> | undefined> {
  if (flags['token-file']) return {value: credentialFromToken(await readTokenFile(flags['token-file'])), source: `flag --token-file ${flags['token-file']}`}
  if (env.THALASSA_ACCESS_TOKEN) return {value: credentialFromToken(env.THALASSA_ACCESS_TOKEN.trim()), source: 'env THALASSA_ACCESS_TOKEN'}
  if (env.THALASSA_CLIENT_ID || env.THALASSA_CLIENT_SECRET) {
    if (!env.THALASSA_CLIENT_ID || !env.THALASSA_CLIENT_SECRET) throw usageError('THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET must be set together')
    return {value: {kind: 'client-credentials', clientId: env.THALASSA_CLIENT_ID, clientSecret: env.THALASSA_CLIENT_SECRET}, source: 'env THALASSA_CLIENT_ID/THALASSA_CLIENT_SECRET'}
  }
  if (env.THALASSA_PERSONAL_ACCESS_TOKEN) return {value: {kind: 'pat', token: env.THALASSA_PERSONAL_ACCESS_TOKEN.trim()}, source: 'env THALASSA_PERSONAL_ACCESS_TOKEN'}
  if (env.THALASSA_API_TOKEN) return {value: {kind: 'pat', token: env.THALASSA_API_TOKEN.trim()}, source: 'env THALASSA_API_TOKEN'}
  if (ctx?.accessToken) return {value: credentialFromToken(ctx.accessToken), source: ctxSource}
  if (ctx?.clientId && ctx.clientSecret) return {value: {kind: 'client-credentials', clientId: ctx.clientId, clientSecret: ctx.clientSecret}, source: ctxSource}
  if (ctx?.token) return {value: {kind: 'pat', token: ctx.token}, source: ctxSource}
  return undefined
}

async function readTokenFile(path: string): Promise<string> {
  let text: string
  try {
    const st = await lstat(path)
    if (!st.isFile()) throw usageError(`--token-file ${path} is not a regular file`)
    if (st.size > 16 * 1024) throw usageError(`--token-file ${path} is too large to be a token`)
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof KmsGuardError) throw error
    throw usageError(`cannot read --token-file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  const token = text.trim()
  if (!token || /\s/.test(token)) throw usageError(`--token-file ${path} must hold exactly one token`)
  return token
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK.test(url.hostname)
}

/** Normalises the endpoint; plain http is refused unless the host is loopback. */
export function validateEndpoint(raw: string, source: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // The raw text may carry a password (user:pw@host): show it only with any userinfo masked.
    throw usageError(`API endpoint from ${source} is not a URL: "${raw.replace(/\/\/[^/@]*@/, '//***@').slice(0, 200)}"`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usageError(`API endpoint from ${source} must be https:// (got ${url.protocol})`)
  if (url.protocol === 'http:' && !isLoopbackUrl(url)) throw new KmsGuardError('INSECURE_ENDPOINT', ExitCode.USAGE, `refusing plain http:// to ${url.host} (from ${source}): tokens and key material would cross the network unencrypted`, {hint: 'Use https://. Plain http is allowed only for loopback (127.0.0.1, ::1, localhost), e.g. the kmsguard emulator.'})
  if (url.username || url.password) throw usageError(`API endpoint from ${source} must not carry credentials in the URL`)
  if (url.search || url.hash) throw usageError(`API endpoint from ${source} must not carry a query or fragment`)
  return url.origin + url.pathname.replace(/\/+$/, '')
}
