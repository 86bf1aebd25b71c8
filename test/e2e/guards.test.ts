/**
 * End-to-end: the preflight guards as the CLI applies them — --dry-run on every mutation (guards run, nothing
 * is sent, the exit code is the guards' verdict), the region guard, the organisation's KMS feature gate (both
 * ways the API shows it) and the fail-closed reference scan with its recorded override.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {RecordedRequest} from '../../src/emulator/index.js'
import {startE2E, type E2E} from './harness.js'

let e: E2E
let material: string
beforeAll(async () => {
  e = await startE2E()
  material = join(e.home, 'dry-run-material.bin')
  writeFileSync(material, randomBytes(32), {mode: 0o600, flag: 'wx'})
})
afterAll(async () => e?.close())

const R = ['-r', 'nl-01']
const mark = (x: E2E = e) => {
  const from = x.emu.requests.length
  return () => x.emu.requests.slice(from)
}
const isMutation = (r: RecordedRequest) => r.method !== 'GET' && !r.path.startsWith('/oidc/')

describe('--dry-run: every guard runs, nothing is sent, the exit code is what the real run would get', () => {
  const cases: Array<{name: string; args: () => string[]; code: number; as?: 'approver'}> = [
    {name: 'create', args: () => ['create', ...R, '--name', 'dry-create', '--type', 'aes256-gcm96'], code: 0},
    {name: 'rotate now', args: () => ['rotate', 'app-secrets', ...R], code: 0},
    {name: 'rotate --schedule', args: () => ['rotate', 'app-secrets', ...R, '--schedule', '45'], code: 0},
    {name: 'rotate fleet', args: () => ['rotate', '--label', 'team=fleet', ...R], code: 0},
    {name: 'disable a referenced key (impact is a warning)', args: () => ['disable', 'app-secrets', ...R, '--reason', 'drill'], code: 0},
    {name: 'enable a disabled key', args: () => ['enable', 'legacy-data', ...R], code: 0},
    {name: 'enable an active key (key-state)', args: () => ['enable', 'app-secrets', ...R], code: 3},
    {name: 'delete a disabled unreferenced key', args: () => ['delete', 'legacy-data', ...R], code: 0},
    {name: 'delete an active key (key-state)', args: () => ['delete', 'app-secrets', ...R], code: 3},
    {name: 'delete a referenced key (references)', args: () => ['delete', 'app-secrets', ...R, '--allow-active', '--reason', 'drill'], code: 4},
    {name: 'cancel-deletion of a pending key', args: () => ['cancel-deletion', 'old-hmac', ...R], code: 0},
    {name: 'cancel-deletion of an active key (key-state)', args: () => ['cancel-deletion', 'app-secrets', ...R], code: 3},
    {name: 'export:request', args: () => ['export:request', 'escrow-key', ...R, '--policy', 'kms-export', '--reason', 'drill'], code: 0},
    {name: 'export:request of a non-exportable key', args: () => ['export:request', 'app-secrets', ...R, '--policy', 'kms-export', '--reason', 'drill'], code: 3},
    {name: 'export with an unknown approval', args: () => ['export', 'escrow-key', ...R, '--approval', 'iamae-000000000000', '--plaintext', '--out', join(e.home, 'dry-export.bin')], code: 5},
    {name: 'approve an unknown request', args: () => ['approve', 'iamae-000000000000'], code: 5, as: 'approver'},
    {name: 'import', args: () => ['import', ...R, '--name', 'dry-import', '--type', 'aes256-gcm96', '--material', material], code: 0},
  ]

  it.each(cases.map((c) => ({...c, title: `${c.name} → exit ${c.code}`})))('$title, no mutating request', async ({args, code, as}) => {
    const sentNow = mark()
    const r = await e.run([...args(), '--dry-run', '--json'], {as})
    expect(r.code, r.stdout + r.stderr).toBe(code)
    expect(sentNow().filter(isMutation)).toEqual([])
    if (code === 0) {
      expect(r.json).toMatchObject({status: 'ok', dryRun: true})
      expect(r.json.result.planned.length).toBeGreaterThan(0)
      expect(r.json.result.planned.every((p: {method: string}) => p.method !== 'GET')).toBe(true)
    } else {
      expect(r.json.status).toBe('error')
      expect(r.json.error.exitCode).toBe(code)
      expect(r.json.guards.at(-1).outcome).toBe('fail')
    }
  })
})

describe('region guard', () => {
  it('nl-02 (no KMS there) is exit 3 naming nl-01 as available; nothing sent', async () => {
    const sentNow = mark()
    const created = await e.run(['create', '-r', 'nl-02', '--name', 'region-test', '--type', 'aes256-gcm96', '--yes', '--json'])
    expect(created.code).toBe(3)
    expect(created.json.error.code).toBe('REGION_UNAVAILABLE')
    expect(created.json.error.message).toMatch(/available in: nl-01/)
    expect(created.json.guards).toEqual([expect.objectContaining({guard: 'region', outcome: 'fail', details: {available: ['nl-01']}})])
    const rotated = await e.run(['rotate', 'app-secrets', '-r', 'nl-02', '--yes', '--json'])
    expect(rotated.code).toBe(3)
    expect(rotated.json.error.hint).toMatch(/-r nl-01/)
    expect(sentNow().filter(isMutation)).toEqual([])
  })

  it('an unknown region is exit 3 (REGION_UNKNOWN); nothing sent', async () => {
    const sentNow = mark()
    const r = await e.run(['delete', 'legacy-data', '-r', 'xx-99', '--confirm', 'legacy-data', '--json'])
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('REGION_UNKNOWN')
    expect(r.json.error.message).toMatch(/nl-01/)
    expect(sentNow().filter(isMutation)).toEqual([])
  })
})

describe('the organisation\'s KMS feature gate is off', () => {
  let gated: E2E
  beforeAll(async () => {
    gated = await startE2E()
    gated.emu.state.orgs[0].settings.kmsFeatureEnabled = false
  })
  afterAll(async () => gated?.close())

  it.each(['summary', 'all'] as const)('gate mode %s: a mutation is exit 3 KMS_DISABLED and nothing is sent', async (mode) => {
    gated.emu.state.orgs[0].settings.kmsGateMode = mode
    const sentNow = mark(gated)
    const created = await gated.run(['create', ...R, '--name', `gated-${mode}`, '--type', 'aes256-gcm96', '--yes', '--json'])
    expect(created.code).toBe(3)
    expect(created.json.error.code).toBe('KMS_DISABLED')
    const rotated = await gated.run(['rotate', 'app-secrets', ...R, '--yes', '--json'])
    expect(rotated.code).toBe(3)
    expect(rotated.json.error.code).toBe('KMS_DISABLED')
    expect(sentNow().filter(isMutation)).toEqual([])
    const summary = sentNow().filter((q) => q.path === '/v1/kms/summary')
    expect(summary.length).toBeGreaterThan(0)
    expect(summary.every((q) => q.status === (mode === 'all' ? 403 : 200))).toBe(true)
  })
})

describe('an incomplete reference scan fails closed', () => {
  it('delete is exit 4 SCAN_INCOMPLETE; --accept-incomplete-scan --reason lets it through and the journal records the override', async () => {
    const created = await e.run(['create', ...R, '--name', 'scan-gap', '--type', 'aes256-gcm96', '--label', 'purpose=e2e', '--yes', '--json'])
    expect(created.code).toBe(0)
    const identity = created.json.result.key.identity
    expect((await e.run(['disable', 'scan-gap', ...R, '--reason', 'e2e', '--confirm', 'scan-gap'])).code).toBe(0)

    e.emu.setFaults({rate: 1, kinds: ['500'], routes: ['GET /v1/dns/zones/[^/]+/dnssec'], seed: 7})
    try {
      const sentNow = mark()
      const dry = await e.run(['delete', 'scan-gap', ...R, '--dry-run', '--json'])
      expect(dry.code).toBe(4)
      expect(dry.json.error.code).toBe('SCAN_INCOMPLETE')
      const refused = await e.run(['delete', 'scan-gap', ...R, '--confirm', 'scan-gap', '--json'])
      expect(refused.code).toBe(4)
      expect(refused.json.error.code).toBe('SCAN_INCOMPLETE')
      const verdict = refused.json.guards.find((g: {guard: string}) => g.guard === 'references')
      expect(verdict.outcome).toBe('fail')
      expect(verdict.details.unread.length).toBeGreaterThan(0)
      expect(verdict.details.unread.every((u: {what: string}) => u.what === 'dnssec status')).toBe(true)
      expect(sentNow().filter(isMutation)).toEqual([])
      expect(sentNow().some((q) => /\/dnssec$/.test(q.path) && q.status === 500)).toBe(true)

      const reason = 'DNS API outage, CHG-4711'
      const accepted = await e.run(['delete', 'scan-gap', ...R, '--confirm', 'scan-gap', '--accept-incomplete-scan', '--reason', reason, '--json'])
      expect(accepted.code).toBe(0)
      expect(accepted.json.result.overrides).toEqual([{flag: '--accept-incomplete-scan', reason}])
      expect(accepted.json.guards.find((g: {guard: string}) => g.guard === 'references').outcome).toBe('warn')
      expect(sentNow().filter(isMutation).map((q) => `${q.method} ${q.path}`)).toEqual([`DELETE /v1/kms/nl-01/keys/${identity}`])
    } finally {
      e.emu.setFaults(undefined)
    }
    const deletes = readFileSync(e.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.command === 'delete' && l.key?.slug === 'scan-gap')
    expect(deletes.map((l) => [l.dryRun, l.result.exitCode])).toEqual([[true, 4], [false, 4], [false, 0]])
    expect(deletes[1].result.code).toBe('SCAN_INCOMPLETE')
    expect(deletes[2].overrides).toEqual([{flag: '--accept-incomplete-scan', reason: 'DNS API outage, CHG-4711'}])
    expect(deletes[2].guards).toContainEqual(expect.objectContaining({guard: 'references', outcome: 'warn'}))
  })
})
