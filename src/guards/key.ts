/**
 * Key resolution and the key-state guard. KEY may be an identity (kms-…), a slug or an exact name. The API
 * resolves identity and slug directly; a name is matched exactly against the region's list, and more than one
 * match is an input error that lists the candidates rather than a guess.
 */
import type {Api} from '../api/index.js'
import type {KmsKey} from '../api/schemas.js'
import {ApiError, ExitCode, KmsGuardError, guardRefused, usageError} from '../cli/errors.js'
import type {GuardResult} from './types.js'

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F]/

export function validateKeyArg(key: string): string {
  if (CONTROL.test(key)) throw usageError('KEY contains control characters (a tab, newline or escape): give a key identity (kms-…), slug or exact name')
  const k = key.trim()
  if (k.length === 0) throw usageError('KEY must not be empty: give a key identity (kms-…), slug or exact name')
  if (k.length > 255) throw usageError('KEY is longer than 255 characters: not a key identity, slug or name')
  return k
}

export async function resolveKey(api: Api, region: string, keyArg: string): Promise<KmsKey> {
  const key = validateKeyArg(keyArg)
  try {
    return await api.kms.getKey(region, key)
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error
  }
  const all = await api.kms.listKeys(region)
  const byName = all.filter((k) => k.name === key)
  if (byName.length === 1) return api.kms.getKey(region, byName[0].identity)
  if (byName.length > 1) {
    throw new KmsGuardError('KEY_AMBIGUOUS', ExitCode.USAGE, `"${key}" names ${byName.length} keys in ${region}; give the identity or slug instead`, {details: {candidates: byName.map((k) => ({identity: k.identity, slug: k.slug, status: k.status, projectId: k.projectId}))}, hint: `Candidates: ${byName.map((k) => `${k.identity} (${k.slug})`).join(', ')}`})
  }
  const scope = api.transport.project ? `project ${api.transport.project}` : 'the organisation scope'
  throw new ApiError('KEY_NOT_FOUND', `no key "${key}" in ${region} (${scope})`, {endpoint: `GET /v1/kms/${region}/keys/${key}`, status: 404, hint: 'Check the region and --project; KMS also answers 404 when you lack read permission on the key.'})
}

export type RequiredState = 'active' | 'disabled' | 'pending_deletion'

const FIX: Record<string, (slug: string, region: string) => string> = {
  disabled: (s, r) => `kmsguard enable ${s} -r ${r}`,
  pending_deletion: (s, r) => `kmsguard cancel-deletion ${s} -r ${r}`,
  active: (s, r) => `kmsguard disable ${s} -r ${r} --reason "…"`,
}

/** Passes when the key is in one of `allowed`; otherwise fails with the command that would fix it. */
export function keyStateGuard(key: KmsKey, region: string, operation: string, allowed: RequiredState[], prior: GuardResult[] = []): GuardResult {
  if (allowed.includes(key.status as RequiredState)) return {guard: 'key-state', outcome: 'pass', message: `${key.slug} (${key.identity}) is ${key.status}`}
  const fix = allowed.length === 1 && allowed[0] !== key.status ? fixFor(key, region, allowed[0]) : undefined
  const guard: GuardResult = {guard: 'key-state', outcome: 'fail', message: `${operation} needs the key to be ${allowed.join(' or ')}, but ${key.slug} is ${key.status}`, details: {status: key.status, required: allowed}}
  throw guardRefused('KEY_STATE', guard.message, {guards: [...prior, guard], hint: fix ? `First: ${fix}` : undefined})
}

function fixFor(key: KmsKey, region: string, wanted: RequiredState): string | undefined {
  if (wanted === 'active') return FIX[key.status]?.(key.slug, region)
  if (wanted === 'disabled' && key.status === 'active') return FIX.active(key.slug, region)
  if (wanted === 'disabled' && key.status === 'pending_deletion') return FIX.pending_deletion(key.slug, region)
  return undefined
}
