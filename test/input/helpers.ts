/**
 * The bad-input suite's shared assertions. Every case runs the built CLI against the emulator and checks the
 * same four things: the exit code (2, or the contract's code where another is right), a clear message naming
 * the problem, no stack trace unless --debug, and what reached the API — nothing at all, or no mutation where
 * reads legitimately come first. The emulator records every request, so "nothing sent" is observed, not assumed.
 */
import {chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect} from 'vitest'
import {DEMO, type EmulatorHandle} from '../../src/emulator/index.js'
import {startE2E, type E2E, type RunOptions, type RunResult} from '../e2e/harness.js'
import {isRoot, NOBODY, runRaw} from '../hygiene/spawn.js'

/** What a case may send: nothing at all, or reads only (no mutation) where reads legitimately come first. */
export type Sends = 'nothing' | 'reads-only'

export interface Expectation {
  /** Default 2 (usage or input error). */
  exit?: number
  /** The message (human stderr "Error: …", or error.message with --json) must match. */
  message: RegExp
  /** With --json: the machine code. */
  code?: string
  sends: Sends
}

export interface Case extends RunOptions {
  args: string[]
}

export interface InputWorld {
  e: E2E
  /** A scratch directory for the files cases create; removed by close(). */
  dir: string
  /** Runs one case on a clean request log and checks the expectation; returns the run for extra checks. */
  refused(c: Case, x: Expectation): Promise<RunResult>
  close(): Promise<void>
}

export const sentBy = (emu: EmulatorHandle): string[] => emu.requests.map((r) => `${r.method} ${r.path}`)

/** A stack frame line as Node prints it: "    at fn (file:line:col)". */
export const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m

export function checkSent(sent: string[], sends: Sends): void {
  if (sends === 'nothing') expect(sent, 'nothing may reach the API').toEqual([])
  else expect(sent.filter((s) => !s.startsWith('GET ')), 'no mutating request may reach the API').toEqual([])
}

/** The error message of a failed run, from the --json envelope or the human "Error:" line. */
export function errorMessage(r: RunResult): string {
  if (r.argv.includes('--json')) return String(r.json?.error?.message ?? '')
  return r.stderr.split('\n').find((l) => l.startsWith('Error: '))?.slice('Error: '.length) ?? ''
}

export function checkRefusal(r: RunResult, x: Expectation): void {
  const where = `kmsguard ${r.argv.join(' ')}\n${r.stderr}${r.argv.includes('--json') ? r.stdout : ''}`
  expect(r.code, where).toBe(x.exit ?? 2)
  expect(errorMessage(r), where).toMatch(x.message)
  expect(errorMessage(r)).not.toMatch(/^internal error/)
  if (x.code) expect(r.json?.error?.code, where).toBe(x.code)
  if (!r.argv.includes('--debug')) expect(r.stderr, 'no stack trace without --debug').not.toMatch(STACK_FRAME)
  if (r.argv.includes('--json')) expect(r.json, 'stdout is exactly one JSON document').toMatchObject({status: 'error'})
  else expect(r.stdout, 'a refusal prints nothing on stdout').toBe('')
}

/** Runs `fn` in a world of its own (an emulator costs milliseconds), so cases can run concurrently. */
export async function inWorld<T>(fn: (w: InputWorld) => Promise<T>): Promise<T> {
  const w = await startInputWorld()
  try {
    return await fn(w)
  } finally {
    await w.close()
  }
}

export async function startInputWorld(): Promise<InputWorld> {
  const e = await startE2E()
  const dir = mkdtempSync(join(tmpdir(), 'kmsguard-input-'))
  return {
    e,
    dir,
    async refused({args, ...opts}, x) {
      e.emu.clearRequests()
      const r = await e.run(args, opts)
      checkRefusal(r, x)
      checkSent(sentBy(e.emu), x.sends)
      return r
    },
    async close() {
      await e.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/**
 * Runs the CLI as an unprivileged user (nobody) when the tests run as root — root may read any file, so a
 * permission refusal can only be seen without it — with a home of its own, against the world's emulator.
 */
export async function runUnprivileged(w: InputWorld, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const home = mkdtempSync(join(w.dir, 'nobody-'))
  chmodSync(w.dir, 0o755)
  chmodSync(home, 0o755)
  mkdirSync(join(home, 'config'))
  if (isRoot()) for (const dir of [home, join(home, 'config')]) chownSync(dir, NOBODY, NOBODY)
  w.e.emu.clearRequests()
  const raw = await runRaw(args, {
    env: {
      PATH: process.env.PATH, HOME: home, CI: 'true', NO_COLOR: '1', XDG_CONFIG_HOME: join(home, 'config'), THALASSA_CONFIG: join(home, 'none.yaml'),
      KMSGUARD_JOURNAL: join(home, 'journal.jsonl'), THALASSA_API_ENDPOINT: w.e.emu.url, THALASSA_ORGANISATION: DEMO.org.slug,
      THALASSA_PERSONAL_ACCESS_TOKEN: DEMO.tokens.operator, ...env,
    },
    ...(isRoot() ? {uid: NOBODY} : {}),
  })
  return {code: raw.code, stdout: raw.stdout.toString(), stderr: raw.stderr.toString(), json: undefined, argv: raw.argv}
}
