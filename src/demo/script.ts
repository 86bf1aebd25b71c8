/**
 * The demo rehearsal: an in-process emulator on a free loopback port, and the real kmsguard commands run as
 * child processes against it — exactly the command lines a runbook would hold — with a narration of what each
 * step shows. Each step states the exit code it expects (a refusal is a success of the guard); a step whose
 * command does not exist yet is reported as "not yet available" and skipped.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface DemoStep {
  title: string
  why: string
  command: string
  args: string[]
  expectExit: number
  /** What a non-zero expected exit means here, for the narration. */
  expectNote?: string
  as?: 'operator' | 'approver'
  /** Parse --json output to feed later steps. */
  capture?: (json: unknown, vars: Record<string, string>) => void
}

export interface StepResult {
  title: string
  argv: string[]
  status: 'ok' | 'unexpected' | 'not-available'
  exitCode?: number
  expectExit: number
}

export interface DemoIo {
  say(text: string): void
  /** Output of a child command, passed through for the narration. */
  echo(text: string): void
}

export function demoSteps(dir: string): DemoStep[] {
  const r = ['-r', 'nl-01']
  return [
    {title: 'Where is KMS available?', why: 'Every regional mutation starts with this check: nl-01 has KMS, nl-02 does not.', command: 'summary', args: [], expectExit: 0},
    {title: 'Create a key', why: 'Symmetric keys get automatic rotation by default; a purpose label says what the key is for.', command: 'create', args: [...r, '--name', 'rehearsal-key', '--type', 'aes256-gcm96', '--label', 'purpose=rehearsal', '--yes'], expectExit: 0},
    {title: 'Rotate it now', why: 'A new version becomes current; old ciphertext still decrypts. Each version is billable.', command: 'rotate', args: ['rehearsal-key', ...r, '--yes'], expectExit: 0},
    {title: 'What still uses app-secrets?', why: 'The reference scan reads every secret and every DNSSEC zone, in the organisation and in every project.', command: 'references', args: ['app-secrets', ...r], expectExit: 0},
    {title: 'Try to delete a key that secrets still use', why: 'Refused with exit 4: deleting it would make those secrets unreadable.', command: 'delete', args: ['app-secrets', ...r, '--allow-active', '--reason', 'rehearsal: show the reference guard', '--confirm', 'app-secrets'], expectExit: 4},
    {title: 'Try to delete a key that signs a DNSSEC zone', why: 'Refused with exit 4: the zone would stop validating.', command: 'delete', args: ['zone-signing', ...r, '--allow-active', '--reason', 'rehearsal: show the reference guard', '--confirm', 'zone-signing'], expectExit: 4},
    {title: 'Disable the rehearsal key', why: 'Disable before delete: reversible, and it shows at once who still needed the key.', command: 'disable', args: ['rehearsal-key', ...r, '--reason', 'rehearsal', '--confirm', 'rehearsal-key'], expectExit: 0},
    {title: 'Ask for export approval (operator)', why: 'Export is break-glass: one person asks, a second approves, through an IAM access elevation bound to this one export.', command: 'export:request', args: ['escrow-key', ...r, '--policy', 'kms-export', '--reason', 'rehearsal: escrow to the HSM', '--duration', '1h', '--yes', '--json'], expectExit: 0,
      capture: (json, vars) => {
        const result = (json as {result?: {elevation?: {identity?: string}; identity?: string}}).result
        const id = result?.elevation?.identity ?? result?.identity
        if (id) vars.elevation = id
      }},
    {title: 'Try to export before approval', why: 'Refused with exit 5: the approval is still pending, and no export request is sent.', command: 'export', args: ['escrow-key', ...r, '--approval', '{elevation}', '--out', join(dir, 'too-early.bin'), '--recipient', join(dir, 'recipient.pem'), '--confirm', 'escrow-key'], expectExit: 5},
    {title: 'Approve it (approver, a second person)', why: 'The approver sees what is approved in plain words; approving one\'s own request is refused.', command: 'approve', args: ['{elevation}', '--note', 'rehearsal approved', '--yes'], expectExit: 0, as: 'approver'},
    {title: 'Export, wrapped to the HSM\'s public key', why: 'Only the wrapped bytes are written (RSA-OAEP + AES key wrap), to a new 0600 file; the output shows a fingerprint, never the material.', command: 'export', args: ['escrow-key', ...r, '--approval', '{elevation}', '--out', join(dir, 'escrow.wrapped'), '--recipient', join(dir, 'recipient.pem'), '--confirm', 'escrow-key'], expectExit: 0},
    {title: 'Use the same approval again', why: 'Refused with exit 5: an approval is used once.', command: 'export', args: ['escrow-key', ...r, '--approval', '{elevation}', '--out', join(dir, 'again.wrapped'), '--recipient', join(dir, 'recipient.pem'), '--confirm', 'escrow-key'], expectExit: 5},
    {title: 'The region\'s BYOK wrapping key', why: 'Import wraps locally to this key with the algorithm the server announces.', command: 'wrapping-key', args: [...r, '--out', join(dir, 'wrapping.pem')], expectExit: 0},
    {title: 'Import (BYOK) from a 0600 file', why: 'Raw material is read from a file, never the command line, and wrapped before it leaves this machine.', command: 'import', args: [...r, '--name', 'byok-rehearsal', '--type', 'aes256-gcm96', '--material', join(dir, 'material.bin'), '--label', 'purpose=rehearsal', '--yes'], expectExit: 0},
    {title: 'Delete a disabled key nothing uses', why: 'Every guard passes: deletion is scheduled with a 30-day window.', command: 'delete', args: ['legacy-data', ...r, '--confirm', 'legacy-data'], expectExit: 0},
    {title: 'Change your mind', why: 'Within the window a scheduled deletion can be cancelled.', command: 'cancel-deletion', args: ['legacy-data', ...r, '--yes'], expectExit: 0},
    {title: 'Review the audit log', why: 'Exports, failed crypto by unexpected principals and decrypt bursts are flagged; exit 8 means something needs attention.', command: 'audit', args: ['--since', '7d'], expectExit: 8, expectNote: 'findings need attention, as the seeded history intends'},
    {title: 'Check the operator journal', why: 'Every mutation and refusal above was journaled, hash-chained; verify proves nobody edited it.', command: 'journal:verify', args: [], expectExit: 0},
  ]
}

/** Material and recipient files the demo needs, created new and 0600. */
export function prepareDemoFiles(dir: string): void {
  const {publicKey} = generateKeyPairSync('rsa', {modulusLength: 3072})
  writeFileSync(join(dir, 'recipient.pem'), publicKey.export({type: 'spki', format: 'pem'}), {mode: 0o600, flag: 'wx'})
  const material = randomBytes(32)
  writeFileSync(join(dir, 'material.bin'), material, {mode: 0o600, flag: 'wx'})
  material.fill(0)
}

export interface RunDemoOptions {
  binPath: string
  url: string
  tokens: {operator: string; approver: string}
  org: string
  hasCommand: (id: string) => boolean
  io: DemoIo
  signal?: AbortSignal
}

export async function runDemo(opts: RunDemoOptions): Promise<StepResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kmsguard-demo-'))
  const results: StepResult[] = []
  try {
    prepareDemoFiles(dir)
    const vars: Record<string, string> = {}
    const env = demoEnv(dir, opts)
    const steps = demoSteps(dir)
    for (const [i, step] of steps.entries()) {
      const argv = [step.command === 'journal:verify' ? ['journal', 'verify'] : [step.command], step.args.map((a) => a.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? `<${k}?>`))].flat()
      opts.io.say(`\n── ${i + 1}/${steps.length} ${step.title}${step.as === 'approver' ? '  [as the approver]' : ''}\n   ${step.why}\n   $ kmsguard ${argv.map(shellQuote).join(' ')}`)
      if (!opts.hasCommand(step.command)) {
        opts.io.say('   (not yet available in this build: skipped)')
        results.push({title: step.title, argv, status: 'not-available', expectExit: step.expectExit})
        continue
      }
      const token = step.as === 'approver' ? opts.tokens.approver : opts.tokens.operator
      const {code, stdout, stderr} = await runChild(opts.binPath, argv, {...env, THALASSA_PERSONAL_ACCESS_TOKEN: token}, opts.signal)
      if (step.capture) {
        try {
          step.capture(JSON.parse(stdout), vars)
          opts.io.echo(indent(summariseJson(stdout)))
        } catch {
          opts.io.echo(indent(stdout))
        }
      } else if (stdout.trim()) opts.io.echo(indent(stdout))
      if (stderr.trim()) opts.io.echo(indent(stderr))
      const ok = code === step.expectExit
      opts.io.say(`   → exit ${code}${ok ? (step.expectExit === 0 ? '' : ` (${step.expectNote ?? 'refused, as it should be'})`) : ` — UNEXPECTED, the rehearsal expected ${step.expectExit}`}`)
      results.push({title: step.title, argv, status: ok ? 'ok' : 'unexpected', exitCode: code, expectExit: step.expectExit})
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return results
}

function demoEnv(dir: string, opts: RunDemoOptions): NodeJS.ProcessEnv {
  // Isolated from the operator's real settings, tcloud contexts and journal.
  return {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state'),
    THALASSA_CONFIG: join(dir, 'no-tcloud-config'),
    KMSGUARD_JOURNAL: join(dir, 'journal.jsonl'),
    THALASSA_API_ENDPOINT: opts.url,
    THALASSA_ORGANISATION: opts.org,
    NO_COLOR: '1',
    CI: 'true',
  }
}

function runChild(bin: string, argv: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], {env, stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: 120_000})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code: code ?? 1, stdout, stderr}))
  })
}

function summariseJson(stdout: string): string {
  const doc = JSON.parse(stdout) as {result?: {elevation?: {identity?: string; status?: string; expiresAt?: string}; approveCommand?: string; exportCommand?: string}}
  const r = doc.result
  if (!r?.elevation) return stdout
  return [
    `Export request ${r.elevation.identity} is ${r.elevation.status}${r.elevation.expiresAt ? `, valid until ${r.elevation.expiresAt}` : ''}.`,
    ...(r.approveCommand ? [`The approver runs:      ${r.approveCommand}`] : []),
    ...(r.exportCommand ? [`Then the requester runs: ${r.exportCommand}`] : []),
  ].join('\n')
}

const indent = (text: string) => text.trimEnd().split('\n').map((l) => `   │ ${l}`).join('\n')
const shellQuote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)
