/**
 * Shared plumbing for the KMS routes: the organisation feature gate, the regional gate, key lookup in the
 * active scope, state checks, and the wrapper that writes an audit event (with the final status, failures
 * included) around an operation on one key.
 */
import {recordKeyEvent, type KeyEventDetails} from '../audit.js'
import {badRequest, forbidden, HttpError, notFound, unavailable, type Reply} from '../http.js'
import type {ScopedContext} from '../router.js'
import {findKey, findRegion, type KeyVersion, type Region, type StoredKey} from '../state.js'

/** 403 when the organisation's KMS feature gate is off. */
export function requireKmsFeature(ctx: ScopedContext, message = `KMS is not enabled for organisation ${ctx.org.slug}`): void {
  if (!ctx.org.settings.kmsFeatureEnabled) throw forbidden(message)
}

/** A region usable for KMS: feature gate, then 404 unknown region, then 503 KMS not available there. */
export function kmsRegion(ctx: ScopedContext, ref: string = ctx.params.region, gateMessage?: string): Region {
  requireKmsFeature(ctx, gateMessage)
  const region = findRegion(ctx.state, ref)
  if (region === undefined) throw notFound(`region ${ref} not found`)
  if (!region.kmsAvailable) throw unavailable(`KMS is not available in region ${region.slug}`)
  return region
}

/** The key named by `:id` (identity or slug) in the path's region and the caller's active scope. */
export function pathKey(ctx: ScopedContext): {region: Region; key: StoredKey} {
  const region = kmsRegion(ctx)
  const key = findKey(ctx.state, region.slug, ctx.scope, ctx.params.id)
  if (key === undefined) throw notFound('key not found')
  return {region, key}
}

export function requireActive(key: StoredKey): void {
  if (key.status === 'disabled') throw badRequest(`key ${key.slug} is disabled`)
  if (key.status === 'pending_deletion') throw badRequest(`key ${key.slug} is pending deletion`)
}

/** A specific version, or the latest when `version` is undefined. */
export function keyVersion(key: StoredKey, version: number | undefined): KeyVersion {
  const v = version === undefined ? key.versions[key.versions.length - 1] : key.versions.find((x) => x.version === version)
  if (v === undefined) throw badRequest(`key version ${version} does not exist`)
  return v
}

/** Bumps the bookkeeping fields after a change to `key`. */
export function touch(key: StoredKey, now: number): void {
  key.updatedAt = now
  key.objectVersion += 1
}

/**
 * Runs `op` on `key` and records `action` with the outcome's status, whether it succeeded or threw.
 * `op` fills `details` (key version, payload size) as it learns them.
 */
export async function audited(
  ctx: ScopedContext, action: string, key: StoredKey, op: (details: KeyEventDetails) => Reply | Promise<Reply>,
): Promise<Reply> {
  const details: KeyEventDetails = {}
  try {
    const reply = await op(details)
    recordKeyEvent(ctx, action, key, reply.status, details)
    return reply
  } catch (e) {
    recordKeyEvent(ctx, action, key, e instanceof HttpError ? e.status : 500, details)
    throw e
  }
}
