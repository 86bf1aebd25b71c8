/**
 * Runs the built kmsguard CLI as a child process and keeps its output as raw bytes, so a leak of binary key
 * material is found byte for byte (the e2e harness decodes output as UTF-8, which would mangle it). Also runs
 * the child under another uid (to make files unreadable even though the tests run as root) and can stop a
 * long-running command (the emulator) once it has printed what the test waits for.
 */
import {spawn} from 'node:child_process'
import {BIN} from '../e2e/harness.js'

export interface RawRun {
  argv: string[]
  code: number
  stdout: Buffer
  stderr: Buffer
}

export interface RawRunOptions {
  env: Record<string, string | undefined>
  /** Run the child as this user and group (the test process must be root). */
  uid?: number
  gid?: number
  /** SIGTERM the child once its stdout so far satisfies this. */
  stopWhen?: (stdout: string) => boolean
  timeoutMs?: number
}

export function runRaw(argv: string[], opts: RawRunOptions): Promise<RawRun> {
  const env = Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      env, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL',
      ...(opts.uid === undefined ? {} : {uid: opts.uid, gid: opts.gid ?? opts.uid}),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => {
      out.push(d)
      if (opts.stopWhen?.(Buffer.concat(out).toString('utf8'))) child.kill('SIGTERM')
    })
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({argv, code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: Buffer.concat(err)}))
  })
}

/** Unprivileged user for permission tests: `nobody`. */
export const NOBODY = 65534
export const isRoot = (): boolean => process.geteuid?.() === 0
