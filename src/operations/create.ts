/**
 * create: input validation (exit 2, nothing sent) → policy (export is break-glass and permanent; symmetric keys
 * rotate automatically; a purpose label is expected) → region guard → confirmation (y/N or --yes; an
 * exportable key interactively needs its slug typed) → one POST /v1/kms/{region}/keys. A 409 means the slug
 * derived from the name is taken: the existing key is looked up and shown.
 */
import type {CreateKeyBody} from '../api/kms.js'
import {ApiError, ExitCode, KmsGuardError, usageError} from '../cli/errors.js'
import {KEY_TYPE_NAMES, findKeyType, type KeyTypeInfo} from '../crypto/material.js'
import {createPolicy, enforcePolicy, parseRotationDays} from '../guards/policy.js'
import {regionGuard} from '../guards/region.js'
import type {GuardResult} from '../guards/types.js'
import type {OperationContext} from './context.js'
import {keySummary, requireReason, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'

export interface CreateInput {
  region: string
  name?: string
  keyType?: string
  description?: string
  labels?: Record<string, string>
  /** Days, as typed (validated here), or a number. */
  rotationPeriod?: string | number
  noRotation?: boolean
  allowExport?: boolean
  reason?: string
  yes?: boolean
  dryRun: boolean
}

export interface CreatedKey extends KeySummary {
  exportAllowed: boolean
  keyRotationEnabled: boolean
  rotationPeriodInDays?: number
  labels?: Record<string, string>
}

export interface CreateResult {
  /** The key as created; in a dry run, what would be asked for. */
  key?: CreatedKey
  /** The slug the API derives from the name (the key's URL-safe id; unique per region and scope). */
  slug: string
  request: CreateKeyBody
  planned: PlannedCall[]
}

/** The API's slug rule: lower case, every run of other characters one '-', none at the ends. */
export const slugFromName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F]/
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\u0000-\u001F\u007F]/

interface ValidCreate {
  name: string
  slug: string
  keyType: KeyTypeInfo
  description?: string
  labels: Record<string, string>
  rotationPeriodDays?: number
  reason?: string
}

/** Every input check that needs no request: the caller gets exit 2 and nothing is sent. */
function validateCreate(input: CreateInput): ValidCreate {
  const name = input.name ?? ''
  if (name.trim().length === 0) throw usageError('--name is required: 1–255 characters, the key\'s immutable name')
  if (name.length > 255) throw usageError(`--name is ${name.length} characters; at most 255 are allowed`)
  if (CONTROL_OR_NEWLINE.test(name)) throw usageError('--name must not contain control characters')
  const slug = slugFromName(name)
  if (slug === '') throw usageError(`--name "${name}" needs at least one letter or digit: the key's slug is derived from it`)
  const typeList = `Key types: ${KEY_TYPE_NAMES.join(', ')} (aes256-gcm96 is the recommended default).`
  if (!input.keyType) throw usageError('--type is required', typeList, 'UNKNOWN_KEY_TYPE')
  const keyType = findKeyType(input.keyType)
  if (!keyType) throw usageError(`--type "${input.keyType}" is not a key type`, typeList, 'UNKNOWN_KEY_TYPE')
  if (input.description !== undefined && input.description.length > 1024) throw usageError(`--description is ${input.description.length} characters; at most 1024 are allowed`)
  if (input.description !== undefined && CONTROL.test(input.description)) throw usageError('--description must not contain control characters (other than newlines and tabs)')
  const rotationPeriodDays = parseRotationDays(input.rotationPeriod, '--rotation-period')
  if (rotationPeriodDays !== undefined && input.noRotation) throw usageError('--rotation-period and --no-rotation exclude each other')
  const reason = input.reason?.trim() ? requireReason(input.reason, '--reason', '') : undefined
  return {name, slug, keyType, description: input.description || undefined, labels: input.labels ?? {}, rotationPeriodDays, reason}
}

export async function createKey(ctx: OperationContext, input: CreateInput): Promise<OperationOutcome<CreateResult>> {
  const spec = validateCreate(input)
  ctx.journal.region = input.region
  const policy = createPolicy({keyType: spec.keyType, labels: spec.labels, allowExport: Boolean(input.allowExport), reason: spec.reason, rotationPeriodDays: spec.rotationPeriodDays, noRotation: Boolean(input.noRotation), defaultRotationDays: ctx.config.settings.rotationPeriodDays})
  // Policy failures today are all missing flags: refuse before any request.
  enforcePolicy(policy.guards)
  if (policy.overrides.length > 0) ctx.journal.overrides = [...(ctx.journal.overrides ?? []), ...policy.overrides]
  ctx.journal.details = {...ctx.journal.details, keyType: spec.keyType.name, exportAllowed: policy.exportAllowed, rotationPeriodInDays: policy.rotation.rotationPeriodInDays ?? null, ...(spec.reason ? {reason: spec.reason} : {})}

  const guards: GuardResult[] = []
  const region = await withGuards(guards, () => regionGuard(ctx.api, input.region, guards))
  guards.push(region.guard, ...policy.guards)

  const request: CreateKeyBody = {
    name: spec.name,
    keyType: spec.keyType.name,
    ...(spec.description ? {description: spec.description} : {}),
    ...(Object.keys(spec.labels).length > 0 ? {labels: spec.labels} : {}),
    exportAllowed: policy.exportAllowed,
    ...policy.rotation,
  }
  const planned: PlannedCall[] = [{method: 'POST', path: `/v1/kms/${input.region}/keys`, body: {...request}}]
  const base = {slug: spec.slug, request, planned}
  if (input.dryRun) return {result: base, guards, warnings: [], dryRun: true}

  ctx.journal.confirmation = await withGuards(guards, () => confirmCreate(ctx, input, spec, request))
  // A 400 keeps the API's message (the transport puts it in the error); a 409 is explained.
  const created = await withGuards(guards, () => ctx.api.kms.createKey(input.region, request)).catch(async (error: unknown) => {
    throw error instanceof ApiError && error.status === 409 ? await conflictError(ctx, input.region, spec, error, guards) : error
  })
  ctx.journal.key = {identity: created.identity, slug: created.slug, name: created.name}
  ctx.journal.summary = `created ${created.slug} (${created.keyType}${created.exportAllowed ? ', exportable' : ''})`
  const key: CreatedKey = {...keySummary(created), exportAllowed: created.exportAllowed, keyRotationEnabled: created.keyRotationEnabled, rotationPeriodInDays: created.rotationPeriodInDays, labels: created.labels}
  return {result: {...base, key, slug: created.slug}, guards, warnings: [], dryRun: false}
}

/**
 * y/N (or --yes) for an ordinary key. An exportable key is permanent, so interactively (without --yes) the
 * operator types the slug-to-be; non-interactively --yes with the --reason already checked is the consent.
 */
function confirmCreate(ctx: OperationContext, input: CreateInput, spec: ValidCreate, request: CreateKeyBody) {
  const where = `in ${input.region}${ctx.api.transport.project ? ` (project ${ctx.api.transport.project})` : ''}`
  if (request.exportAllowed && ctx.confirm.interactive && !input.yes) {
    return ctx.confirm.typed({action: `create ${spec.slug} ${where} with exportAllowed — break-glass, and it can never be changed afterwards`, accepted: [spec.slug]})
  }
  const rotation = request.keyRotationEnabled ? `rotating every ${request.rotationPeriodInDays} days` : 'without automatic rotation'
  const exportable = request.exportAllowed ? ', with exportAllowed (break-glass; permanent)' : ''
  return ctx.confirm.yesNo({question: `Create ${spec.keyType.name} key "${spec.name}" (slug ${spec.slug}) ${where}, ${rotation}${exportable}?`, yes: input.yes})
}

/** 409: the slug is taken in this region and scope. Look the holder up (by slug, then by name) and show it. */
async function conflictError(ctx: OperationContext, region: string, spec: ValidCreate, cause: ApiError, guards: GuardResult[]): Promise<KmsGuardError> {
  const existing = await findExisting(ctx, region, spec)
  const scope = ctx.api.transport.project ? `project ${ctx.api.transport.project}` : 'the organisation scope'
  const holder = existing ? `: ${existing.identity} ("${existing.name}", ${existing.keyType}, ${existing.status}, version ${existing.latestVersion ?? '?'})` : ' (kmsguard could not look it up)'
  const hint = !existing
    ? `Pick another --name, or find the key: kmsguard list -r ${region}.`
    : existing.status === 'pending_deletion'
      ? `That key is pending deletion and still holds the slug: kmsguard cancel-deletion ${existing.slug} -r ${region} to keep using it, or pick another --name.`
      : `Use the existing key (kmsguard get ${existing.slug} -r ${region}) or pick another --name.`
  return new KmsGuardError('CONFLICT', ExitCode.API, `a key with slug ${spec.slug} already exists in ${region} (${scope})${holder}; a slug is derived from the name and unique per region and scope`, {hint, guards, cause, details: {slug: spec.slug, existing, apiMessage: cause.apiMessage}})
}

async function findExisting(ctx: OperationContext, region: string, spec: ValidCreate): Promise<KeySummary | undefined> {
  try {
    return keySummary(await ctx.api.kms.getKey(region, spec.slug))
  } catch {
    // not under the derived slug (the API may derive it differently): try the exact name
  }
  try {
    const byName = (await ctx.api.kms.listKeys(region, {name: spec.name})).find((k) => k.name === spec.name)
    return byName ? keySummary(byName) : undefined
  } catch {
    return undefined
  }
}
