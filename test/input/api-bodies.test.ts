/**
 * Bad API bodies (issue 8.2): a response that is the wrong shape, misses a field, has a field of the wrong
 * type, is enormous (100 000 keys), absurdly nested or not JSON at all is an API error — exit 6 naming the
 * endpoint — or, when it is valid, handled; never a crash (exit 1). A guarded mutation whose preflight read
 * comes back malformed sends no mutation. Uses the emulator's wrong-shape fault and a scripted API.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {runCli} from '../e2e/harness.js'
import {startFakeApi, type Scripted} from './fake-api.js'
import {checkRefusal, inWorld, STACK_FRAME, type InputWorld} from './helpers.js'

const R = ['-r', DEMO.regions.available]
const KEYS = `GET /v1/kms/${DEMO.regions.available}/keys`
const key = (i: number) => ({identity: `kms-${i}`, name: `key-${i}`, slug: `key-${i}`, keyType: 'aes256-gcm96', status: 'active', latestVersion: 1})

/** Runs the CLI against a scripted API answering `routes`; returns the run and what was requested. */
async function against(routes: Record<string, Scripted>, args: string[]) {
  const api = await startFakeApi(routes)
  const dir = mkdtempSync(join(tmpdir(), 'kmsguard-scripted-'))
  try {
    const env = {PATH: process.env.PATH, HOME: dir, CI: 'true', NO_COLOR: '1', THALASSA_CONFIG: join(dir, 'none.yaml'), KMSGUARD_JOURNAL: join(dir, 'journal.jsonl'),
      THALASSA_API_ENDPOINT: api.url, THALASSA_ORGANISATION: 'demo', THALASSA_PERSONAL_ACCESS_TOKEN: 'tc_pat_scripted'}
    return {r: await runCli(args, env, 120_000), requests: api.requests}
  } finally {
    await api.close()
    rmSync(dir, {recursive: true, force: true})
  }
}

const malformed = (endpoint: string, field?: RegExp) => ({exit: 6, code: 'MALFORMED_RESPONSE', sends: 'reads-only' as const,
  message: new RegExp(`${endpoint.replace(/[/.]/g, '\\$&')} returned .*${field ? field.source : ''}`)})

describe.concurrent('a scripted API with bodies the emulator never sends', () => {
  it('a key list of 100 000 keys (about 20 MB): handled without a crash', async () => {
    const {r} = await against({[KEYS]: {body: JSON.stringify(Array.from({length: 100_000}, (_, i) => key(i)))}}, ['list', ...R])
    expect([0, 6]).toContain(r.code)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    if (r.code === 0) expect(r.stdout).toContain('key-99999')
  }, 120_000)

  const cases: Array<[string, Record<string, Scripted>, string[], ReturnType<typeof malformed>]> = [
    ['a listed key without its identity', {[KEYS]: {body: JSON.stringify([key(1), {...key(2), identity: undefined}])}}, ['list', ...R, '--json'], malformed(KEYS, /1\.identity/)],
    ['latestVersion as a string', {[`${KEYS}/kms-1`]: {body: JSON.stringify({...key(1), latestVersion: '3'})}}, ['get', 'kms-1', ...R, '--json'], malformed(`${KEYS}/kms-1`, /latestVersion/)],
    ['featureEnabled as a string', {'GET /v1/kms/summary': {body: JSON.stringify({featureEnabled: 'yes', regions: []})}}, ['summary', '--json'], malformed('GET /v1/kms/summary', /featureEnabled/)],
    ['a JSON null body', {'GET /v1/kms/summary': {body: 'null'}}, ['summary', '--json'], malformed('GET /v1/kms/summary')],
    ['an object where the key list should be', {[KEYS]: {body: JSON.stringify({items: [key(1)]})}}, ['list', ...R, '--json'], malformed(KEYS)],
    ['a 200 answer that is an HTML page (a proxy in the way)', {'GET /v1/kms/summary': {body: '<html><body>Sign in to the proxy</body></html>'}}, ['summary', '--json'], malformed('GET /v1/kms/summary', /not JSON/)],
    ['JSON nested 100 000 levels deep', {'GET /v1/kms/summary': {body: '['.repeat(100_000) + ']'.repeat(100_000)}}, ['summary', '--json'], malformed('GET /v1/kms/summary')],
  ]
  for (const [title, routes, args, x] of cases) {
    it(title, async () => {
      const {r} = await against(routes, args)
      checkRefusal(r, x)
    }, 60_000)
  }

  it('an error answer with a 1 MB message: exit 6, the message is cut short, never echoed whole', async () => {
    const {r} = await against({'GET /v1/kms/summary': {status: 400, body: JSON.stringify({message: 'x'.repeat(1_000_000)})}}, ['summary', '--json'])
    checkRefusal(r, {exit: 6, code: 'BAD_REQUEST', message: /GET \/v1\/kms\/summary was rejected \(400\)/, sends: 'nothing'})
    expect(r.stdout.length).toBeLessThan(5_000)
  })
})

describe.concurrent("the emulator's wrong-shape fault", () => {
  const faulty = (w: InputWorld, route: string) => w.e.emu.setFaults({rate: 1, kinds: ['wrong-shape'], routes: [route], seed: 7})

  it('on the key list: exit 6 naming the endpoint', () => inWorld(async (w) => {
    faulty(w, `^${KEYS}$`)
    await w.refused({args: ['list', ...R, '--json']}, malformed(KEYS))
  }))

  it('on the caller\'s memberships (whoami): exit 6', () => inWorld(async (w) => {
    faulty(w, '^GET /v1/me/organisation-memberships$')
    await w.refused({args: ['whoami', '--json']}, malformed('GET /v1/me/organisation-memberships'))
  }))

  it('on the key read before a delete: exit 6 and no DELETE sent', () => inWorld(async (w) => {
    faulty(w, `^${KEYS}/${DEMO.keys.legacyData.slug}$`)
    await w.refused({args: ['delete', DEMO.keys.legacyData.slug, ...R, '--confirm', DEMO.keys.legacyData.slug, '--json']}, {...malformed(`${KEYS}/${DEMO.keys.legacyData.slug}`), sends: 'reads-only'})
    expect(w.e.emu.state.keys.find((k) => k.slug === DEMO.keys.legacyData.slug)?.status).toBe('disabled')
  }))

  it('on the request read before approve: exit 6 and no approve sent', () => inWorld(async (w) => {
    const req = await w.e.run(['export:request', DEMO.keys.escrowKey.slug, ...R, '--policy', 'kms-export', '--reason', 'shape test', '--yes', '--json'])
    expect(req.code).toBe(0)
    const id = req.json.result.elevation.identity as string
    faulty(w, `^GET /v1/projects/iam/access-elevations/${id}$`)
    await w.refused({args: ['approve', id, '--yes', '--json'], as: 'approver'}, {...malformed(`GET /v1/projects/iam/access-elevations/${id}`), sends: 'reads-only'})
    expect(w.e.emu.requests.map((q) => `${q.method} ${q.path}`).some((s) => s.endsWith('/approve'))).toBe(false)
  }))

  it('on the export answer itself: exit 6, and the reserved --out file is removed', () => inWorld(async (w) => {
    const req = await w.e.run(['export:request', DEMO.keys.escrowKey.slug, ...R, '--policy', 'kms-export', '--reason', 'shape test', '--yes', '--json'])
    const id = req.json.result.elevation.identity as string
    expect((await w.e.run(['approve', id, '--yes'], {as: 'approver'})).code).toBe(0)
    faulty(w, '/export$')
    const out = join(w.dir, 'shape-export.bin')
    w.e.emu.clearRequests()
    const r = await w.e.run(['export', DEMO.keys.escrowKey.slug, ...R, '--approval', id, '--plaintext', '--out', out, '--confirm', DEMO.keys.escrowKey.slug, '--json'])
    checkRefusal(r, malformed(`POST /v1/kms/${DEMO.regions.available}/keys/${DEMO.keys.escrowKey.identity}/export`))
    expect(existsSync(out)).toBe(false)
  }))
})
