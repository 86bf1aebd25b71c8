/** The latency bound the benchmarks compare against (bench/lib/levels.js), on hand-made request logs. */
import {describe, expect, it} from 'vitest'
// @ts-expect-error -- plain JavaScript module without type declarations
import {latencyBound, routeOf} from '../../../bench/lib/levels.js'

const req = (method: string, path: string, at: number) => ({method, path, at})
const groups = [
  {name: 'dnssec', match: (r: {path: string}) => r.path.endsWith('/dnssec')},
  {name: 'lists', match: (r: {path: string}) => r.path === '/v1/dns/zones' || r.path.endsWith('/secrets')},
]

describe('latencyBound', () => {
  it('counts each fan-out group as ⌈n ÷ concurrency⌉ levels', () => {
    const log = [
      ...Array.from({length: 33}, (_, i) => req('GET', `/v1/dns/zones/dnsz-${i}/dnssec`, 100 + i)),
      ...Array.from({length: 16}, (_, i) => req('GET', i % 2 ? '/v1/dns/zones' : '/v1/secrets/nl-01/secrets', 50)),
    ]
    const {boundMs, levels} = latencyBound(log, {latencyMs: 20, concurrency: 16, groups})
    expect(levels).toEqual([{name: 'dnssec', requests: 33, levels: 3}, {name: 'lists', requests: 16, levels: 1}])
    expect(boundMs).toBe(4 * 20)
  })

  it('puts singles that start together in one level and singles that start later in levels of their own', () => {
    const log = [
      req('GET', '/v1/kms/summary', 0),
      req('GET', '/v1/me/organisation-memberships', 3),
      req('GET', '/v1/kms/nl-01/keys/app-secrets', 25),
      req('POST', '/v1/kms/nl-01/keys/kms-1a2b/rotate', 60),
    ]
    const {boundMs, levels} = latencyBound(log, {latencyMs: 20, concurrency: 16, groups})
    expect(levels.map((l: {requests: number}) => l.requests)).toEqual([2, 1, 1])
    expect(levels[0].name).toBe('GET /v1/kms/summary + GET /v1/me/organisation-memberships')
    expect(boundMs).toBe(60)
  })

  it('is zero for no requests, and a burst of singles beyond the concurrency takes several levels', () => {
    expect(latencyBound([], {latencyMs: 20, concurrency: 16, groups}).boundMs).toBe(0)
    const burst = Array.from({length: 17}, (_, i) => req('GET', `/v1/projects/proj-${i}`, 0))
    expect(latencyBound(burst, {latencyMs: 10, concurrency: 16, groups: []}).boundMs).toBe(20)
  })
})

describe('routeOf', () => {
  it('replaces identities and key references with placeholders', () => {
    expect(routeOf('/v1/dns/zones/dnsz-7d78501c4d02/dnssec')).toBe('/v1/dns/zones/{id}/dnssec')
    expect(routeOf('/v1/kms/nl-01/keys/kms-a9bdf4b33c6b/rotate')).toBe('/v1/kms/nl-01/keys/{id}/rotate')
    expect(routeOf('/v1/kms/nl-01/keys/fleet-key-0001')).toBe('/v1/kms/nl-01/keys/{key}')
    expect(routeOf('/v1/kms/summary')).toBe('/v1/kms/summary')
  })
})
