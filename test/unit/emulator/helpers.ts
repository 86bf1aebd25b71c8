/**
 * Test helpers for the emulator suites: a tiny fetch-based client that sends the demo credentials and scope
 * headers, plus the JSON shapes the tests read.
 */
import {DEMO, type EmulatorHandle} from '../../../src/emulator/index.js'

export interface Caller {
  /** PAT sent as `Token` (default: the operator's). */
  token?: string
  /** Access token sent as `Bearer` instead of a PAT. */
  bearer?: string
  /** Organisation header (default `demo`; null = omit). */
  org?: string | null
  project?: string
}

export interface ApiResponse<T> {
  status: number
  /** Parsed JSON (the raw text if it is not JSON); error bodies carry `message`. */
  body: T & Partial<MessageJson>
  text: string
  headers: Headers
}

export interface VersionJson { version: number; createdAt: string; status?: string }
export interface KeyJson {
  identity: string
  name: string
  slug: string
  keyType: string
  status: string
  projectId?: string
  exportAllowed: boolean
  imported: boolean
  keyRotationEnabled: boolean
  rotationPeriodInDays: number | null
  latestVersion: number
  versions: VersionJson[]
  labels: Record<string, string>
  deletionScheduledAt?: string
  objectVersion: number
}
export interface MessageJson { message: string }
export interface ElevationJson {
  identity: string
  status: string
  requestedExpiresAt: string
  requester?: {subject: string}
  reviewedBy?: {subject: string}
  reviewNote?: string
  iamPolicy?: {identity: string; slug: string}
  labels: Record<string, string>
}
export interface AuditJson {
  eventID: string
  createdAt: string
  action: string
  resourceType: string
  resourceIdentity?: string
  userIdentity?: string
  user?: {subject: string}
  context: Record<string, unknown>
}
export interface AuditPageJson {
  items: AuditJson[]
  totalItems: number
  page: number
  itemsPerPage: number
  totalPages: number
  totalCount: number
}

export type Call = <T = MessageJson>(method: string, path: string, body?: unknown) => Promise<ApiResponse<T>>

/** A caller bound to one emulator and identity. */
export function client(h: EmulatorHandle, who: Caller = {}): Call {
  return async <T>(method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {accept: 'application/json'}
    if (who.bearer !== undefined) headers.authorization = `Bearer ${who.bearer}`
    else headers.authorization = `Token ${who.token ?? DEMO.tokens.operator}`
    const org = who.org === undefined ? DEMO.org.slug : who.org
    if (org !== null) headers['x-organisation-identity'] = org
    if (who.project !== undefined) headers['x-project-identity'] = who.project
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(h.url + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000)})
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = text
    }
    return {status: res.status, body: parsed as T & Partial<MessageJson>, text, headers: res.headers}
  }
}

export const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')

export const KMS = `/v1/kms/${DEMO.regions.available}`
