import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {KmsKey} from '../../../src/api/schemas.js'
import {KmsGuardError} from '../../../src/cli/errors.js'
import {referencesGuard, scanReferences, type ScanReport} from '../../../src/guards/references.js'
import {testApi, testContext} from '../../helpers/context.js'
import {REGION, key, newWorld, secret, serve, started, timeoutError, type World} from './world.js'

const P1 = 'prj-alpha'
const P2 = 'prj-beta'
const projects = [{identity: P1, name: 'Alpha', slug: 'alpha'}, {identity: P2, name: 'Beta', slug: 'beta'}]

function scan(world: World, k: Record<string, unknown> = key(), extra: {timeoutMs?: number; signal?: AbortSignal; project?: string} = {}): Promise<ScanReport> {
  serve(world)
  const ctx = testContext({...(extra.signal ? {signal: extra.signal} : {}), ...(extra.project ? {api: testApi({project: extra.project})} : {})})
  return scanReferences(ctx, {region: REGION, key: KmsKey.parse(k), timeoutMs: extra.timeoutMs})
}

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

describe('scanReferences: what counts as a reference', () => {
  it('finds a secret in a project scope although the key is organisation-scoped, by identity, slug and flat kmsKeyIdentity', async () => {
    const world = newWorld({projects, secrets: {
      org: [secret('/org/unrelated', {identity: 'kms-other', slug: 'other'})],
      [P1]: [secret('/app/db', {identity: 'kms-app1'}), secret('/app/other', {identity: 'kms-zzz', slug: 'zzz'})],
      [P2]: [secret('/by-slug', {identity: 'app-key'}), secret('/by-nested-slug', {slug: 'app-key'}), secret('/legacy', {flat: 'kms-app1'})],
    }})
    const report = await scan(world)
    expect(report.complete).toBe(true)
    expect(report.references).toEqual(expect.arrayContaining([
      {type: 'secret', path: '/app/db', region: REGION, project: P1},
      {type: 'secret', path: '/by-slug', region: REGION, project: P2},
      {type: 'secret', path: '/by-nested-slug', region: REGION, project: P2},
      {type: 'secret', path: '/legacy', region: REGION, project: P2},
    ]))
    expect(report.references).toHaveLength(4)
    expect(report.scanned).toMatchObject({scopes: 3, secretLists: 3, secrets: 6, zoneLists: 3})
    // Every scope was read with the right header: organisation (none) and each project.
    expect(started(world, 'secrets').map((e) => e.scope).sort()).toEqual(['org', P1, P2])
    expect(started(world, 'secrets').every((e) => e.query.get('pathPrefix') === '/')).toBe(true)
  })

  it('finds references in the organisation scope for a project-scoped key', async () => {
    const world = newWorld({projects, secrets: {org: [secret('/shared/tls', {identity: 'kms-app1'})]}, zones: {org: [{identity: 'dnsz-1', name: 'example.com'}]}, dnssec: {'dnsz-1': {enabled: true, dsDelegated: true, kmsKeyIdentity: 'kms-app1', region: REGION}}})
    const report = await scan(world, key({projectId: P1}))
    expect(report.references).toEqual(expect.arrayContaining([
      {type: 'secret', path: '/shared/tls', region: REGION, project: null},
      {type: 'dnssec-zone', zone: 'example.com', identity: 'dnsz-1', region: REGION, project: null},
    ]))
    expect(report.references).toHaveLength(2)
  })

  it('counts a DNSSEC zone only when enabled, on this key (identity or slug), in this region (a missing region counts)', async () => {
    const world = newWorld({projects: [projects[0]], zones: {
      org: [{identity: 'dnsz-on', name: 'on.example'}, {identity: 'dnsz-off', name: 'off.example'}, {identity: 'dnsz-nl02', name: 'other-region.example'}],
      [P1]: [{identity: 'dnsz-slug', name: 'slug.example'}, {identity: 'dnsz-noregion', name: 'noregion.example'}, {identity: 'dnsz-otherkey', name: 'otherkey.example'}],
    }, dnssec: {
      'dnsz-on': {enabled: true, kmsKeyIdentity: 'kms-app1', region: 'NL-01'},
      'dnsz-off': {enabled: false, kmsKeyIdentity: 'kms-app1', region: REGION},
      'dnsz-nl02': {enabled: true, kmsKeyIdentity: 'kms-app1', region: 'nl-02'},
      'dnsz-slug': {enabled: true, kmsKeyIdentity: 'app-key', region: REGION},
      'dnsz-noregion': {enabled: true, kmsKeyIdentity: 'kms-app1'},
      'dnsz-otherkey': {enabled: true, kmsKeyIdentity: 'kms-other', region: REGION},
    }})
    const report = await scan(world)
    expect(report.complete).toBe(true)
    expect(report.references.map((r) => (r.type === 'dnssec-zone' ? r.identity : r.path)).sort()).toEqual(['dnsz-noregion', 'dnsz-on', 'dnsz-slug'])
    expect(report.references.find((r) => r.type === 'dnssec-zone' && r.identity === 'dnsz-slug')).toMatchObject({zone: 'slug.example', project: P1})
    expect(report.scanned).toMatchObject({zones: 6, dnssecChecked: 6})
    // Each zone's DNSSEC status was read in the zone's own scope.
    expect(started(world, 'dnssec').find((e) => e.target === 'dnsz-slug')?.scope).toBe(P1)
  })

  it('matches a DNSSEC region given as the region identity when told the alias', async () => {
    const world = newWorld({zones: {org: [{identity: 'dnsz-1', name: 'a.example'}]}, dnssec: {'dnsz-1': {enabled: true, kmsKeyIdentity: 'kms-app1', region: 'reg-nl01'}}})
    serve(world)
    const report = await scanReferences(testContext(), {region: REGION, regionAliases: ['reg-nl01'], key: KmsKey.parse(key())})
    expect(report.references).toHaveLength(1)
  })

  it('reads a zone listed in two scopes once, in the project the zone names', async () => {
    const zone = {identity: 'dnsz-1', name: 'shared.example', projectId: P1}
    const world = newWorld({projects: [projects[0]], zones: {org: [zone], [P1]: [zone]}, dnssec: {'dnsz-1': {enabled: true, kmsKeyIdentity: 'kms-app1', region: REGION}}})
    const report = await scan(world)
    expect(started(world, 'dnssec')).toHaveLength(1)
    expect(started(world, 'dnssec')[0].scope).toBe(P1)
    expect(report.references).toEqual([{type: 'dnssec-zone', zone: 'shared.example', identity: 'dnsz-1', region: REGION, project: P1}])
    expect(report.scanned.zones).toBe(1)
  })

  it('also scans the configured --project when the projects list does not show it', async () => {
    const world = newWorld({projects, secrets: {'prj-hidden': [secret('/x', {identity: 'kms-app1'})]}})
    const report = await scan(world, key(), {project: 'prj-hidden'})
    expect(report.references).toEqual([{type: 'secret', path: '/x', region: REGION, project: 'prj-hidden'}])
    expect(report.scanned.scopes).toBe(4)
  })

  it('does not scan the configured --project twice when it is listed by slug', async () => {
    const world = newWorld({projects})
    const report = await scan(world, key(), {project: 'alpha'})
    expect(report.scanned.scopes).toBe(3)
  })
})

describe('scanReferences: fail closed', () => {
  it('records the projects list failing after retries, and still scans the organisation scope', async () => {
    const world = newWorld({projects, secrets: {org: [secret('/a', {identity: 'kms-app1'})]}, override: (r) => (r.route === 'projects' ? [500, {message: 'boom'}] : undefined)})
    const report = await scan(world)
    expect(started(world, 'projects')).toHaveLength(3) // testApi: 2 retries
    expect(report.complete).toBe(false)
    expect(report.unread).toEqual([{what: 'projects list', scope: 'organisation', error: expect.stringMatching(/^SERVER_ERROR: GET \/v1\/projects: HTTP 500/)}])
    expect(report.references).toEqual([{type: 'secret', path: '/a', region: REGION, project: null}])
    expect(report.scanned.scopes).toBe(1)
  })

  it('keeps reading everything else when one scope, one service or one zone fails', async () => {
    const world = newWorld({projects, zones: {org: [{identity: 'dnsz-1', name: 'a.example'}, {identity: 'dnsz-2', name: 'b.example'}], [P2]: [{identity: 'dnsz-3', name: 'c.example'}]},
      dnssec: {'dnsz-2': {enabled: true, kmsKeyIdentity: 'kms-app1', region: REGION}},
      override: (r) => {
        if (r.route === 'secrets' && r.scope === P1) return [403, {message: 'no read on secrets'}]
        if (r.route === 'zones' && r.scope === P1) return [200, {zones: []}] // not the documented plain array
        if (r.route === 'dnssec' && r.target === 'dnsz-1') return {error: timeoutError()}
        if (r.route === 'dnssec' && r.target === 'dnsz-3') return [500, {message: 'dns down'}]
        return undefined
      }})
    const report = await scan(world)
    expect(report.complete).toBe(false)
    expect(report.unread).toEqual(expect.arrayContaining([
      {what: 'secrets list', scope: P1, error: expect.stringContaining('PERMISSION_DENIED')},
      {what: 'zones list', scope: P1, error: expect.stringContaining('MALFORMED_RESPONSE')},
      {what: 'dnssec status', scope: 'organisation', target: 'a.example', error: expect.stringContaining('TIMEOUT')},
      {what: 'dnssec status', scope: P2, target: 'c.example', error: expect.stringContaining('SERVER_ERROR')},
    ]))
    expect(report.unread).toHaveLength(4)
    expect(report.references).toEqual([{type: 'dnssec-zone', zone: 'b.example', identity: 'dnsz-2', region: REGION, project: null}])
    expect(report.scanned).toMatchObject({scopes: 3, secretLists: 2, zoneLists: 2, zones: 3, dnssecChecked: 1})
  })

  it('treats a secret listed without its key, and DNSSEC on without a key named, as unknown (unread)', async () => {
    const world = newWorld({secrets: {org: [secret('/no-key', null), secret('/ok', {identity: 'kms-zzz'})]}, zones: {org: [{identity: 'dnsz-1', name: 'a.example'}]}, dnssec: {'dnsz-1': {enabled: true, region: REGION}}})
    const report = await scan(world)
    expect(report.complete).toBe(false)
    expect(report.unread).toEqual(expect.arrayContaining([
      {what: 'secrets list', scope: 'organisation', error: expect.stringMatching(/^UNBOUND_SECRETS: 1 secret\(s\).*\/no-key/)},
      {what: 'dnssec status', scope: 'organisation', target: 'a.example', error: expect.stringContaining('NO_KEY_NAMED')},
    ]))
  })

  it('records reads not finished within timeoutMs as timed out and returns without them', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const world = newWorld({zones: {org: [{identity: 'dnsz-1', name: 'slow.example'}, {identity: 'dnsz-2', name: 'fast.example'}]}, dnssec: {'dnsz-2': {enabled: true, kmsKeyIdentity: 'kms-app1', region: REGION}},
      latency: async (r) => {
        if (r.target === 'dnsz-1') await gate
      }})
    try {
      const report = await scan(world, key(), {timeoutMs: 300})
      expect(report.complete).toBe(false)
      expect(report.unread).toEqual([{what: 'dnssec status', scope: 'organisation', target: 'slow.example', error: expect.stringMatching(/^TIMEOUT: .*300 ms/)}])
      expect(report.references).toHaveLength(1)
    } finally {
      release()
    }
  })

  it('rejects with the abort reason when ctx.signal aborts', async () => {
    const ac = new AbortController()
    const reason = new KmsGuardError('INTERRUPTED', 130, 'interrupted (SIGINT)')
    const world = newWorld({projects, latency: async (r) => {
      if (r.route === 'projects') ac.abort(reason)
    }})
    await expect(scan(world, key(), {signal: ac.signal})).rejects.toBe(reason)
  })

  it('keeps only the matches of large lists, and counts the rest', async () => {
    const many = Array.from({length: 2000}, (_, i) => secret(`/bulk/${i}`, {identity: i === 1234 ? 'kms-app1' : 'kms-other'}))
    const report = await scan(newWorld({secrets: {org: many}}))
    expect(report.scanned.secrets).toBe(2000)
    expect(report.references).toEqual([{type: 'secret', path: '/bulk/1234', region: REGION, project: null}])
  })
})

describe('referencesGuard', () => {
  const base = (over: Partial<ScanReport>): ScanReport => ({key: {identity: 'kms-app1', slug: 'app-key'}, region: REGION, references: [], scanned: {scopes: 1, secretLists: 1, secrets: 0, zoneLists: 1, zones: 0, dnssecChecked: 0, requests: 3}, unread: [], complete: true, durationMs: 1, ...over})
  const prior = [{guard: 'region' as const, outcome: 'pass' as const, message: 'ok'}]
  const ref = {type: 'secret' as const, path: '/a', region: REGION, project: null}
  const gap = {what: 'zones list', scope: 'organisation', error: 'PERMISSION_DENIED: no'}

  it('passes a complete scan with no references', () => {
    expect(referencesGuard(base({}), {}, prior)).toMatchObject({guard: 'references', outcome: 'pass'})
  })

  it('refuses references with exit 4, listing each and what to do, even with the incomplete-scan override', () => {
    for (const opts of [{}, {acceptIncomplete: {reason: 'outage'}}]) {
      let err: KmsGuardError | undefined
      try {
        referencesGuard(base({references: [ref], unread: [gap], complete: false}), opts, prior)
      } catch (error) {
        err = error as KmsGuardError
      }
      expect(err?.code).toBe('REFERENCES_FOUND')
      expect(err?.exitCode).toBe(4)
      expect(err?.message).toContain('secret /a (organisation scope, nl-01): move its value to a new secret bound to another key')
      expect(err?.details).toEqual({references: [ref], scanned: expect.any(Object), unread: [gap]})
      expect(err?.guards.map((g) => [g.guard, g.outcome])).toEqual([['region', 'pass'], ['references', 'fail']])
    }
  })

  it('refuses an incomplete scan with exit 4 naming the override, and warns when it is accepted', () => {
    expect(() => referencesGuard(base({unread: [gap], complete: false}), {}, prior)).toThrow(expect.objectContaining({code: 'SCAN_INCOMPLETE', exitCode: 4, hint: expect.stringContaining('--accept-incomplete-scan --reason')}))
    const g = referencesGuard(base({unread: [gap], complete: false}), {acceptIncomplete: {reason: 'DNS outage'}}, prior)
    expect(g).toMatchObject({outcome: 'warn', message: expect.stringContaining('--accept-incomplete-scan (reason: DNS outage)'), details: {unread: [gap]}})
  })
})
