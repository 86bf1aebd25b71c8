/**
 * A representative slice of the fault matrix through the BUILT CLI (child processes, default backoff ~200 ms·2^n
 * jittered, the real per-command deadline): exit codes and messages as a script sees them, the journal after a
 * refusal, the deadline (KMSGUARD_TIMEOUT) ending a hung read without the harness having to kill the child, and
 * a refused connection. Build first: `npx tsc -p tsconfig.json && OCLIF_SKIP_NEW_VERSION_CHECK=true npx oclif manifest`.
 */
import {createServer} from 'node:net'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {DEMO, type EmulatorHandle} from '../../src/emulator/index.js'
import {mutations, type E2E} from '../e2e/harness.js'
import {approvedExport, journalLines, withE2E} from './child.js'
import {countGuard, countInjected, countMutationUnderFault, printTally, tally} from './tally.js'
import {faultsFor, hits, type EmulatorKind} from './world.js'

const R = DEMO.regions.available
const K = DEMO.keys
const ROUTES = {
  summary: '^GET /v1/kms/summary$',
  keyGet: `^GET /v1/kms/${R}/keys/${K.appSecrets.slug}$`,
  secrets: `^GET /v1/secrets/${R}/secrets$`,
  dnssec: '^GET /v1/dns/zones/[^/]+/dnssec$',
  elevation: '^GET /v1/projects/iam/my-access-elevations/[^/]+$',
  audit: '^GET /v1/audit$',
  rotate: `^POST /v1/kms/${R}/keys/${K.appSecrets.identity}/rotate$`,
}

/** Sets `kind` on `route` and returns a counter of what it injected so far. */
function inject(emu: EmulatorHandle, kind: EmulatorKind, route: string, mode: 'persistent' | 'transient' = 'persistent'): () => number {
  emu.setFaults(faultsFor(kind, route, mode))
  return () => {
    const n = mode === 'persistent' ? hits(emu, route) : Math.min(1, hits(emu, route))
    countInjected(kind, n)
    return n
  }
}

const deleteArgs = ['delete', K.legacyData.slug, '-r', R, '--confirm', K.legacyData.slug, '--json']

async function journalIntact(e: E2E): Promise<void> {
  journalLines(e).forEach((line) => JSON.parse(line))
  expect((await e.run(['journal', 'verify', '--json'])).code).toBe(0)
}

afterAll(() => {
  printTally('cli')
  expect(tally.mutationsAfterRefusal).toBe(0)
})

describe.concurrent('faults through the built CLI', () => {
  it('summary, 503 persisting: 4 attempts, then exit 6 naming GET /v1/kms/summary', () => withE2E(async (e) => {
    const injected = inject(e.emu, '503', ROUTES.summary)
    const r = await e.run(['summary', '--json'])
    expect(r.code).toBe(6)
    expect(r.json).toMatchObject({status: 'error', command: 'summary', error: {code: 'SERVICE_UNAVAILABLE', exitCode: 6}})
    expect(r.json.error.message).toMatch(/GET \/v1\/kms\/summary/)
    expect(injected()).toBe(4)
  }))

  it('summary, 502 once: the retry absorbs it and the command succeeds', () => withE2E(async (e) => {
    const injected = inject(e.emu, '502', ROUTES.summary, 'transient')
    const r = await e.run(['summary', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.featureEnabled).toBe(true)
    expect(hits(e.emu, ROUTES.summary)).toBe(2)
    expect(injected()).toBe(1)
  }))

  it('get, 429 with Retry-After: 1 persisting: each retry waits the second out, then exit 6 RATE_LIMITED naming the key', () => withE2E(async (e) => {
    const injected = inject(e.emu, '429', ROUTES.keyGet)
    const r = await e.run(['get', K.appSecrets.slug, '-r', R, '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.code).toBe('RATE_LIMITED')
    expect(r.json.error.message).toContain(`GET /v1/kms/${R}/keys/${K.appSecrets.slug}`)
    const at = e.emu.requests.filter((q) => new RegExp(ROUTES.keyGet).test(`${q.method} ${q.path}`)).map((q) => q.at)
    expect(at).toHaveLength(4)
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(950)
    injected()
  }))

  it('delete, 500 on every DNSSEC status: exit 4 SCAN_INCOMPLETE, no DELETE, the refusal journaled intact', () => withE2E(async (e) => {
    const injected = inject(e.emu, '500', ROUTES.dnssec)
    const r = await e.run(deleteArgs)
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('SCAN_INCOMPLETE')
    expect(r.json.error.message).toMatch(/dnssec status/)
    expect(JSON.stringify(r.json.error.details.unread)).toMatch(/GET \/v1\/dns\/zones\/[^/ ]+\/dnssec/)
    const sent = mutations(e.emu).length
    countGuard(r.code !== 0, sent)
    expect(sent).toBe(0)
    expect(injected()).toBeGreaterThanOrEqual(4)
    expect(journalLines(e)).toHaveLength(1)
    await journalIntact(e)
  }))

  it('references, truncated secrets lists: exit 4 naming the secrets endpoint (a script cannot read it as "unused")', () => withE2E(async (e) => {
    const injected = inject(e.emu, 'truncated', ROUTES.secrets)
    const r = await e.run(['references', K.appSecrets.slug, '-r', R, '--json'])
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('SCAN_INCOMPLETE')
    expect(JSON.stringify(r.json.error.details.unread)).toMatch(/TRUNCATED_RESPONSE: GET \/v1\/secrets\/nl-01\/secrets/)
    expect(injected()).toBeGreaterThanOrEqual(4)
  }))

  it('export, connection reset on the elevation get: exit 6 naming it, no POST export, no --out file', () => withE2E(async (e) => {
    const approval = await approvedExport(e)
    const injected = inject(e.emu, 'reset', ROUTES.elevation)
    const out = join(e.home, 'escrow.bin')
    const r = await e.run(['export', K.escrowKey.slug, '-r', R, '--approval', approval, '--out', out, '--plaintext', '--confirm', K.escrowKey.slug, '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.message).toContain(`GET /v1/projects/iam/my-access-elevations/${approval}`)
    const sent = mutations(e.emu).length
    countGuard(r.code !== 0, sent)
    expect(sent).toBe(0)
    expect(existsSync(out)).toBe(false)
    expect(injected()).toBe(4)
    await journalIntact(e)
  }))

  it('rotate, 502 on the POST: sent exactly once, exit 6, no new version', () => withE2E(async (e) => {
    const injected = inject(e.emu, '502', ROUTES.rotate)
    const r = await e.run(['rotate', K.appSecrets.slug, '-r', R, '--yes', '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.message).toContain(`POST /v1/kms/${R}/keys/${K.appSecrets.identity}/rotate`)
    countMutationUnderFault()
    expect(injected()).toBe(1)
    expect(e.emu.state.keys.find((k) => k.identity === K.appSecrets.identity)!.versions).toHaveLength(2)
  }))

  it('audit, malformed pages: exit 6 naming the audit page, no report', () => withE2E(async (e) => {
    const injected = inject(e.emu, 'malformed', ROUTES.audit)
    const r = await e.run(['audit', '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.message).toMatch(/audit page 1 .*GET \/v1\/audit/)
    expect(r.json.result).toBeUndefined()
    expect(injected()).toBe(4)
  }))

  it('summary, a hung read with KMSGUARD_TIMEOUT=5: the CLI ends itself with exit 6 (the harness never has to kill it)', () => withE2E(async (e) => {
    const injected = inject(e.emu, 'timeout', ROUTES.summary)
    const r = await e.run(['summary', '--json'], {env: {KMSGUARD_TIMEOUT: '5'}, timeoutMs: 25_000})
    expect(r.code).toBe(6)
    expect(['TIMEOUT', 'DEADLINE_EXCEEDED']).toContain(r.json.error.code)
    expect(r.json.error.message).toMatch(/GET \/v1\/kms\/summary/)
    expect(injected()).toBeGreaterThanOrEqual(1)
  }))

  it('delete, DNSSEC reads that hang, KMSGUARD_TIMEOUT=5: the scan ends at the deadline, exit 4, no DELETE', () => withE2E(async (e) => {
    const injected = inject(e.emu, 'timeout', ROUTES.dnssec)
    const r = await e.run(deleteArgs, {env: {KMSGUARD_TIMEOUT: '5'}, timeoutMs: 25_000})
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('SCAN_INCOMPLETE')
    const sent = mutations(e.emu).length
    countGuard(r.code !== 0, sent)
    expect(sent).toBe(0)
    expect(injected()).toBeGreaterThanOrEqual(1)
    await journalIntact(e)
  }))

  it('connection refused (a closed loopback port): summary and delete end with exit 6 naming the endpoint', async () => {
    const port = await closedPort()
    await withE2E(async (e) => {
      // DEBUG=kmsguard traces every attempt on stderr: the refused read is tried 1 + 3 times
      const env = {THALASSA_API_ENDPOINT: `http://127.0.0.1:${port}`, DEBUG: 'kmsguard'}
      const refusals = (stderr: string) => stderr.split('\n').filter((l) => l.includes('GET /v1/kms/summary -> network error ECONNREFUSED')).length
      const summary = await e.run(['summary', '--json'], {env})
      expect(summary.code).toBe(6)
      expect(summary.json.error).toMatchObject({code: 'NETWORK_ERROR', exitCode: 6})
      expect(summary.json.error.message).toBe('GET /v1/kms/summary: connection refused')
      expect(refusals(summary.stderr)).toBe(4)
      const del = await e.run(deleteArgs, {env})
      expect(del.code).toBe(6)
      expect(del.json.error.message).toMatch(/^GET \/v1\/kms\/summary: connection refused/)
      expect(refusals(del.stderr)).toBe(4)
      countGuard(del.code !== 0, mutations(e.emu).length)
      countInjected('connect-refused', refusals(summary.stderr) + refusals(del.stderr))
      expect(e.emu.requests).toHaveLength(0)
    })
  })
})

/** A loopback port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}
