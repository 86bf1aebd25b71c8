import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {KmsKey} from '../../../src/api/schemas.js'
import {scanReferences} from '../../../src/guards/references.js'
import {testContext} from '../../helpers/context.js'
import {REGION, key, newWorld, secret, serve, started, type LogEntry, type World} from './world.js'

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Waits until something has been requested. A non-pipelined scan never gets there, so the wait gives up after
 * a while and lets the request finish late: the ordering assertions then fail (nothing asserts on time).
 */
async function until(world: World, seen: (e: LogEntry) => boolean): Promise<void> {
  for (let i = 0; i < 200 && !world.log.some((e) => e.event === 'start' && seen(e)); i++) await sleep(10)
}

const seqOf = (world: World, event: 'start' | 'end', match: (e: LogEntry) => boolean) => world.log.find((e) => e.event === event && match(e))?.seq ?? Number.POSITIVE_INFINITY

function bigWorld(): World {
  const projects = Array.from({length: 4}, (_, i) => ({identity: `prj-${i}`, name: `P${i}`, slug: `p${i}`}))
  const zones: World['zones'] = {}
  const secrets: World['secrets'] = {}
  for (const scope of ['org', ...projects.map((p) => p.identity)]) {
    zones[scope] = Array.from({length: 5}, (_, i) => ({identity: `dnsz-${scope}-${i}`, name: `z${i}.${scope}.example`}))
    secrets[scope] = Array.from({length: 50}, (_, i) => secret(`/${scope}/s${i}`, {identity: 'kms-other'}))
  }
  return newWorld({projects, zones, secrets})
}

describe('reference scan concurrency', () => {
  it.each([1, 3, 6])('never has more than the pool size (%i) of requests in flight, and uses it', async (n) => {
    const world = bigWorld()
    world.latency = () => sleep(2)
    serve(world)
    const report = await scanReferences(testContext({concurrency: n}), {region: REGION, key: KmsKey.parse(key())})
    expect(report.complete).toBe(true)
    expect(report.scanned).toMatchObject({scopes: 5, secrets: 250, zones: 25, dnssecChecked: 25, requests: 1 + 5 + 5 + 25})
    expect(world.peak).toBeLessThanOrEqual(n)
    expect(world.peak).toBe(n)
  })

  it('pipelines the levels: scopes start before the projects list ends, DNSSEC reads before every zone list is done', async () => {
    const world = newWorld({
      projects: [{identity: 'prj-1', name: 'P1', slug: 'p1'}],
      zones: {org: [{identity: 'dnsz-a', name: 'a.example'}, {identity: 'dnsz-b', name: 'b.example'}], 'prj-1': [{identity: 'dnsz-c', name: 'c.example'}]},
      latency: async (r) => {
        // The projects list answers only once the organisation scope is being read.
        if (r.route === 'projects') await until(world, (e) => e.route === 'zones' && e.scope === 'org')
        // The organisation's secrets list answers only once a project scope is being read.
        if (r.route === 'secrets' && r.scope === 'org') await until(world, (e) => e.route === 'secrets' && e.scope === 'prj-1')
        // The project's zone list answers only once a DNSSEC read (of an organisation zone) has started.
        if (r.route === 'zones' && r.scope === 'prj-1') await until(world, (e) => e.route === 'dnssec')
      },
    })
    serve(world)
    const report = await scanReferences(testContext({concurrency: 4}), {region: REGION, key: KmsKey.parse(key())})
    expect(report.complete).toBe(true)
    expect(seqOf(world, 'start', (e) => e.route === 'zones' && e.scope === 'org')).toBeLessThan(seqOf(world, 'end', (e) => e.route === 'projects'))
    expect(seqOf(world, 'start', (e) => e.route === 'secrets' && e.scope === 'prj-1')).toBeLessThan(seqOf(world, 'end', (e) => e.route === 'secrets' && e.scope === 'org'))
    expect(seqOf(world, 'start', (e) => e.route === 'dnssec')).toBeLessThan(seqOf(world, 'end', (e) => e.route === 'zones' && e.scope === 'prj-1'))
    expect(started(world, 'dnssec').map((e) => e.target).sort()).toEqual(['dnsz-a', 'dnsz-b', 'dnsz-c'])
  })
})
