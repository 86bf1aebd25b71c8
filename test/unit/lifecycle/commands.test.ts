/**
 * The create / rotate / disable commands run in-process (oclif parsing, the base class, the --json envelope,
 * exit codes, the journal) against a real emulator on a loopback port this test starts. No nock in this file.
 */
import {mkdtempSync, readFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import Create from '../../../commands/create.js'
import Disable from '../../../commands/disable.js'
import Rotate from '../../../commands/rotate.js'

const ROOT = resolve(import.meta.dirname, '../../..')
let emu: EmulatorHandle
let journal: string

interface Run {
  code: number
  stdout: string
  stderr: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
}

async function run(command: typeof Create | typeof Rotate | typeof Disable, argv: string[]): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => out.push(String(chunk)) > 0)
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => err.push(String(chunk)) > 0)
  process.exitCode = undefined
  try {
    await (command as typeof Create).run(argv, ROOT)
  } finally {
    stdout.mockRestore()
    stderr.mockRestore()
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  const text = out.join('')
  return {code, stdout: text, stderr: err.join(''), json: argv.includes('--json') ? JSON.parse(text) : undefined}
}

const mutations = () => emu.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)
const journalLines = () => (existsSync(journal) ? readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [])

beforeAll(async () => {
  emu = await startEmulator({port: 0, seed: 'demo', quiet: true})
  const home = mkdtempSync(join(tmpdir(), 'kmsguard-lifecycle-'))
  journal = join(home, 'journal.jsonl')
  Object.assign(process.env, {
    HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), KMSGUARD_CONFIG_DIR: join(home, 'kmsguard'),
    THALASSA_CONFIG: join(home, 'tcloud-none.yaml'), KMSGUARD_JOURNAL: journal, THALASSA_API_ENDPOINT: emu.url,
    THALASSA_ORGANISATION: DEMO.org.slug, THALASSA_PERSONAL_ACCESS_TOKEN: DEMO.tokens.operator, CI: 'true', NO_COLOR: '1',
  })
})
afterAll(async () => emu.close())
beforeEach(() => emu.clearRequests())

describe('kmsguard create', () => {
  it('creates with --yes --json: the envelope carries the key and the policy verdicts', async () => {
    const r = await run(Create, ['-r', 'nl-01', '--name', 'Orders DB', '--type', 'aes256-gcm96', '--label', 'purpose=orders', '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({status: 'ok', command: 'create', result: {slug: 'orders-db', key: {slug: 'orders-db', status: 'active', keyRotationEnabled: true, rotationPeriodInDays: 90}}})
    expect(r.json.guards.map((g: {guard: string}) => g.guard)).toEqual(['region', 'policy', 'policy', 'policy'])
    expect(mutations()).toEqual(['POST /v1/kms/nl-01/keys'])
  })

  it.each([
    [['--label', 'novalue'], 'USAGE'],
    [['--rotation-period', '-1'], 'INVALID_ROTATION_PERIOD'],
    [['--rotation-period', 'abc'], 'INVALID_ROTATION_PERIOD'],
    [['--rotation-period', '30', '--no-rotation', '--reason', 'x'], 'USAGE'],
    [['--type', 'aes-512'], 'UNKNOWN_KEY_TYPE'],
    [['--allow-export'], 'POLICY_FLAGS'],
  ])('%j is exit 2 and sends nothing', async (extra, code) => {
    const type = extra.includes('--type') ? [] : ['--type', 'aes256-gcm96']
    const r = await run(Create, ['-r', 'nl-01', '--name', 'bad-input', ...type, '--yes', '--json', ...extra])
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe(code)
    expect(mutations()).toEqual([])
  })

  it('non-interactive without --yes is exit 7 naming --yes, and the refusal is journaled', async () => {
    const before = journalLines().length
    const r = await run(Create, ['-r', 'nl-01', '--name', 'unconfirmed', '--type', 'aes256-gcm96', '--json'])
    expect(r.code).toBe(7)
    expect(r.json.error.message).toContain('--yes')
    expect(mutations()).toEqual([])
    const line = journalLines().slice(before).at(-1)
    expect(line).toMatchObject({command: 'create', result: {status: 'error', code: 'NOT_CONFIRMED', exitCode: 7}})
  })

  it('--allow-export --reason --yes creates an exportable key and journals the override', async () => {
    const r = await run(Create, ['-r', 'nl-01', '--name', 'escrow-2', '--type', 'aes256-gcm96', '--label', 'purpose=escrow', '--allow-export', '--reason', 'DR escrow CHG-9', '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.key.exportAllowed).toBe(true)
    expect(journalLines().at(-1)).toMatchObject({command: 'create', overrides: [{flag: '--allow-export', reason: 'DR escrow CHG-9'}]})
  })

  it('a taken name is exit 6 CONFLICT naming the existing key', async () => {
    const r = await run(Create, ['-r', 'nl-01', '--name', 'app-secrets', '--type', 'aes256-gcm96', '--yes', '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error).toMatchObject({code: 'CONFLICT', details: {existing: {identity: DEMO.keys.appSecrets.identity}}})
    expect(r.json.error.hint).toContain('kmsguard get app-secrets')
  })

  it('--dry-run shows the planned POST in human output and sends nothing', async () => {
    const r = await run(Create, ['-r', 'nl-01', '--name', 'planned-key', '--type', 'ed25519', '--dry-run'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('POST /v1/kms/nl-01/keys')
    expect(r.stdout).toContain('Dry run')
    expect(mutations()).toEqual([])
  })
})

describe('kmsguard rotate', () => {
  it('rotates now and reports the new version and the billing note', async () => {
    const r = await run(Rotate, ['release-signing', '-r', 'nl-01', '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result).toMatchObject({previousVersion: 1, latestVersion: 2, versionCount: 2})
    expect(r.json.result.billingNote).toContain('billed')
    expect(mutations()).toEqual([`POST /v1/kms/nl-01/keys/${DEMO.keys.releaseSigning.identity}/rotate`])
  })

  it('refuses a disabled key with exit 3 and sends nothing', async () => {
    const r = await run(Rotate, ['legacy-data', '-r', 'nl-01', '--yes', '--json'])
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('KEY_STATE')
    expect(mutations()).toEqual([])
  })

  it('--schedule sends the PATCH; human output shows the change', async () => {
    const r = await run(Rotate, ['zone-signing', '-r', 'nl-01', '--schedule', '365', '--yes'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('every 365 days (was off)')
    expect(mutations()).toEqual([`PATCH /v1/kms/nl-01/keys/${DEMO.keys.zoneSigning.identity}/rotation`])
  })

  it('--no-schedule on a symmetric key without --reason is exit 2', async () => {
    const r = await run(Rotate, ['app-secrets', '-r', 'nl-01', '--no-schedule', '--yes', '--json'])
    expect(r.code).toBe(2)
    expect(mutations()).toEqual([])
  })

  it.each([
    [['app-secrets', '--label', 'team=fleet'], 'not both'],
    [[], 'give KEY'],
    [['--label', 'team=fleet', '--schedule', '30'], '--schedule applies only to a single KEY'],
    [['app-secrets', '--confirm-count', '1'], '--confirm-count applies only to a fleet'],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const r = await run(Rotate, [...argv, '-r', 'nl-01', '--json'])
    expect(r.code).toBe(2)
    expect(r.json.error.message).toContain(message)
    expect(mutations()).toEqual([])
  })

  it('a fleet rotate with the wrong --confirm-count is exit 7 and sends nothing', async () => {
    const r = await run(Rotate, ['--label', 'team=fleet', '-r', 'nl-01', '--confirm-count', '3', '--json'])
    expect(r.code).toBe(7)
    expect(r.json.error.message).toContain('--confirm-count 3 does not match the 2')
    expect(mutations()).toEqual([])
  })

  it('a fleet rotate with the right count rotates each matched key once and journals the keys', async () => {
    const r = await run(Rotate, ['--label', 'team=fleet', '-r', 'nl-01', '--confirm-count', '2'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/fleet-alpha .*done/)
    expect(r.stdout).toContain('rotate: 2 done, 0 refused, 0 failed, 0 unknown (of 2 matched)')
    expect(mutations().sort()).toEqual([`POST /v1/kms/nl-01/keys/${DEMO.keys.fleetAlpha.identity}/rotate`, `POST /v1/kms/nl-01/keys/${DEMO.keys.fleetBeta.identity}/rotate`])
    expect(journalLines().at(-1)).toMatchObject({command: 'rotate', keys: [{slug: 'fleet-alpha'}, {slug: 'fleet-beta'}]})
  })
})

describe('kmsguard disable', () => {
  it('needs --reason (exit 2)', async () => {
    const r = await run(Disable, ['escrow-key', '-r', 'nl-01', '--confirm', 'escrow-key', '--json'])
    expect(r.code).toBe(2)
    expect(r.json.error.message).toContain('--reason')
    expect(emu.requests.filter((req) => req.path.startsWith('/v1/kms'))).toEqual([])
  })

  it('shows what depends on the key as a warning and still disables it', async () => {
    const r = await run(Disable, ['app-secrets', '-r', 'nl-01', '--reason', 'INC-1', '--confirm', 'app-secrets', '--json'])
    expect(r.code).toBe(0)
    const refs = r.json.guards.find((g: {guard: string}) => g.guard === 'references')
    expect(refs.outcome).toBe('warn')
    expect(refs.details.references.length).toBeGreaterThan(0)
    expect(r.json.result.key.status).toBe('disabled')
    expect(mutations()).toEqual([`POST /v1/kms/nl-01/keys/${DEMO.keys.appSecrets.identity}/disable`])
    expect(journalLines().at(-1)).toMatchObject({command: 'disable', confirmation: 'confirm-flag', details: {reason: 'INC-1'}})
  })

  it('an already disabled key is exit 3 saying so', async () => {
    const r = await run(Disable, ['legacy-data', '-r', 'nl-01', '--reason', 'INC-1', '--confirm', 'legacy-data', '--json'])
    expect(r.code).toBe(3)
    expect(r.json.error).toMatchObject({code: 'ALREADY_DISABLED'})
    expect(mutations()).toEqual([])
  })

  it('without --confirm (non-interactive) is exit 7 and sends nothing', async () => {
    const r = await run(Disable, ['escrow-key', '-r', 'nl-01', '--reason', 'INC-1', '--json'])
    expect(r.code).toBe(7)
    expect(r.json.error.message).toContain('--confirm escrow-key')
    expect(mutations()).toEqual([])
  })

  it('a fleet disable skips the scan, disables the matched keys and recommends `references` for each', async () => {
    const r = await run(Disable, ['--label', 'team=fleet', '-r', 'nl-01', '--reason', 'INC-2', '--confirm-count', '2', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.counts).toMatchObject({matched: 2, done: 2})
    expect(r.json.warnings).toEqual(expect.arrayContaining([expect.stringContaining('kmsguard references fleet-alpha -r nl-01')]))
    expect(emu.requests.some((req) => req.path.startsWith('/v1/secrets') || req.path.startsWith('/v1/dns'))).toBe(false)
  })
})
