/**
 * The preflight shared by `export:request` and `export`: region guard, key resolution and key-state (active),
 * the key's `exportAllowed` flag, the key version to export, and who the caller is. Both commands must agree on
 * these, because the approval binds exactly what `export:request` resolved and `export` compares against it.
 */
import type {KmsKey} from '../api/schemas.js'
import {guardRefused, usageError} from '../cli/errors.js'
import type {GuardResult} from '../guards/types.js'
import type {OperationContext} from './context.js'
import {preflightKey, withGuards} from './common.js'

export interface ExportTarget {
  key: KmsKey
  keyVersion: number
}

export interface Caller {
  subject: string
  name?: string
  email?: string
}

/** Region → key (active) → exportAllowed → key version. Verdicts go to `guards`; refusals carry them. */
export async function preflightExport(ctx: OperationContext, input: {region: string; key: string; keyVersion?: number; operation: string}, guards: GuardResult[]): Promise<ExportTarget> {
  const key = await preflightKey(ctx, {region: input.region, key: input.key, operation: input.operation, allowed: ['active']}, guards)
  if (!key.exportAllowed) {
    const guard: GuardResult = {guard: 'key-state', outcome: 'fail', message: `${key.slug} was created without exportAllowed: its material can never be exported`, details: {exportAllowed: false}}
    throw guardRefused('EXPORT_NOT_ALLOWED', guard.message, {guards: [...guards, guard], hint: 'exportAllowed can only be set when a key is created (`kmsguard create … --allow-export --reason …`); it cannot be turned on later.'})
  }
  guards.push({guard: 'key-state', outcome: 'pass', message: `${key.slug} allows export (exportAllowed)`})
  const keyVersion = await withGuards(guards, async () => resolveKeyVersion(key, input.keyVersion))
  return {key, keyVersion}
}

/** The requested version (it must exist) or the latest one. A version that does not exist is a usage error. */
export function resolveKeyVersion(key: KmsKey, requested: number | undefined): number {
  const known = key.versions?.map((v) => v.version) ?? (key.latestVersion === undefined ? [] : Array.from({length: key.latestVersion}, (_, i) => i + 1))
  const latest = key.latestVersion ?? (known.length > 0 ? Math.max(...known) : undefined)
  if (requested === undefined) {
    if (latest === undefined) throw usageError(`${key.slug} reports no key versions; pass --key-version N`, undefined, 'KEY_VERSION_UNKNOWN')
    return latest
  }
  if (!Number.isInteger(requested) || requested < 1) throw usageError(`--key-version must be a positive whole number, got ${requested}`)
  if (!known.includes(requested)) {
    throw usageError(`${key.slug} has no version ${requested}`, known.length > 0 ? `Existing versions: ${known.join(', ')} (latest ${latest}).` : undefined, 'KEY_VERSION_NOT_FOUND')
  }
  return requested
}

/** Who holds the token (user of any organisation membership), or undefined when the API does not say. */
export async function findCaller(ctx: OperationContext): Promise<Caller | undefined> {
  const members = await ctx.api.identity.memberships()
  const org = ctx.api.transport.organisation
  const user = (members.find((m) => m.user?.subject && (m.organisation?.identity === org || m.organisation?.slug === org)) ?? members.find((m) => m.user?.subject))?.user
  return user?.subject ? {subject: user.subject, name: user.name, email: user.email} : undefined
}

