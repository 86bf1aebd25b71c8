/**
 * DNS routes (§7): zones (list, create, get, delete; `{zone}` is the identity `dnsz-…` or the zone name) and the
 * zone's DNSSEC binding to a KMS key (GET / PUT / DELETE …/dnssec). PUT binds an active DNSSEC-capable key of the
 * same region and scope, or creates the `DNSSEC {zone}` ecdsa-p256 key when none is given. The DS record is
 * "seen at the parent" 30 s (emulator clock) after signing was enabled.
 */
import {recordKeyEvent} from '../audit.js'
import {generateMaterial, isDnssecCapable} from '../crypto-engine.js'
import {dsRecord} from '../dnssec.js'
import {badRequest, conflict, created, noContent, notFound, ok, type Reply} from '../http.js'
import {orgRoute, type Route, type ScopedContext} from '../router.js'
import {
  findKey, findKeyByIdentity, inScope, latestVersion, newId, slugify, type EmulatorState, type Region, type StoredKey,
  type StoredZone,
} from '../state.js'
import {labelSelector, optString, optStringMap, reqString} from '../validate.js'
import {iso, zoneView} from '../views.js'
import {kmsRegion, requireActive} from './kms-common.js'

const DS_PROPAGATION_MS = 30_000

const ZONE_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

const normalizeZoneName = (name: string) => name.toLowerCase().replace(/\.$/, '')

function findZone(ctx: ScopedContext): StoredZone {
  const ref = normalizeZoneName(ctx.params.zone)
  const zone = ctx.state.zones.find((z) => inScope(z, ctx.scope) && (z.identity === ctx.params.zone || z.name === ref))
  if (zone === undefined) throw notFound('zone not found')
  return zone
}

function listZones(ctx: ScopedContext): Reply {
  const labelsMatch = labelSelector(ctx.query)
  const zones = ctx.state.zones.filter((z) => inScope(z, ctx.scope) && labelsMatch(z.labels))
  return ok(zones.map(zoneView))
}

function createZone(ctx: ScopedContext): Reply {
  const body = ctx.body()
  const name = normalizeZoneName(reqString(body, 'zoneName', 254))
  if (!ZONE_NAME.test(name) || !name.includes('.')) throw badRequest('zoneName must be a fully qualified domain name')
  if (ctx.state.zones.some((z) => z.orgIdentity === ctx.org.identity && z.name === name)) throw conflict(`zone ${name} already exists`)
  const zone: StoredZone = {
    identity: newId('dnsz'), name, slug: slugify(name), orgIdentity: ctx.org.identity, projectIdentity: ctx.project?.identity,
    description: optString(body, 'description', 1024), labels: optStringMap(body, 'labels') ?? {},
    annotations: optStringMap(body, 'annotations') ?? {}, createdAt: ctx.now, updatedAt: ctx.now, objectVersion: 1,
  }
  ctx.state.zones.push(zone)
  return created(zoneView(zone))
}

/** The DnsZoneDnssecStatus of §7.2 for `zone` at time `now`. */
function dnssecStatus(state: EmulatorState, zone: StoredZone, now: number) {
  const d = zone.dnssec
  if (d === undefined) return {enabled: false, dsDelegated: false, dsRecords: []}
  const key = findKeyByIdentity(state, d.kmsKeyIdentity)
  const delegatedAt = d.enabledAt + DS_PROPAGATION_MS
  const delegated = now >= delegatedAt
  const signError = key === undefined ? `KMS key ${d.kmsKeyIdentity} no longer exists`
    : key.status !== 'active' ? `KMS key ${key.slug} is ${key.status}` : null
  return {
    enabled: true,
    dsDelegated: delegated,
    dsRecords: key === undefined ? [] : [dsRecord(zone.name, key.keyType, latestVersion(key).material)],
    lastSignedAt: delegated && signError === null ? iso(delegatedAt) : undefined,
    lastSignError: signError,
    nextDsProbeAt: delegated ? undefined : iso(delegatedAt),
    kmsKeyIdentity: d.kmsKeyIdentity,
    region: d.regionSlug,
  }
}

/** The `DNSSEC {zone}` ecdsa-p256 key of the zone's scope, created when missing. */
async function autoKey(ctx: ScopedContext, region: Region, zone: StoredZone): Promise<StoredKey> {
  const name = `DNSSEC ${zone.name}`
  const slug = slugify(name)
  const existing = () => findKey(ctx.state, region.slug, ctx.scope, slug)
  const found = existing()
  if (found !== undefined) {
    if (found.keyType !== 'ecdsa-p256' || found.status !== 'active') throw conflict(`key ${slug} exists but is not an active ecdsa-p256 key`)
    return found
  }
  const material = await generateMaterial('ecdsa-p256')
  const raced = existing()
  if (raced !== undefined) return raced
  const now = ctx.now
  const key: StoredKey = {
    identity: newId('kms'), name, slug, description: `DNSSEC signing key for ${zone.name}`, labels: {}, annotations: {},
    orgIdentity: ctx.org.identity, regionSlug: region.slug, projectIdentity: ctx.project?.identity, keyType: 'ecdsa-p256',
    status: 'active', exportAllowed: false, imported: false, allowRotation: false, keyRotationEnabled: false,
    versions: [{version: 1, createdAt: now, material}], createdAt: now, updatedAt: now, objectVersion: 1,
  }
  ctx.state.keys.push(key)
  recordKeyEvent(ctx, 'kms.key.create', key, 201, {keyVersion: 1})
  return key
}

async function enableDnssec(ctx: ScopedContext): Promise<Reply> {
  const zone = findZone(ctx)
  const body = ctx.body()
  const region = kmsRegion(ctx, reqString(body, 'region', 64), `DNSSEC needs KMS: enable KMS for organisation ${ctx.org.slug} first`)
  const keyRef = optString(body, 'kmsKeyIdentity', 255)
  let key: StoredKey
  if (keyRef === undefined || keyRef === '') {
    key = await autoKey(ctx, region, zone)
  } else {
    const found = findKey(ctx.state, region.slug, ctx.scope, keyRef)
    if (found === undefined) throw notFound('kms key not found in this region and scope')
    if (!isDnssecCapable(found.keyType)) throw badRequest('DNSSEC needs an ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096 key')
    requireActive(found)
    key = found
  }
  zone.dnssec = {regionSlug: region.slug, kmsKeyIdentity: key.identity, enabledAt: ctx.now}
  zone.updatedAt = ctx.now
  zone.objectVersion += 1
  return ok(dnssecStatus(ctx.state, zone, ctx.now))
}

function disableDnssec(ctx: ScopedContext): Reply {
  const zone = findZone(ctx)
  zone.dnssec = undefined
  zone.updatedAt = ctx.now
  zone.objectVersion += 1
  return ok(dnssecStatus(ctx.state, zone, ctx.now))
}

function deleteZone(ctx: ScopedContext): Reply {
  const zone = findZone(ctx)
  ctx.state.zones = ctx.state.zones.filter((z) => z !== zone)
  return noContent()
}

export const dnsRoutes: Route[] = [
  orgRoute('GET', '/v1/dns/zones', listZones),
  orgRoute('POST', '/v1/dns/zones', createZone),
  orgRoute('GET', '/v1/dns/zones/:zone', (ctx) => ok(zoneView(findZone(ctx)))),
  orgRoute('DELETE', '/v1/dns/zones/:zone', deleteZone),
  orgRoute('GET', '/v1/dns/zones/:zone/dnssec', (ctx) => ok(dnssecStatus(ctx.state, findZone(ctx), ctx.now))),
  orgRoute('PUT', '/v1/dns/zones/:zone/dnssec', enableDnssec),
  orgRoute('DELETE', '/v1/dns/zones/:zone/dnssec', disableDnssec),
]
