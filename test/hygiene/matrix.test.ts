/**
 * Secret hygiene, proved (issue 8.3): every command of the CLI runs against the emulator with sentinel
 * credentials and sentinel key material — once per scenario, where a scenario is an auth kind (personal access
 * token, OIDC client credentials, bearer token) and a debug mode (none, --debug, DEBUG=kmsguard). Then stdout,
 * stderr, the journal and every file kmsguard wrote are searched for every sentinel in raw, base64, base64url
 * and hex form. None may appear. Exported material goes only to its 0600 --out file, and no command starts a
 * child process (whose command line other users could read).
 */
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {wrapForImport} from '../../src/crypto/byok.js'
import {unwrapWithPrivateKey} from '../../src/crypto/recipient.js'
import {DEMO} from '../../src/emulator/index.js'
import {findIssuedTokens, findLeaks, type Haystack, type Sentinel} from './sentinels.js'
import {runRaw, type RawRun} from './spawn.js'
import {spawnRecorder} from './spawn-recorder.js'
import {scenarioEnv, startWorld, type AuthKind, type World} from './world.js'

type DebugMode = 'none' | '--debug' | 'DEBUG=kmsguard'

interface Scenario {
  id: string
  auth: AuthKind
  debug: DebugMode
  /** Human output, or every command with --json. */
  json: boolean
}

const SCENARIOS: Scenario[] = [
  ...(['none', '--debug', 'DEBUG=kmsguard'] as const).map((debug, i) => ({id: `pat-${i}`, auth: 'pat' as const, debug, json: false})),
  ...(['none', '--debug', 'DEBUG=kmsguard'] as const).map((debug, i) => ({id: `cc-${i}`, auth: 'client-credentials' as const, debug, json: true})),
  {id: 'bearer', auth: 'bearer', debug: '--debug', json: false},
]

interface Step {
  title: string
  args: string[]
  expect: number[]
  as?: 'approver'
  /** Reads what later steps need from the run. */
  capture?: (run: RawRun) => void
  stopWhen?: (stdout: string) => boolean
}

const R = ['-r', DEMO.regions.available]
const ESCROW = DEMO.keys.escrowKey.slug
const json = (run: RawRun) => JSON.parse(run.stdout.toString('utf8'))

let world: World
let root: string
let recipient: {publicPem: string; privatePem: string}
let escrowMaterial: Buffer
const matrixRuns: number[] = []

beforeAll(async () => {
  world = await startWorld()
  root = mkdtempSync(join(tmpdir(), 'kmsguard-hygiene-'))
  const pair = generateKeyPairSync('rsa', {modulusLength: 3072})
  recipient = {publicPem: pair.publicKey.export({type: 'spki', format: 'pem'}).toString(), privatePem: pair.privateKey.export({type: 'pkcs8', format: 'pem'}).toString()}
  const escrow = world.e2e.emu.state.keys.find((k) => k.slug === ESCROW)!
  escrowMaterial = Buffer.from(escrow.versions.at(-1)!.material)
})

afterAll(async () => {
  console.log(`hygiene matrix: ${SCENARIOS.length} scenarios, ${matrixRuns.reduce((a, b) => a + b, 0)} command runs`)
  await world?.e2e.close()
  if (root) rmSync(root, {recursive: true, force: true})
})

/** The command list of one scenario; `vars` fills in what earlier steps captured. */
function steps(s: Scenario, dir: string, vars: Record<string, string>): Step[] {
  const key = `hyg-${s.id}`
  const label = `hyg=${s.id}`
  const elevation = (name: string) => (run: RawRun) => {
    vars[name] = json(run).result.elevation.identity
  }
  const request = (name: string): Step => ({title: `export:request (${name})`, args: ['export:request', ESCROW, ...R, '--policy', DEMO.exportPolicy.slug, '--reason', 'hygiene proof', '--yes', '--json'], expect: [0], capture: elevation(name)})
  return [
    {title: 'summary', args: ['summary'], expect: [0]},
    {title: 'whoami', args: ['whoami'], expect: [0]},
    {title: 'list', args: ['list', ...R], expect: [0]},
    {title: 'list --all-regions', args: ['list', '--all-regions'], expect: [0]},
    {title: 'get', args: ['get', DEMO.keys.appSecrets.slug, ...R], expect: [0]},
    {title: 'create', args: ['create', ...R, '--name', key, '--type', 'aes256-gcm96', '--label', 'purpose=hygiene', '--label', label, '--yes'], expect: [0]},
    {title: 'rotate', args: ['rotate', key, ...R, '--yes'], expect: [0]},
    {title: 'rotate --schedule', args: ['rotate', key, ...R, '--schedule', '30', '--yes'], expect: [0]},
    {title: 'rotate --label (fleet)', args: ['rotate', '--label', label, ...R, '--confirm-count', '1'], expect: [0]},
    {title: 'disable', args: ['disable', key, ...R, '--reason', 'hygiene proof', '--confirm', key], expect: [0]},
    {title: 'enable', args: ['enable', key, ...R, '--yes'], expect: [0]},
    {title: 'disable --label (fleet)', args: ['disable', '--label', label, ...R, '--reason', 'hygiene proof', '--confirm-count', '1'], expect: [0]},
    {title: 'delete', args: ['delete', key, ...R, '--confirm', key], expect: [0]},
    {title: 'cancel-deletion', args: ['cancel-deletion', key, ...R, '--yes'], expect: [0]},
    {title: 'references', args: ['references', DEMO.keys.appSecrets.slug, ...R], expect: [0]},
    {title: 'delete (refused: referenced)', args: ['delete', DEMO.keys.appSecrets.slug, ...R, '--allow-active', '--reason', 'hygiene proof', '--confirm', DEMO.keys.appSecrets.slug], expect: [4]},
    request('first'),
    {title: 'export before approval (refused)', args: ['export', ESCROW, ...R, '--approval', vars.first, '--recipient', join(dir, 'recipient.pem'), '--out', join(dir, 'early.bin'), '--confirm', ESCROW], expect: [5]},
    {title: 'approve', args: ['approve', vars.first, '--note', 'hygiene', '--yes'], expect: [0], as: 'approver'},
    {title: 'export --recipient', args: ['export', ESCROW, ...R, '--approval', vars.first, '--recipient', join(dir, 'recipient.pem'), '--out', join(dir, 'wrapped.bin'), '--confirm', ESCROW], expect: [0]},
    {title: 'export again (refused: used)', args: ['export', ESCROW, ...R, '--approval', vars.first, '--recipient', join(dir, 'recipient.pem'), '--out', join(dir, 'again.bin'), '--confirm', ESCROW], expect: [5]},
    request('second'),
    {title: 'approve (second)', args: ['approve', vars.second, '--yes'], expect: [0], as: 'approver'},
    {title: 'export --plaintext', args: ['export', ESCROW, ...R, '--approval', vars.second, '--plaintext', '--out', join(dir, 'plaintext.bin'), '--confirm', ESCROW], expect: [0]},
    {title: 'wrapping-key', args: ['wrapping-key', ...R, '--json'], expect: [0], capture: (run) => {
      vars.wrappingPem = json(run).result.publicKey
      vars.wrappingAlgorithm = json(run).result.algorithm
    }},
    {title: 'wrapping-key --out', args: ['wrapping-key', ...R, '--out', join(dir, 'wrapping.pem')], expect: [0]},
    {title: 'import --material', args: ['import', ...R, '--name', `${key}-byok`, '--type', 'aes256-gcm96', '--material', join(dir, 'material.bin'), '--label', 'purpose=hygiene', '--yes'], expect: [0]},
    {title: 'import --wrapped-material', args: ['import', ...R, '--name', `${key}-wrapped`, '--type', 'aes256-gcm96', '--wrapped-material', join(dir, 'wrapped-input.b64'), '--yes'], expect: [0]},
    {title: 'public-key', args: ['public-key', DEMO.keys.zoneSigning.slug, ...R], expect: [0]},
    {title: 'audit', args: ['audit', '--since', '7d'], expect: [0, 8]},
    {title: 'journal', args: ['journal'], expect: [0]},
    {title: 'journal verify', args: ['journal', 'verify'], expect: [0]},
    {title: 'config set', args: ['config', 'set', 'region', DEMO.regions.available], expect: [0]},
    {title: 'config get', args: ['config', 'get', 'region'], expect: [0]},
    {title: 'config list', args: ['config', 'list'], expect: [0]},
    {title: 'config unset', args: ['config', 'unset', 'region'], expect: [0]},
    {title: 'emulator', args: ['emulator', '--port', '0'], expect: [0], stopWhen: (out) => /listening|"url"/.test(out)},
  ]
}

/** Every file under `dir` except the ones that hold material on purpose (inputs, the plaintext export). */
function writtenFiles(dir: string, exclude: Set<string>): Haystack[] {
  const found: Haystack[] = []
  for (const entry of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    const path = join(entry.parentPath, entry.name)
    if (entry.isFile() && !exclude.has(path)) found.push({where: `file ${path.slice(root.length)}`, data: readFileSync(path)})
  }
  return found
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

describe.concurrent('every command, every auth kind and debug mode: no secret in any output', () => {
  for (const s of SCENARIOS) {
    it(`${s.auth}, debug ${s.debug}, ${s.json ? '--json' : 'human'} output`, async () => {
      const dir = join(root, s.id)
      const debugEnv = s.debug === 'DEBUG=kmsguard' ? {DEBUG: 'kmsguard'} : {}
      const env = {...scenarioEnv(world, dir, s.auth), ...debugEnv}
      const approverEnv = {...scenarioEnv(world, dir, 'approver'), ...debugEnv}
      const recorder = spawnRecorder(dir)
      const importMaterial = randomBytes(32)
      const wrappedMaterial = randomBytes(32)
      writeFileSync(join(dir, 'recipient.pem'), recipient.publicPem)
      writeFileSync(join(dir, 'material.bin'), importMaterial, {mode: 0o600})
      chmodSync(join(dir, 'material.bin'), 0o600)

      const vars: Record<string, string> = {}
      const runs: RawRun[] = []
      const wrong: string[] = []
      for (let i = 0; ; i++) {
        const step = steps(s, dir, vars)[i]
        if (!step) break
        if (step.title === 'import --wrapped-material') {
          writeFileSync(join(dir, 'wrapped-input.b64'), wrapForImport(wrappedMaterial, vars.wrappingPem, vars.wrappingAlgorithm).importKeyMaterial)
        }
        const extra = [...(s.debug === '--debug' ? ['--debug'] : []), ...(s.json && !step.args.includes('--json') ? ['--json'] : [])]
        const run = await runRaw([...step.args, ...extra], {env: {...(step.as === 'approver' ? approverEnv : env), ...recorder.env}, stopWhen: step.stopWhen})
        runs.push(run)
        if (!step.expect.includes(run.code)) wrong.push(`${step.title}: exit ${run.code}, expected ${step.expect.join(' or ')}: ${run.stderr.toString().split('\n').find((l) => l.startsWith('Error')) ?? ''}`)
        else step.capture?.(run)
      }
      matrixRuns.push(runs.length)
      expect(wrong).toEqual([])
      // No command but demo starts a child process, so no secret can leak through a command line.
      expect(recorder.read().map((c) => `${c.fn} ${c.command}`)).toEqual([])

      const sentinels: Sentinel[] = [
        ...world.sentinels,
        {name: 'imported key material (--material)', value: importMaterial},
        {name: 'imported key material (--wrapped-material)', value: wrappedMaterial},
        {name: 'exported escrow-key material', value: escrowMaterial},
      ]
      const onPurpose = new Set(['material.bin', 'wrapped-input.b64', 'recipient.pem', 'plaintext.bin', 'record-spawns.mjs'].map((f) => join(dir, f)))
      const haystacks: Haystack[] = [
        ...runs.flatMap((r) => [{where: `stdout of \`${r.argv.join(' ')}\``, data: r.stdout}, {where: `stderr of \`${r.argv.join(' ')}\``, data: r.stderr}]),
        ...writtenFiles(dir, onPurpose),
      ]
      expect(haystacks.some((h) => h.where.endsWith('journal.jsonl'))).toBe(true)
      expect(findLeaks(haystacks, sentinels)).toEqual([])
      expect(findIssuedTokens(haystacks)).toEqual([])

      // Tracing really was on in the debug modes (so the search above covered the trace lines).
      const traced = runs.some((r) => r.stderr.toString().includes('[kmsguard] GET /v1/'))
      expect(traced).toBe(s.debug !== 'none')

      // The material went where it should, and only there.
      expect(mode(join(dir, 'plaintext.bin'))).toBe('600')
      expect(readFileSync(join(dir, 'plaintext.bin')).equals(escrowMaterial)).toBe(true)
      // Positive control: the same search does find the material in the one file that is meant to hold it.
      expect(findLeaks([{where: 'the --plaintext file', data: readFileSync(join(dir, 'plaintext.bin'))}], sentinels)).toEqual(['exported escrow-key material (raw) in the --plaintext file'])
      expect(mode(join(dir, 'wrapped.bin'))).toBe('600')
      expect(unwrapWithPrivateKey(readFileSync(join(dir, 'wrapped.bin')), recipient.privatePem).equals(escrowMaterial)).toBe(true)
      const imported = (name: string) => world.e2e.emu.state.keys.find((k) => k.name === name)?.versions[0]?.material
      expect(imported(`hyg-${s.id}-byok`)?.equals(importMaterial)).toBe(true)
      expect(imported(`hyg-${s.id}-wrapped`)?.equals(wrappedMaterial)).toBe(true)
    }, 300_000)
  }
})
