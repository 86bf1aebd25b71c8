/**
 * The one command that spawns processes is `demo`: it runs the real commands as child processes. Their command
 * lines are visible to every user of the machine (ps, /proc/PID/cmdline), so tokens must travel in the
 * environment, never in argv. Every child of the real `kmsguard demo` process is recorded (spawn-recorder.ts)
 * — command, argv and environment — and the record is checked.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {findLeaks, randomCore, textSentinel} from './sentinels.js'
import {runRaw, type RawRun} from './spawn.js'
import {spawnRecorder, type Spawned} from './spawn-recorder.js'

let dir: string
let demo: RawRun
let spawned: Spawned[]
/** The caller's own credentials: the demo must neither use nor pass them on (it has its own emulator and users). */
const CALLER = {pat: `tc_pat_caller${randomCore()}`, clientSecret: `callersecret${randomCore()}`}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmsguard-hygiene-demo-'))
  const recorder = spawnRecorder(dir)
  demo = await runRaw(['demo'], {
    env: {
      PATH: process.env.PATH, HOME: dir, CI: 'true', NO_COLOR: '1', ...recorder.env,
      THALASSA_PERSONAL_ACCESS_TOKEN: CALLER.pat, THALASSA_CLIENT_ID: 'caller-client', THALASSA_CLIENT_SECRET: CALLER.clientSecret,
    },
    timeoutMs: 240_000,
  })
  spawned = recorder.read()
}, 300_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const TOKENS = [textSentinel('operator token', DEMO.tokens.operator), textSentinel('approver token', DEMO.tokens.approver)]

describe('demo: child processes get their tokens through the environment, never argv', () => {
  it('the rehearsal ran and spawned the real commands', () => {
    expect(demo.code, demo.stderr.toString()).toBe(0)
    expect(spawned.length).toBeGreaterThanOrEqual(15)
    expect(spawned.every((s) => s.fn === 'spawn' && s.command === process.execPath && s.args[0].endsWith(join('bin', 'run.js')))).toBe(true)
    expect(spawned.some((s) => s.args.includes('approve'))).toBe(true)
  })

  it('no child command line carries a token, in any encoding', () => {
    const argvs = spawned.map((s, i) => ({where: `argv of child ${i + 1} (${s.args.slice(1, 2).join(' ')})`, data: Buffer.from(JSON.stringify([s.command, ...s.args]))}))
    expect(findLeaks(argvs, TOKENS)).toEqual([])
  })

  it('every child gets its token in the environment: the approver\'s for approve, the operator\'s otherwise', () => {
    for (const s of spawned) expect(s.env.THALASSA_PERSONAL_ACCESS_TOKEN).toBe(s.args[1] === 'approve' ? DEMO.tokens.approver : DEMO.tokens.operator)
  })

  it('the narration (stdout and stderr of demo) shows no token', () => {
    const callers = [textSentinel('caller PAT', CALLER.pat), textSentinel('caller client secret', CALLER.clientSecret)]
    expect(findLeaks([{where: 'demo stdout', data: demo.stdout}, {where: 'demo stderr', data: demo.stderr}], [...TOKENS, ...callers])).toEqual([])
  })

  it("the caller's own credentials are not passed on to the children", () => {
    const callers = [textSentinel('caller PAT', CALLER.pat), textSentinel('caller client secret', CALLER.clientSecret)]
    const envs = spawned.map((s, i) => ({where: `environment of child ${i + 1}`, data: Buffer.from(JSON.stringify(s.env))}))
    expect(findLeaks(envs, callers)).toEqual([])
    expect(spawned.every((s) => s.env.THALASSA_CLIENT_SECRET === undefined)).toBe(true)
  })
})
