/**
 * Helpers for the start-up tests: run bin/run.js as a child (with or without the fast path) in a clean
 * environment, list the help forms the manifest implies, and build throwaway package roots for fallback cases.
 */
import {spawn} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

export const REPO = resolve(import.meta.dirname, '../../..')
export const BIN = join(REPO, 'bin', 'run.js')
/** The start of every ANSI escape sequence. */
export const ANSI = '\u001B['

export interface Manifest {
  version: string
  commands: Record<string, {id: string; hidden?: boolean; flags: Record<string, {name: string; char?: string; hidden?: boolean}>}>
}

export const manifest = (): Manifest => JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8'))

export interface Run {
  code: number
  stdout: string
  stderr: string
}

const temps: string[] = []
/** A new temp dir, removed by cleanup(). */
export function tempDir(prefix = 'kmsguard-startup-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  temps.push(dir)
  return dir
}
export function cleanup(): void {
  for (const dir of temps.splice(0)) rmSync(dir, {recursive: true, force: true})
}

let home: string | undefined
/** A clean environment: no colour settings, no user config, an empty HOME (shared; pass HOME for your own). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  home ??= tempDir()
  return {PATH: process.env.PATH, HOME: home, ...extra}
}

export function run(args: string[], env: NodeJS.ProcessEnv, {bin = BIN, nodeArgs = []}: {bin?: string; nodeArgs?: string[]} = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...nodeArgs, bin, ...args], {env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('error', fail)
    child.on('close', (code) => done({code: code ?? 1, stdout, stderr}))
  })
}

/** Runs argv with the fast path and with oclif (KMSGUARD_NO_FAST_PATH=1). */
export async function both(args: string[], extra: Record<string, string> = {}): Promise<{fast: Run; oclif: Run}> {
  const [fast, oclif] = await Promise.all([run(args, cleanEnv(extra)), run(args, cleanEnv({...extra, KMSGUARD_NO_FAST_PATH: '1'}))])
  return {fast, oclif}
}

/** Maps with at most `limit` jobs at a time (the oclif runs are ~0.2 s each). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({length: limit}, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }))
  return out
}

/**
 * A copy of the package root (package.json possibly edited, the manifest, bin/) in a temp dir (removed by
 * cleanup()), with node_modules and dist linked, so the fast path can be pointed at configurations the real repo does not have.
 */
export function fakeRoot(edit: (pjson: {version: string; oclif: Record<string, unknown>}, m: Manifest) => void = () => undefined): string {
  const root = tempDir('kmsguard-root-')
  const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
  const m = manifest()
  edit(pjson, m)
  writeFileSync(join(root, 'package.json'), JSON.stringify(pjson))
  writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(m))
  cpSync(join(REPO, 'bin'), join(root, 'bin'), {recursive: true})
  for (const dir of ['node_modules', 'dist']) symlinkSync(join(REPO, dir), join(root, dir))
  return root
}
