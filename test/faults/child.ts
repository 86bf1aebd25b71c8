/**
 * Helpers for the built-CLI fault and interrupt tests: a fresh E2E world (emulator + isolated home) per test, a
 * CLI child that the test can signal while it runs, the two-person approval done through the CLI, polling for a
 * request to reach the emulator, and the journal checks (every line whole, `journal verify` passes).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {DEMO, type EmulatorOptions, type RecordedRequest} from '../../src/emulator/index.js'
import {BIN, startE2E, type E2E, type RunResult} from '../e2e/harness.js'

/** Runs `fn` with its own emulator and home, closed afterwards. */
export async function withE2E<T>(fn: (e: E2E) => Promise<T>, opts: EmulatorOptions = {}): Promise<T> {
  const e = await startE2E(opts)
  try {
    return await fn(e)
  } finally {
    await e.close()
  }
}

/** The environment startE2E gives its children (isolated home, settings, journal; CI; operator token). */
function childEnv(e: E2E): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, HOME: e.home, XDG_CONFIG_HOME: join(e.home, 'config'), XDG_STATE_HOME: join(e.home, 'state'),
    THALASSA_CONFIG: join(e.home, 'tcloud-none.yaml'), KMSGUARD_JOURNAL: e.journal, THALASSA_API_ENDPOINT: e.emu.url,
    THALASSA_ORGANISATION: DEMO.org.slug, THALASSA_PERSONAL_ACCESS_TOKEN: DEMO.tokens.operator, CI: 'true', NO_COLOR: '1',
  }
}

export interface Running {
  child: ChildProcess
  /** Resolves when the child has exited; `signal` is set when something killed it. */
  done: Promise<RunResult & {signal: NodeJS.Signals | null}>
}

/** Starts the built CLI as the operator; the child is SIGKILLed after `killAfterMs` (a test failure, not a pass). */
export function startCli(e: E2E, args: string[], killAfterMs = 20_000): Running {
  const child = spawn(process.execPath, [BIN, ...args], {env: childEnv(e), stdio: ['ignore', 'pipe', 'pipe'], timeout: killAfterMs, killSignal: 'SIGKILL'})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<RunResult & {signal: NodeJS.Signals | null}>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code: code ?? 128, signal, stdout, stderr, json: undefined, argv: args}))
  })
  return {child, done}
}

/** Polls the emulator's request log until `match` finds a request (or fails after `timeoutMs`). */
export async function requestSeen(e: E2E, match: (r: RecordedRequest) => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!e.emu.requests.some(match)) {
    if (Date.now() > until) throw new Error('the expected request never reached the emulator')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** export:request by the operator, approve by the approver, through the CLI; returns the elevation id. */
export async function approvedExport(e: E2E): Promise<string> {
  const key = DEMO.keys.escrowKey.slug
  const requested = await e.run(['export:request', key, '-r', DEMO.regions.available, '--policy', DEMO.exportPolicy.slug, '--reason', 'fault suite rehearsal', '--yes', '--json'])
  if (requested.code !== 0) throw new Error(`export:request failed: ${requested.stdout}${requested.stderr}`)
  const id = requested.json.result.elevation.identity as string
  const approved = await e.run(['approve', id, '--confirm', key, '--json'], {as: 'approver'})
  if (approved.code !== 0) throw new Error(`approve failed: ${approved.stdout}${approved.stderr}`)
  e.emu.clearRequests()
  return id
}

/** Journal lines as written: each must be one whole JSON document ending in a newline. */
export function journalLines(e: E2E): string[] {
  if (!existsSync(e.journal)) return []
  const text = readFileSync(e.journal, 'utf8')
  if (text !== '' && !text.endsWith('\n')) throw new Error('the journal ends in a torn line')
  return text.split('\n').filter(Boolean)
}
