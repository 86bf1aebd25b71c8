/**
 * End-to-end: the key lifecycle (create, rotate, schedule, disable, enable, delete, cancel-deletion, references,
 * fleet rotate) through the built CLI against one emulator, asserting exit codes, --json envelopes and the
 * requests the emulator recorded. Each test uses its own keys (created here) or seed keys it does not change.
 */
import {once} from 'node:events'
import {createServer, request as httpRequest, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {RecordedRequest} from '../../src/emulator/index.js'
import {startE2E, type E2E} from './harness.js'

let e: E2E
beforeAll(async () => {
  e = await startE2E()
})
afterAll(async () => e?.close())

const R = ['-r', 'nl-01']

/** Requests recorded from now on (call the returned function after the runs). */
const mark = () => e.mark()
const isMutation = (r: RecordedRequest) => r.method !== 'GET' && !r.path.startsWith('/oidc/')
const sent = (reqs: RecordedRequest[], method: string, suffix: RegExp) => reqs.filter((r) => r.method === method && suffix.test(r.path))
const stored = (slug: string) => e.emu.state.keys.find((k) => k.slug === slug && k.regionSlug === 'nl-01' && k.projectIdentity === undefined)

async function create(name: string, extra: string[] = []): Promise<string> {
  const r = await e.run(['create', ...R, '--name', name, '--type', 'aes256-gcm96', '--label', 'purpose=e2e', '--yes', '--json', ...extra])
  expect(r.code, r.stdout + r.stderr).toBe(0)
  return r.json.result.key.identity
}

async function disable(slug: string): Promise<void> {
  const r = await e.run(['disable', slug, ...R, '--reason', 'e2e', '--confirm', slug, '--json'])
  expect(r.code, r.stdout + r.stderr).toBe(0)
}

const journalLines = () => readFileSync(e.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l))

describe('create', () => {
  it('without a purpose label: created, with a policy warning; exactly one POST carrying automatic rotation', async () => {
    const sentNow = mark()
    const r = await e.run(['create', ...R, '--name', 'lc-plain', '--type', 'aes256-gcm96', '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({status: 'ok', command: 'create', dryRun: false})
    expect(r.json.guards).toContainEqual(expect.objectContaining({guard: 'policy', outcome: 'warn', details: expect.objectContaining({rule: 'purpose-label'})}))
    expect(r.json.result.key).toMatchObject({slug: 'lc-plain', status: 'active', latestVersion: 1, keyRotationEnabled: true, rotationPeriodInDays: 90, exportAllowed: false})
    expect(sentNow().filter(isMutation).map((q) => `${q.method} ${q.path}`)).toEqual(['POST /v1/kms/nl-01/keys'])
    expect(stored('lc-plain')?.identity).toBe(r.json.result.key.identity)
  })

  it('--allow-export needs --reason (nothing sent without it); with it the key is exportable and the journal keeps the reason', async () => {
    const sentNow = mark()
    const refused = await e.run(['create', ...R, '--name', 'lc-exportable', '--type', 'aes256-gcm96', '--label', 'purpose=escrow', '--allow-export', '--yes', '--json'])
    expect(refused.code).toBe(2)
    expect(refused.json.error.message).toMatch(/--allow-export needs --reason/)
    expect(sentNow().filter(isMutation)).toEqual([])
    expect(stored('lc-exportable')).toBeUndefined()

    const ok = await e.run(['create', ...R, '--name', 'lc-exportable', '--type', 'aes256-gcm96', '--label', 'purpose=escrow', '--allow-export', '--reason', 'escrow CHG-7', '--yes', '--json'])
    expect(ok.code).toBe(0)
    expect(ok.json.guards).toContainEqual(expect.objectContaining({guard: 'policy', outcome: 'warn', details: expect.objectContaining({rule: 'export'})}))
    expect(stored('lc-exportable')?.exportAllowed).toBe(true)
    const line = journalLines().filter((l) => l.command === 'create' && l.key?.slug === 'lc-exportable').at(-1)
    expect(line.overrides).toEqual([{flag: '--allow-export', reason: 'escrow CHG-7'}])
  })

  it('a duplicate name is the API\'s 409, explained with the existing key; nothing new is created', async () => {
    const identity = await create('lc-dup')
    const before = e.emu.state.keys.length
    const r = await e.run(['create', ...R, '--name', 'lc-dup', '--type', 'aes256-gcm96', '--label', 'purpose=e2e', '--yes', '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.code).toBe('CONFLICT')
    expect(r.json.error.message).toContain(identity)
    expect(r.json.error.details.existing).toMatchObject({identity, slug: 'lc-dup', status: 'active'})
    expect(r.json.error.hint).toMatch(/kmsguard get lc-dup -r nl-01/)
    expect(e.emu.state.keys.length).toBe(before)
  })

  it('a 400 from the API is exit 6 and shows the API\'s own message', async () => {
    // A loopback proxy in front of the emulator answers one create with a 400 the emulator itself never gives.
    const apiMessage = 'labels: the value of purpose is not allowed by organisation policy'
    const proxy = await startProxy(e.emu.url, (method, path, body) =>
      method === 'POST' && path === '/v1/kms/nl-01/keys' && body.includes('"lc-rejected"') ? {status: 400, body: {message: apiMessage}} : undefined)
    try {
      const r = await e.run(['create', ...R, '--name', 'lc-rejected', '--type', 'aes256-gcm96', '--label', 'purpose=e2e', '--yes', '--json'], {env: {THALASSA_API_ENDPOINT: proxy.url}})
      expect(r.code).toBe(6)
      expect(r.json.error.code).toBe('BAD_REQUEST')
      expect(r.json.error.message).toContain(apiMessage)
      expect(proxy.answered).toBe(1)
      expect(stored('lc-rejected')).toBeUndefined()
    } finally {
      await proxy.close()
    }
  })
})

describe('rotate', () => {
  it('rotate now: one POST …/rotate, the version goes up by one, and the billing note is shown', async () => {
    const identity = await create('lc-rotate')
    const sentNow = mark()
    const r = await e.run(['rotate', 'lc-rotate', ...R, '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result).toMatchObject({previousVersion: 1, latestVersion: 2})
    expect(r.json.result.billingNote).toMatch(/billed/)
    expect(sent(sentNow(), 'POST', /\/rotate$/).map((q) => q.path)).toEqual([`/v1/kms/nl-01/keys/${identity}/rotate`])
    expect(stored('lc-rotate')?.versions.length).toBe(2)
    const human = await e.run(['rotate', 'lc-rotate', ...R, '--yes'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/version 2 → 3/)
    expect(human.stdout).toMatch(/Note: .*billed/)
  })

  it('--schedule and --no-schedule send one PATCH each; get shows the effect; --no-schedule on a symmetric key needs --reason', async () => {
    const identity = await create('lc-schedule')
    const sentNow = mark()
    const on = await e.run(['rotate', 'lc-schedule', ...R, '--schedule', '30', '--yes', '--json'])
    expect(on.code).toBe(0)
    expect(on.json.result).toMatchObject({changed: true, after: {keyRotationEnabled: true, rotationPeriodInDays: 30}})
    expect((await e.run(['get', 'lc-schedule', ...R, '--json'])).json.result).toMatchObject({keyRotationEnabled: true, rotationPeriodInDays: 30})

    const noReason = await e.run(['rotate', 'lc-schedule', ...R, '--no-schedule', '--yes', '--json'])
    expect(noReason.code).toBe(2)
    expect(noReason.json.error.message).toMatch(/--reason/)

    const off = await e.run(['rotate', 'lc-schedule', ...R, '--no-schedule', '--reason', 'frozen for migration', '--yes', '--json'])
    expect(off.code).toBe(0)
    expect((await e.run(['get', 'lc-schedule', ...R, '--json'])).json.result.keyRotationEnabled).toBe(false)
    expect(sent(sentNow(), 'PATCH', /\/rotation$/).map((q) => q.path)).toEqual([`/v1/kms/nl-01/keys/${identity}/rotation`, `/v1/kms/nl-01/keys/${identity}/rotation`])
    expect(stored('lc-schedule')?.versions.length).toBe(1)
  })
})

describe('disable and enable', () => {
  it('disable without --confirm in non-interactive mode: exit 7 naming the flag, and no POST', async () => {
    const sentNow = mark()
    const r = await e.run(['disable', 'app-secrets', ...R, '--reason', 'incident', '--json'])
    expect(r.code).toBe(7)
    expect(r.json.error.code).toBe('NOT_CONFIRMED')
    expect(r.json.error.message).toMatch(/--confirm app-secrets/)
    expect(sentNow().filter(isMutation)).toEqual([])
    expect(stored('app-secrets')?.status).toBe('active')
  })

  it('a referenced key is still disabled, its references shown as a warning; enable undoes it', async () => {
    const sentNow = mark()
    const r = await e.run(['disable', 'zone-signing', ...R, '--reason', 'incident INC-9', '--confirm', 'zone-signing', '--json'])
    expect(r.code).toBe(0)
    const refs = r.json.guards.find((g: {guard: string}) => g.guard === 'references')
    expect(refs.outcome).toBe('warn')
    expect(refs.message).toMatch(/web\.demo\.example/)
    expect(refs.details.references).toContainEqual(expect.objectContaining({type: 'dnssec-zone', zone: 'web.demo.example', identity: 'dnsz-demo-web'}))
    expect(stored('zone-signing')?.status).toBe('disabled')

    const enabled = await e.run(['enable', 'zone-signing', ...R, '--yes', '--json'])
    expect(enabled.code).toBe(0)
    expect(enabled.json.result.key.status).toBe('active')
    expect(stored('zone-signing')?.status).toBe('active')
    expect(sentNow().filter(isMutation).map((q) => `${q.method} ${q.path}`)).toEqual([
      'POST /v1/kms/nl-01/keys/kms-demo-zone-signing/disable',
      'POST /v1/kms/nl-01/keys/kms-demo-zone-signing/enable',
    ])
  })
})

describe('delete and cancel-deletion', () => {
  it('an active key: exit 3 with the disable-first hint, no DELETE', async () => {
    const sentNow = mark()
    const r = await e.run(['delete', 'app-secrets', ...R, '--confirm', 'app-secrets', '--json'])
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('KEY_STATE')
    expect(r.json.error.hint).toMatch(/kmsguard disable app-secrets -r nl-01/)
    expect(sentNow().filter(isMutation)).toEqual([])
  })

  it('referenced keys with --allow-active: exit 4 listing every secret path and the DNSSEC zone, no DELETE', async () => {
    const sentNow = mark()
    const secrets = await e.run(['delete', 'app-secrets', ...R, '--allow-active', '--reason', 'test', '--confirm', 'app-secrets', '--json'])
    expect(secrets.code).toBe(4)
    expect(secrets.json.error.code).toBe('REFERENCES_FOUND')
    for (const path of ['/app/prod/db/password', '/app/prod/api/token', '/app/staging/db/password', '/payments/prod/card-vault-key']) expect(secrets.json.error.message).toContain(path)
    const verdict = secrets.json.guards.find((g: {guard: string}) => g.guard === 'references')
    expect(verdict.outcome).toBe('fail')
    expect(verdict.details.references).toHaveLength(4)

    const zone = await e.run(['delete', 'zone-signing', ...R, '--allow-active', '--reason', 'test', '--confirm', 'zone-signing', '--json'])
    expect(zone.code).toBe(4)
    expect(zone.json.error.message).toContain('web.demo.example')
    expect(sentNow().filter(isMutation)).toEqual([])
    expect(stored('app-secrets')?.status).toBe('active')
  })

  it('a project-scoped key (--project payments) used by a secret of that project: exit 4, no DELETE', async () => {
    const sentNow = mark()
    const r = await e.run(['delete', 'payments-data', ...R, '--project', 'payments', '--allow-active', '--reason', 'test', '--confirm', 'payments-data', '--json'])
    expect(r.code).toBe(4)
    expect(r.json.error.details.references).toEqual([{type: 'secret', path: '/payments/prod/stripe-api-key', region: 'nl-01', project: 'proj-payments'}])
    expect(sentNow().filter(isMutation)).toEqual([])
    expect(sentNow().filter((q) => q.path.startsWith('/v1/kms/nl-01/keys')).every((q) => q.project === 'proj-payments')).toBe(true)
  })

  it('a disabled, unreferenced key: one DELETE, deletionScheduledAt 30 days out, the cancel command; cancel-deletion undoes it', async () => {
    const identity = await create('lc-delete')
    await disable('lc-delete')
    const sentNow = mark()
    const r = await e.run(['delete', 'lc-delete', ...R, '--confirm', 'lc-delete', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.cancelCommand).toBe('kmsguard cancel-deletion lc-delete -r nl-01')
    const days = (Date.parse(r.json.result.deletionScheduledAt) - e.emu.clock.now()) / 86_400_000
    expect(days).toBeGreaterThan(29.9)
    expect(days).toBeLessThanOrEqual(30)
    expect(stored('lc-delete')?.status).toBe('pending_deletion')

    const cancel = await e.run(['cancel-deletion', 'lc-delete', ...R, '--yes', '--json'])
    expect(cancel.code).toBe(0)
    expect(cancel.json.result.key.status).not.toBe('pending_deletion')
    expect(stored('lc-delete')?.status).not.toBe('pending_deletion')
    expect(sentNow().filter(isMutation).map((q) => `${q.method} ${q.path}`)).toEqual([
      `DELETE /v1/kms/nl-01/keys/${identity}`,
      `DELETE /v1/kms/nl-01/keys/${identity}/cancel-deletion`,
    ])
  })

  it('a wrong --confirm: exit 7, no DELETE', async () => {
    const sentNow = mark()
    const r = await e.run(['delete', 'legacy-data', ...R, '--confirm', 'legacy-dat', '--json'])
    expect(r.code).toBe(7)
    expect(r.json.error.message).toMatch(/does not match/)
    expect(sentNow().filter(isMutation)).toEqual([])
    expect(stored('legacy-data')?.status).toBe('disabled')
  })
})

describe('references', () => {
  it('finds the organisation-scoped key\'s use by a secret of project payments', async () => {
    const r = await e.run(['references', 'app-secrets', ...R, '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.complete).toBe(true)
    expect(r.json.result.references).toContainEqual({type: 'secret', path: '/payments/prod/card-vault-key', region: 'nl-01', project: 'proj-payments'})
    expect(r.json.result.scanned.scopes).toBe(3)
  })
})

describe('fleet rotate (--label team=fleet)', () => {
  const fleet = () => e.emu.state.keys.filter((k) => k.labels.team === 'fleet' && k.regionSlug === 'nl-01' && k.projectIdentity === undefined)

  it('a missing or wrong --confirm-count is exit 7 and sends nothing', async () => {
    const n = fleet().length
    const sentNow = mark()
    const missing = await e.run(['rotate', '--label', 'team=fleet', ...R, '--json'])
    expect(missing.code).toBe(7)
    expect(missing.json.error.message).toContain(`--confirm-count ${n}`)
    const wrong = await e.run(['rotate', '--label', 'team=fleet', ...R, '--confirm-count', String(n + 1), '--json'])
    expect(wrong.code).toBe(7)
    expect(sentNow().filter(isMutation)).toEqual([])
  })

  it('the right count rotates every matched key exactly once, with per-key results', async () => {
    const keys = fleet()
    expect(keys.length).toBeGreaterThan(1)
    const versions = new Map(keys.map((k) => [k.identity, k.versions.length]))
    const sentNow = mark()
    const r = await e.run(['rotate', '--label', 'team=fleet', ...R, '--confirm-count', String(keys.length), '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.counts).toMatchObject({matched: keys.length, done: keys.length, refused: 0, failed: 0, unknown: 0})
    const rotations = sent(sentNow(), 'POST', /\/rotate$/).map((q) => q.path).sort()
    expect(rotations).toEqual(keys.map((k) => `/v1/kms/nl-01/keys/${k.identity}/rotate`).sort())
    for (const k of keys) {
      const result = r.json.result.results.find((x: {identity: string}) => x.identity === k.identity)
      expect(result).toMatchObject({outcome: 'done', before: {latestVersion: versions.get(k.identity)}, after: {latestVersion: (versions.get(k.identity) ?? 0) + 1}})
      expect(stored(k.slug)?.versions.length).toBe((versions.get(k.identity) ?? 0) + 1)
    }
  })
})

// ---- a loopback proxy that can answer chosen requests itself ------------------------------------------------

type Answer = {status: number; body: unknown} | undefined

async function startProxy(target: string, answer: (method: string, path: string, body: string) => Answer): Promise<{url: string; answered: number; close(): Promise<void>}> {
  const upstream = new URL(target)
  const state = {answered: 0}
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const own = answer(req.method ?? 'GET', new URL(req.url ?? '/', target).pathname, body.toString())
      if (own !== undefined) {
        state.answered++
        res.writeHead(own.status, {'Content-Type': 'application/json'})
        res.end(JSON.stringify(own.body))
        return
      }
      const fwd = httpRequest({host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: {...req.headers, host: upstream.host}}, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      fwd.on('error', () => res.destroy())
      fwd.end(body)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get answered() {
      return state.answered
    },
    close: () => new Promise<void>((done) => {
      server.closeAllConnections()
      server.close(() => done())
    }),
  }
}
