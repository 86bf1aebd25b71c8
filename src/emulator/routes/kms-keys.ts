/**
 * KMS key management routes (§2 of the fact sheet): summary, list, get, create / BYOK import, wrapping key,
 * public key, rotation settings, rotate, disable, enable, schedule deletion and cancel deletion.
 * The crypto operations live in kms-crypto.ts.
 */
import {recordKeyEvent} from '../audit.js'
import {
  canHmac, generateMaterial, generateWrappingKey, isAsymmetric, publicKeyText, unwrapImportedMaterial, validateMaterial,
  WRAPPING_ALGORITHM, wrappingPublicKeyPem,
} from '../crypto-engine.js'
import {badRequest, conflict, created, notFound, ok, type Reply} from '../http.js'
import {orgRoute, type Route, type ScopedContext} from '../router.js'
import {
  DELETION_WINDOW_MS, findKey, inScope, KEY_TYPES, newId, slugify, type KeyStatus, type KeyType, type Region,
  type StoredKey,
} from '../state.js'
import {decodeBase64, labelSelector, optBool, optInt, optString, optStringMap, reqString, type Body} from '../validate.js'
import {keyView} from '../views.js'
import {audited, kmsRegion, pathKey, requireActive, requireKmsFeature, touch} from './kms-common.js'

const MAX_ROTATION_DAYS = 3650

function summary(ctx: ScopedContext): Reply {
  if (!ctx.org.settings.kmsFeatureEnabled && ctx.org.settings.kmsGateMode === 'summary') return ok({featureEnabled: false, regions: []})
  requireKmsFeature(ctx)
  const regions = ctx.state.regions.map((r) => {
    const keys = ctx.state.keys.filter((k) => k.regionSlug === r.slug && inScope(k, ctx.scope))
    const count = (s: KeyStatus) => keys.filter((k) => k.status === s).length
    return {
      identity: r.identity, name: r.name, slug: r.slug, kmsAvailable: r.kmsAvailable,
      totalKeys: keys.length, activeKeys: count('active'), disabledKeys: count('disabled'), pendingDeletionKeys: count('pending_deletion'),
    }
  })
  return ok({featureEnabled: true, regions})
}

function listKeys(ctx: ScopedContext): Reply {
  const region = kmsRegion(ctx)
  const q = ctx.query
  const labelsMatch = labelSelector(q)
  const eq = (field: string, value: string) => q.get(field) === null || q.get(field) === value
  const keys = ctx.state.keys.filter((k) =>
    k.regionSlug === region.slug && inScope(k, ctx.scope) &&
    eq('identity', k.identity) && eq('name', k.name) && eq('slug', k.slug) && eq('status', k.status) &&
    labelsMatch(k.labels))
  return ok(keys.map((k) => keyView(ctx.state, k)))
}

function parseKeyType(body: Body): KeyType {
  const t = reqString(body, 'keyType', 64)
  if (!(KEY_TYPES as readonly string[]).includes(t)) throw badRequest(`keyType must be one of: ${KEY_TYPES.join(', ')}`)
  return t as KeyType
}

/** Unwraps and validates BYOK material (HMAC types cannot be imported). */
function importedMaterial(region: Region, keyType: KeyType, body: Body, wrapped: string): Buffer {
  if (canHmac(keyType)) throw badRequest('HMAC keys cannot be imported')
  const hashFunction = optString(body, 'hashFunction', 32)
  if (hashFunction !== undefined && !['sha256', 'sha-256'].includes(hashFunction.toLowerCase())) {
    throw badRequest('hashFunction must be sha256')
  }
  if (region.wrappingKey === undefined) throw badRequest(`region ${region.slug} has no wrapping key yet: GET its wrapping-key first`)
  const material = unwrapImportedMaterial(region.wrappingKey.material, decodeBase64(wrapped, 'importKeyMaterial'))
  validateMaterial(keyType, material)
  return material
}

async function createKey(ctx: ScopedContext): Promise<Reply> {
  const region = kmsRegion(ctx)
  const body = ctx.body()
  const name = reqString(body, 'name', 255)
  const keyType = parseKeyType(body)
  const description = optString(body, 'description', 1024)
  const labels = optStringMap(body, 'labels') ?? {}
  const annotations = optStringMap(body, 'annotations') ?? {}
  const exportAllowed = optBool(body, 'exportAllowed') ?? false
  const keyRotationEnabled = optBool(body, 'keyRotationEnabled') ?? false
  const rotationPeriodInDays = optInt(body, 'rotationPeriodInDays', 1, MAX_ROTATION_DAYS)
  if (keyRotationEnabled && rotationPeriodInDays === undefined) throw badRequest('rotationPeriodInDays is required when keyRotationEnabled is true')
  const wrapped = optString(body, 'importKeyMaterial', 64 * 1024)
  const imported = wrapped !== undefined && wrapped !== ''
  const allowRotation = imported && (optBool(body, 'allowRotation') ?? false)
  if (imported && keyRotationEnabled && !allowRotation) throw badRequest('automatic rotation of an imported key needs allowRotation: true')
  const slug = slugify(name)
  if (slug === '') throw badRequest('name must contain at least one letter or digit')
  const duplicate = () => findKey(ctx.state, region.slug, ctx.scope, slug)?.slug === slug
  if (duplicate()) throw conflict(`a key with slug ${slug} already exists in this region and scope`)

  const material = imported ? importedMaterial(region, keyType, body, wrapped) : await generateMaterial(keyType)
  if (duplicate()) throw conflict(`a key with slug ${slug} already exists in this region and scope`)
  const now = ctx.now
  const key: StoredKey = {
    identity: newId('kms'), name, slug, description, labels, annotations,
    orgIdentity: ctx.org.identity, regionSlug: region.slug, projectIdentity: ctx.project?.identity,
    keyType, status: 'active', exportAllowed, imported, allowRotation, keyRotationEnabled, rotationPeriodInDays,
    versions: [{version: 1, createdAt: now, material}], createdAt: now, updatedAt: now, objectVersion: 1,
  }
  ctx.state.keys.push(key)
  recordKeyEvent(ctx, 'kms.key.create', key, 201, {keyVersion: 1, imported})
  return created(keyView(ctx.state, key))
}

const pendingWrappingKeys = new WeakMap<Region, Promise<Buffer>>()

/** The region's wrapping key, generated (once, even under concurrent calls) on first use. */
async function ensureWrappingKey(ctx: ScopedContext, region: Region): Promise<Buffer> {
  if (region.wrappingKey !== undefined) return region.wrappingKey.material
  let pending = pendingWrappingKeys.get(region)
  if (pending === undefined) {
    pending = generateWrappingKey().then((material) => {
      region.wrappingKey ??= {material, createdAt: ctx.now}
      ctx.markDirty()
      return region.wrappingKey.material
    }).finally(() => pendingWrappingKeys.delete(region))
    pendingWrappingKeys.set(region, pending)
  }
  return pending
}

async function wrappingKey(ctx: ScopedContext): Promise<Reply> {
  const region = kmsRegion(ctx)
  const material = await ensureWrappingKey(ctx, region)
  return ok({publicKey: wrappingPublicKeyPem(material), algorithm: WRAPPING_ALGORITHM})
}

function publicKey(ctx: ScopedContext): Reply {
  const {key} = pathKey(ctx)
  if (!isAsymmetric(key.keyType)) throw badRequest(`key type ${key.keyType} has no public key`)
  const v = ctx.query.get('version')
  if (v !== null && !/^[1-9][0-9]*$/.test(v)) throw badRequest('version must be a positive integer')
  const versions = v === null ? key.versions : key.versions.filter((x) => x.version === Number(v))
  if (versions.length === 0) throw notFound(`key version ${v} not found`)
  return ok({keys: Object.fromEntries(versions.map((x) => [String(x.version), publicKeyText(key.keyType, x.material)]))})
}

function updateRotation(ctx: ScopedContext): Promise<Reply> {
  const {key} = pathKey(ctx)
  return audited(ctx, 'kms.key.update_rotation', key, () => {
    const body = ctx.body()
    const enabled = optBool(body, 'keyRotationEnabled')
    const period = optInt(body, 'rotationPeriodInDays', 1, MAX_ROTATION_DAYS)
    if (enabled === undefined && period === undefined) throw badRequest('give keyRotationEnabled and/or rotationPeriodInDays')
    if (key.status === 'pending_deletion') throw badRequest(`key ${key.slug} is pending deletion`)
    const nextEnabled = enabled ?? key.keyRotationEnabled
    const nextPeriod = period ?? key.rotationPeriodInDays
    if (nextEnabled && nextPeriod === undefined) throw badRequest('rotationPeriodInDays is required when keyRotationEnabled is true')
    if (nextEnabled && key.imported && !key.allowRotation) throw badRequest('this imported key was created without allowRotation')
    key.keyRotationEnabled = nextEnabled
    key.rotationPeriodInDays = nextPeriod
    touch(key, ctx.now)
    return ok(keyView(ctx.state, key))
  })
}

function rotate(ctx: ScopedContext): Promise<Reply> {
  const {key} = pathKey(ctx)
  return audited(ctx, 'kms.rotate', key, async (details) => {
    requireActive(key)
    if (key.imported && !key.allowRotation) throw badRequest('this imported key was created without allowRotation')
    const material = await generateMaterial(key.keyType)
    requireActive(key)
    const version = key.versions.length + 1
    key.versions.push({version, createdAt: ctx.now, material})
    details.keyVersion = version
    touch(key, ctx.now)
    return ok(keyView(ctx.state, key))
  })
}

/** A lifecycle transition: allowed only from `from`, records `action`. */
function transition(action: string, from: KeyStatus[], apply: (key: StoredKey, now: number) => void) {
  return (ctx: ScopedContext): Promise<Reply> => {
    const {key} = pathKey(ctx)
    return audited(ctx, action, key, () => {
      if (!from.includes(key.status)) throw badRequest(`key ${key.slug} is ${key.status}; ${action} needs ${from.join(' or ')}`)
      apply(key, ctx.now)
      touch(key, ctx.now)
      return ok(keyView(ctx.state, key))
    })
  }
}

const setStatus = (status: KeyStatus) => (key: StoredKey) => {
  key.status = status
  key.deletionScheduledAt = undefined
}

function getKey(ctx: ScopedContext): Reply {
  return ok(keyView(ctx.state, pathKey(ctx).key))
}

export const kmsKeyRoutes: Route[] = [
  orgRoute('GET', '/v1/kms/summary', summary),
  orgRoute('GET', '/v1/kms/:region/keys', listKeys),
  orgRoute('POST', '/v1/kms/:region/keys', createKey),
  orgRoute('GET', '/v1/kms/:region/wrapping-key', wrappingKey),
  orgRoute('GET', '/v1/kms/:region/keys/:id', getKey),
  orgRoute('GET', '/v1/kms/:region/keys/:id/public-key', publicKey),
  orgRoute('PATCH', '/v1/kms/:region/keys/:id/rotation', updateRotation),
  orgRoute('POST', '/v1/kms/:region/keys/:id/rotate', rotate),
  orgRoute('POST', '/v1/kms/:region/keys/:id/disable', transition('kms.key.disable', ['active'], setStatus('disabled'))),
  orgRoute('POST', '/v1/kms/:region/keys/:id/enable', transition('kms.key.enable', ['disabled'], setStatus('active'))),
  orgRoute('DELETE', '/v1/kms/:region/keys/:id', transition('kms.key.delete', ['active', 'disabled'], (key, now) => {
    key.status = 'pending_deletion'
    key.deletionScheduledAt = now + DELETION_WINDOW_MS
  })),
  orgRoute('DELETE', '/v1/kms/:region/keys/:id/cancel-deletion', transition('kms.key.cancel_deletion', ['pending_deletion'], setStatus('active'))),
]
