/**
 * Secrets Manager routes (§6): list (`?pathPrefix=`), browse (`?path=`), create, metadata, reveal and delete.
 * Values are really encrypted with the bound KMS key (same region and scope, active, symmetric); metadata shows
 * the key as a nested `kmsKey` object and never the value. Create and reveal write kms.encrypt / kms.decrypt.
 */
import {randomBytes} from 'node:crypto'
import {recordKeyEvent} from '../audit.js'
import {decryptBytes, encryptBytes, formatVersioned, isSymmetric, parseVersioned} from '../crypto-engine.js'
import {badRequest, conflict, created, noContent, notFound, ok, type Reply} from '../http.js'
import {orgRoute, type Route, type ScopedContext} from '../router.js'
import {findKey, findKeyByIdentity, inScope, latestVersion, type Region, type SecretVersion, type StoredSecret} from '../state.js'
import {decodeBase64, optInt, optString, optStringMap, reqString, type Body} from '../validate.js'
import {secretView} from '../views.js'
import {audited, keyVersion, kmsRegion, requireActive} from './kms-common.js'

const MAX_VALUE = 65535

const secretsRegion = (ctx: ScopedContext): Region =>
  kmsRegion(ctx, ctx.params.region, `Secrets Manager needs KMS: enable KMS for organisation ${ctx.org.slug} first`)

/** §6.5: leading '/', 1–512 characters of A–Z a–z 0–9 / _ - . +, no trailing '/', no '//'. */
function validateSecretPath(path: string): string {
  if (!/^\/[A-Za-z0-9/_.+-]*$/.test(path) || path.length > 512) {
    throw badRequest('path must start with / and use only A-Z a-z 0-9 / _ - . + (at most 512 characters)')
  }
  if (path.endsWith('/') || path.includes('//')) throw badRequest('path must not end with / or contain //')
  return path
}

const inRegionScope = (ctx: ScopedContext, region: Region) => (s: StoredSecret) => s.regionSlug === region.slug && inScope(s, ctx.scope)

function listOrBrowse(ctx: ScopedContext): Reply {
  const region = secretsRegion(ctx)
  const mine = ctx.state.secrets.filter(inRegionScope(ctx, region)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const dirParam = ctx.query.get('path')
  if (dirParam === null) {
    const prefix = ctx.query.get('pathPrefix') ?? '/'
    return ok(mine.filter((s) => s.path.startsWith(prefix)).map((s) => secretView(ctx.state, s)))
  }
  if (!dirParam.startsWith('/')) throw badRequest('path must start with /')
  const dir = dirParam.endsWith('/') ? dirParam : `${dirParam}/`
  const prefixes = new Set<string>()
  const secrets: StoredSecret[] = []
  for (const s of mine.filter((x) => x.path.startsWith(dir))) {
    const rest = s.path.slice(dir.length)
    if (rest.includes('/')) prefixes.add(`${dir}${rest.split('/')[0]}/`)
    else secrets.push(s)
  }
  return ok({path: dir, prefixes: [...prefixes], secrets: secrets.map((s) => secretView(ctx.state, s))})
}

/** The plaintext to store, from exactly one of secretString / secretKeyValues / generateSecret. */
function secretValue(body: Body): {kind: SecretVersion['valueKind']; bytes: Buffer} {
  const given = ['secretString', 'secretKeyValues', 'generateSecret'].filter((f) => body[f] !== undefined && body[f] !== null)
  if (given.length !== 1) throw badRequest('give exactly one of secretString, secretKeyValues or generateSecret')
  let value: {kind: SecretVersion['valueKind']; bytes: Buffer}
  if (given[0] === 'secretString') {
    value = {kind: 'string', bytes: decodeBase64(reqString(body, 'secretString', 2 * MAX_VALUE), 'secretString')}
  } else if (given[0] === 'secretKeyValues') {
    const map = optStringMap(body, 'secretKeyValues') ?? {}
    for (const [k, v] of Object.entries(map)) decodeBase64(v, `secretKeyValues.${k}`)
    value = {kind: 'keyValues', bytes: Buffer.from(JSON.stringify(map))}
  } else {
    const gen = body.generateSecret
    if (gen === null || typeof gen !== 'object' || Array.isArray(gen)) throw badRequest('generateSecret must be an object {byteLength}')
    const byteLength = optInt(gen as Body, 'byteLength', 1, 4096)
    if (byteLength === undefined) throw badRequest('generateSecret.byteLength is required')
    value = {kind: 'string', bytes: randomBytes(byteLength)}
  }
  if (value.bytes.length < 1 || value.bytes.length > MAX_VALUE) throw badRequest(`the secret value must be 1..${MAX_VALUE} bytes`)
  return value
}

function createSecret(ctx: ScopedContext): Reply {
  const region = secretsRegion(ctx)
  const body = ctx.body()
  const path = validateSecretPath(reqString(body, 'path', 512))
  const keyRef = reqString(body, 'kmsKeyIdentity', 255)
  const key = findKey(ctx.state, region.slug, ctx.scope, keyRef)
  if (key === undefined) throw notFound('kms key not found in this region and scope')
  if (!isSymmetric(key.keyType)) throw badRequest('kmsKeyIdentity must be a symmetric key (aes128-gcm96, aes256-gcm96, chacha20-poly1305)')
  requireActive(key)
  const value = secretValue(body)
  if (ctx.state.secrets.some((s) => s.path === path && inRegionScope(ctx, region)(s))) throw conflict(`secret ${path} already exists`)
  const v = latestVersion(key)
  const now = ctx.now
  const secret: StoredSecret = {
    path, regionSlug: region.slug, orgIdentity: ctx.org.identity, projectIdentity: ctx.project?.identity,
    description: optString(body, 'description', 1024), labels: optStringMap(body, 'labels') ?? {},
    annotations: optStringMap(body, 'annotations') ?? {}, kmsKeyIdentity: key.identity,
    versions: [{version: 1, createdAt: now, kmsKeyVersion: v.version, valueKind: value.kind,
      ciphertext: formatVersioned(v.version, encryptBytes(key.keyType, v.material, value.bytes))}],
    currentVersion: 1, createdAt: now, updatedAt: now, objectVersion: 1,
  }
  ctx.state.secrets.push(secret)
  recordKeyEvent(ctx, 'kms.encrypt', key, 201, {keyVersion: v.version, payloadSize: value.bytes.length, secretPath: path})
  return created(secretView(ctx.state, secret))
}

function findSecret(ctx: ScopedContext, path: string): StoredSecret {
  const region = secretsRegion(ctx)
  const s = ctx.state.secrets.find((x) => x.path === path && inRegionScope(ctx, region)(x))
  if (s === undefined) throw notFound('secret not found')
  return s
}

function reveal(ctx: ScopedContext, path: string): Promise<Reply> {
  const secret = findSecret(ctx, path)
  const wanted = optInt(ctx.body(), 'version', 1, Number.MAX_SAFE_INTEGER) ?? secret.currentVersion
  const version = secret.versions.find((v) => v.version === wanted)
  if (version === undefined) throw notFound(`secret version ${wanted} not found`)
  const key = findKeyByIdentity(ctx.state, secret.kmsKeyIdentity)
  if (key === undefined) throw badRequest('the KMS key of this secret no longer exists')
  return audited(ctx, 'kms.decrypt', key, (details) => {
    details.secretPath = secret.path
    details.keyVersion = version.kmsKeyVersion
    requireActive(key)
    const parsed = parseVersioned(version.ciphertext, 'stored ciphertext')
    const plaintext = decryptBytes(key.keyType, keyVersion(key, parsed.version).material, parsed.data)
    details.payloadSize = plaintext.length
    secret.lastAccessedAt = ctx.now
    const value = version.valueKind === 'string'
      ? {secretString: plaintext.toString('base64')}
      : {secretKeyValues: JSON.parse(plaintext.toString('utf8')) as Record<string, string>}
    return ok({path: secret.path, version: version.version, ...value, kmsKeyIdentity: key.identity, kmsKeyVersion: String(version.kmsKeyVersion)})
  })
}

function secretAction(ctx: ScopedContext): Reply | Promise<Reply> {
  const full = ctx.params.path
  if (full.endsWith('/value')) return reveal(ctx, full.slice(0, -'/value'.length))
  throw notFound('route not found')
}

function deleteSecret(ctx: ScopedContext): Reply {
  const secret = findSecret(ctx, ctx.params.path)
  ctx.state.secrets = ctx.state.secrets.filter((s) => s !== secret)
  return noContent()
}

export const secretRoutes: Route[] = [
  orgRoute('GET', '/v1/secrets/:region/secrets', listOrBrowse),
  orgRoute('POST', '/v1/secrets/:region/secrets', createSecret),
  orgRoute('GET', '/v1/secrets/:region/secret/*path', (ctx) =>
    ok(secretView(ctx.state, findSecret(ctx, ctx.params.path), ctx.query.get('includeVersions') === 'true'))),
  orgRoute('POST', '/v1/secrets/:region/secret/*path', secretAction),
  orgRoute('DELETE', '/v1/secrets/:region/secret/*path', deleteSecret),
]
