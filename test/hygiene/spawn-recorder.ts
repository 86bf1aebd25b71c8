/**
 * Records every child process a kmsguard process starts. A preload module (NODE_OPTIONS=--import) wraps each
 * node:child_process entry point (spawn, exec, execFile, fork and their sync forms), appends what was started —
 * the function, command, argv and the environment given to the child — to a log, and re-exports the wrappers to
 * ES modules (syncBuiltinESMExports) so `import {spawn} from 'node:child_process'` gets them too.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

const PRELOAD = `
import childProcess from 'node:child_process'
import {appendFileSync} from 'node:fs'
import {syncBuiltinESMExports} from 'node:module'
for (const fn of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  const original = childProcess[fn]
  childProcess[fn] = function (command, args, options) {
    const opts = Array.isArray(args) ? options : args
    const env = opts?.env ?? process.env
    appendFileSync(process.env.KMSGUARD_SPAWN_LOG, JSON.stringify({fn, command, args: Array.isArray(args) ? args : [], env}) + '\\n')
    return original.apply(this, arguments)
  }
}
syncBuiltinESMExports()
`

export interface Spawned {
  fn: string
  command: string
  args: string[]
  env: Record<string, string>
}

export interface SpawnRecorder {
  /** Environment to add to a kmsguard run so its child processes are recorded. */
  env: Record<string, string>
  read(): Spawned[]
}

/** A recorder whose preload and log live in `dir`. */
export function spawnRecorder(dir: string): SpawnRecorder {
  const preload = join(dir, 'record-spawns.mjs')
  const log = join(dir, 'spawns.jsonl')
  writeFileSync(preload, PRELOAD)
  writeFileSync(log, '')
  return {
    env: {NODE_OPTIONS: `--import=${pathToFileURL(preload).href}`, KMSGUARD_SPAWN_LOG: log},
    read: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Spawned),
  }
}
