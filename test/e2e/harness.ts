/**
 * End-to-end harness: a real emulator on a loopback port (in this test process) and the BUILT kmsguard CLI
 * as a child process against it, with an isolated HOME, settings, tcloud config and journal. stdin is closed
 * and CI is set, so any prompt would fail fast instead of hanging. Build first (`npm test` does, via pretest).
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {startEmulator, DEMO, type EmulatorHandle, type EmulatorOptions, type RecordedRequest} from '../../src/emulator/index.js'

export const BIN = resolve(import.meta.dirname, '../../bin/run.js')

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any
  argv: string[]
}

export interface RunOptions {
  env?: Record<string, string | undefined>
  /** operator (default), approver, or a raw token. */
  as?: 'operator' | 'approver' | 'none'
  token?: string
  timeoutMs?: number
}

export interface E2E {
  emu: EmulatorHandle
  home: string
  journal: string
  run(args: string[], opts?: RunOptions): Promise<RunResult>
  /** Requests the emulator records from now on: call the returned function after the runs. */
  mark(): () => RecordedRequest[]
  close(): Promise<void>
}

export async function startE2E(opts: EmulatorOptions = {}): Promise<E2E> {
  if (!existsSync(resolve(import.meta.dirname, '../../dist/commands'))) throw new Error('dist/ is missing: run `npm run build` first')
  const emu = await startEmulator({port: 0, seed: 'demo', quiet: true, ...opts})
  const home = mkdtempSync(join(tmpdir(), 'kmsguard-e2e-'))
  const journal = join(home, 'journal.jsonl')
  const baseEnv = (): Record<string, string | undefined> => ({
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
    THALASSA_CONFIG: join(home, 'tcloud-none.yaml'),
    KMSGUARD_JOURNAL: journal,
    THALASSA_API_ENDPOINT: emu.url,
    THALASSA_ORGANISATION: DEMO.org.slug,
    CI: 'true',
    NO_COLOR: '1',
  })
  return {
    emu,
    home,
    journal,
    run(args, o = {}) {
      const token = o.token ?? (o.as === 'none' ? undefined : o.as === 'approver' ? DEMO.tokens.approver : DEMO.tokens.operator)
      const env: Record<string, string | undefined> = {...baseEnv(), THALASSA_PERSONAL_ACCESS_TOKEN: token, ...o.env}
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
      return runCli(args, env as NodeJS.ProcessEnv, o.timeoutMs ?? 60_000)
    },
    mark() {
      const from = emu.requests.length
      return () => emu.requests.slice(from)
    },
    async close() {
      await emu.close()
      rmSync(home, {recursive: true, force: true})
    },
  }
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL'})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      let json: unknown
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout)
        } catch {
          json = undefined
        }
      }
      resolvePromise({code: code ?? (signal ? 128 : 1), stdout, stderr, json, argv: args})
    })
  })
}

/** Requests that change state, as recorded by the emulator. */
export const mutations = (emu: EmulatorHandle) => emu.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('/oidc/'))
