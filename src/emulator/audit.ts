/**
 * Writing audit events. KMS crypto operations, rotate and export write `kms.*` events; key lifecycle calls write
 * `kms.key.*`. Context carries metadata only (method, path, status, region, key slug/type/version, payload size,
 * client ip, user agent) — never plaintext, ciphertext, material, signatures or MACs.
 */
import {randomUUID} from 'node:crypto'
import type {ScopedContext} from './router.js'
import type {AuditContextValue, StoredKey} from './state.js'

export interface KeyEventDetails {
  keyVersion?: number
  payloadSize?: number
  [extra: string]: AuditContextValue | undefined
}

/** Appends one `kms_key` event for `key`, as performed by the caller of `ctx`, with the final HTTP status. */
export function recordKeyEvent(ctx: ScopedContext, action: string, key: StoredKey, status: number, details: KeyEventDetails = {}): void {
  const context: Record<string, AuditContextValue> = {
    method: ctx.method,
    path: ctx.path,
    status,
    region: key.regionSlug,
    keySlug: key.slug,
    keyType: key.keyType,
    client_ip: ctx.clientIp,
    user_agent: typeof ctx.headers['user-agent'] === 'string' ? ctx.headers['user-agent'] : null,
  }
  for (const [k, v] of Object.entries(details)) {
    if (v !== undefined) context[k] = k === 'keyVersion' ? String(v) : v
  }
  ctx.state.audit.push({
    eventID: randomUUID(),
    createdAt: ctx.now,
    orgIdentity: ctx.org.identity,
    projectIdentity: key.projectIdentity,
    subject: ctx.principal.subject,
    action,
    description: `${action} on key ${key.slug}`,
    resourceType: 'kms_key',
    resourceIdentity: key.identity,
    context,
  })
}
