/**
 * End-to-end: the non-interactive guarantee. With no TTY (stdin closed, or even open but idle) every mutating
 * command run without --yes / --confirm / --confirm-count ends at once with exit 7, names the flag it needs,
 * and sends no mutating request. A run that waited for input would be killed by the spawn timeout and fail.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, type RecordedRequest} from '../../src/emulator/index.js'
import {BIN, startE2E, type E2E} from './harness.js'

let e: E2E
let pending: string
let approved: string
let material: string

const R = ['-r', 'nl-01']
const KILL_AFTER_MS = 20_000

beforeAll(async () => {
  e = await startE2E()
  material = join(e.home, 'material.bin')
  writeFileSync(material, randomBytes(32), {mode: 0o600, flag: 'wx'})
  const ask = async () => {
    const r = await e.run(['export:request', 'escrow-key', ...R, '--policy', 'kms-export', '--reason', 'non-interactive drill', '--yes', '--json'])
    expect(r.code, r.stdout).toBe(0)
    return r.json.result.elevation.identity as string
  }
  pending = await ask()
  approved = await ask()
  expect((await e.run(['approve', approved, '--yes'], {as: 'approver'})).code).toBe(0)
})
afterAll(async () => e?.close())

const isMutation = (r: RecordedRequest) => r.method !== 'GET' && !r.path.startsWith('/oidc/')

const cases: Array<{name: string; args: () => string[]; flag: RegExp; as?: 'approver'}> = [
  {name: 'create', args: () => ['create', ...R, '--name', 'ni-create', '--type', 'aes256-gcm96'], flag: /--yes/},
  {name: 'import', args: () => ['import', ...R, '--name', 'ni-import', '--type', 'aes256-gcm96', '--material', material], flag: /--yes/},
  {name: 'rotate', args: () => ['rotate', 'app-secrets', ...R], flag: /--yes/},
  {name: 'rotate --schedule', args: () => ['rotate', 'app-secrets', ...R, '--schedule', '30'], flag: /--yes/},
  {name: 'rotate --no-schedule', args: () => ['rotate', 'app-secrets', ...R, '--no-schedule', '--reason', 'drill'], flag: /--yes/},
  {name: 'rotate --label (fleet)', args: () => ['rotate', '--label', 'team=fleet', ...R], flag: /--confirm-count 2/},
  {name: 'disable', args: () => ['disable', 'app-secrets', ...R, '--reason', 'drill'], flag: /--confirm app-secrets/},
  {name: 'disable --label (fleet)', args: () => ['disable', '--label', 'team=fleet', ...R, '--reason', 'drill'], flag: /--confirm-count 2/},
  {name: 'enable', args: () => ['enable', 'legacy-data', ...R], flag: /--yes/},
  {name: 'delete', args: () => ['delete', 'legacy-data', ...R], flag: /--confirm legacy-data/},
  {name: 'cancel-deletion', args: () => ['cancel-deletion', 'old-hmac', ...R], flag: /--yes/},
  {name: 'export:request', args: () => ['export:request', 'escrow-key', ...R, '--policy', 'kms-export', '--reason', 'drill'], flag: /--yes/},
  {name: 'approve', args: () => ['approve', pending], flag: /--yes/, as: 'approver'},
  {name: 'approve --reject', args: () => ['approve', pending, '--reject'], flag: /--yes/, as: 'approver'},
  {name: 'export', args: () => ['export', 'escrow-key', ...R, '--approval', approved, '--plaintext', '--out', join(e.home, 'ni-export.bin')], flag: /--confirm escrow-key/},
]

describe('stdin closed, CI set (the harness default), human output', () => {
  it.each(cases)('$name without confirmation: exit 7 naming the flag, nothing sent', async ({args, flag, as}) => {
    const from = e.emu.requests.length
    const r = await e.run(args(), {as, timeoutMs: KILL_AFTER_MS})
    expect(r.code, r.stdout + r.stderr).toBe(7)
    expect(r.stderr).toMatch(flag)
    expect(r.stdout).toBe('')
    expect(e.emu.requests.slice(from).filter(isMutation)).toEqual([])
  })
})

/** Runs the CLI with stdin left OPEN (a pipe nobody writes to) and CI unset: still no TTY, so still no prompt. */
function runWithOpenStdin(args: string[]): Promise<{code: number; stderr: string}> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: e.home, XDG_CONFIG_HOME: join(e.home, 'config'), XDG_STATE_HOME: join(e.home, 'state'),
    THALASSA_CONFIG: join(e.home, 'tcloud-none.yaml'), KMSGUARD_JOURNAL: e.journal, THALASSA_API_ENDPOINT: e.emu.url,
    THALASSA_ORGANISATION: DEMO.org.slug, THALASSA_PERSONAL_ACCESS_TOKEN: DEMO.tokens.operator, NO_COLOR: '1',
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env, stdio: ['pipe', 'pipe', 'pipe'], timeout: KILL_AFTER_MS, killSignal: 'SIGKILL'})
    let stderr = ''
    child.stdout.resume()
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      child.stdin.destroy()
      resolve({code: code ?? (signal ? 128 : 1), stderr})
    })
  })
}

describe('stdin open but not a TTY, CI unset', () => {
  it.each([
    {name: 'delete', args: ['delete', 'legacy-data', ...R], flag: /--confirm legacy-data/},
    {name: 'rotate', args: ['rotate', 'app-secrets', ...R], flag: /--yes/},
  ])('$name does not wait for input: exit 7, nothing sent', async ({args, flag}) => {
    const from = e.emu.requests.length
    const r = await runWithOpenStdin(args)
    expect(r.code, r.stderr).toBe(7)
    expect(r.stderr).toMatch(flag)
    expect(e.emu.requests.slice(from).filter(isMutation)).toEqual([])
  })
})
