/**
 * Secret hygiene on the error paths: credentials that are refused, malformed or misplaced end in a clear error,
 * and the secret they carried appears nowhere — not in the message, the hint, a --debug stack trace or trace
 * line, the --json envelope or the journal. Each case runs plain, with --debug and with DEBUG=kmsguard.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {findLeaks, randomCore, textSentinel, type Haystack} from './sentinels.js'
import {runRaw} from './spawn.js'
import {scenarioEnv, startWorld, type World} from './world.js'

let world: World
let root: string
beforeAll(async () => {
  world = await startWorld()
  root = mkdtempSync(join(tmpdir(), 'kmsguard-hygiene-fail-'))
})
afterAll(async () => {
  await world?.e2e.close()
  if (root) rmSync(root, {recursive: true, force: true})
})

const secret = (prefix: string) => `${prefix}${randomCore(16)}`

interface Case {
  title: string
  /** Builds the run in `dir`; returns the secret that must not appear, and the env and argv to use. */
  setup(dir: string): {secret: string; env: Record<string, string | undefined>; args: string[]}
  exit: number
  /** The refusal is journaled (so the journal is searched too). */
  journaled?: boolean
}

const tcloud = (dir: string, yaml: string) => {
  const file = join(dir, 'tcloud.yaml')
  writeFileSync(file, yaml, {mode: 0o600})
  return file
}

const CASES: Case[] = [
  {title: 'an unknown personal access token (401)', exit: 6, setup: (dir) => {
    const s = secret('tc_pat_unknown')
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: s}, args: ['summary']}
  }},
  {title: 'an unknown bearer token (401)', exit: 6, setup: (dir) => {
    const s = secret('bearer')
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined, THALASSA_ACCESS_TOKEN: s}, args: ['whoami']}
  }},
  {title: 'a wrong OIDC client secret', exit: 6, setup: (dir) => {
    const s = secret('wrongsecret')
    return {secret: s, env: {...scenarioEnv(world, dir, 'client-credentials'), THALASSA_CLIENT_SECRET: s}, args: ['list', '-r', DEMO.regions.available]}
  }},
  {title: 'a client secret without a client id', exit: 2, setup: (dir) => {
    const s = secret('lonesecret')
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined, THALASSA_CLIENT_SECRET: s}, args: ['summary']}
  }},
  {title: 'an unknown token on a mutating command (journaled refusal)', exit: 6, journaled: true, setup: (dir) => {
    const s = secret('tc_pat_unknown')
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: s}, args: ['delete', DEMO.keys.legacyData.slug, '-r', DEMO.regions.available, '--confirm', DEMO.keys.legacyData.slug]}
  }},
  {title: 'a tcloud file with a token and malformed YAML on the token\'s line', exit: 2, setup: (dir) => {
    const s = secret('tc_pat_intcloud')
    const file = tcloud(dir, `current-context: demo\ncontexts:\n  - name: demo\n    context: {user: me}\nusers:\n  - name: me\n    user: {token: ${s}: [oops\n`)
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined, THALASSA_CONFIG: file}, args: ['summary']}
  }},
  {title: 'a tcloud file whose token field has the wrong type', exit: 2, setup: (dir) => {
    const s = secret('tc_pat_intcloud')
    const file = tcloud(dir, `current-context: demo\ncontexts:\n  - name: demo\n    context: {user: me}\nusers:\n  - name: me\n    user:\n      token:\n        value: ${s}\n`)
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined, THALASSA_CONFIG: file}, args: ['summary']}
  }},
  {title: 'a tcloud context with a client secret whose server is missing', exit: 2, setup: (dir) => {
    const s = secret('ctxsecret')
    const file = tcloud(dir, `current-context: demo\ncontexts:\n  - name: demo\n    context: {user: ci, api: nowhere}\nusers:\n  - name: ci\n    user: {clientID: someone, clientSecret: ${s}}\n`)
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined, THALASSA_API_ENDPOINT: undefined, THALASSA_CONFIG: file}, args: ['whoami']}
  }},
  {title: 'a tcloud token that is used successfully (whoami names its source only)', exit: 0, setup: (dir) => {
    const file = tcloud(dir, `current-context: demo\ncontexts:\n  - name: demo\n    context: {user: me, organisation: demo}\nusers:\n  - name: me\n    user: {token: ${world.creds.operatorPat}}\n`)
    return {secret: world.creds.operatorPat, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined, THALASSA_ORGANISATION: undefined, THALASSA_CONFIG: file}, args: ['whoami']}
  }},
  {title: 'a --token-file holding two tokens', exit: 2, setup: (dir) => {
    const s = secret('tc_pat_tokenfile')
    writeFileSync(join(dir, 'token'), `${s}\n${secret('tc_pat_second')}\n`, {mode: 0o600})
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined}, args: ['summary', '--token-file', join(dir, 'token')]}
  }},
  {title: 'a --token-file too large to be a token', exit: 2, setup: (dir) => {
    const s = secret('tc_pat_bigfile')
    writeFileSync(join(dir, 'token'), s.repeat(1000), {mode: 0o600})
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_PERSONAL_ACCESS_TOKEN: undefined}, args: ['summary', '--token-file', join(dir, 'token')]}
  }},
  {title: 'an endpoint URL with a password in it', exit: 2, setup: (dir) => {
    const s = secret('urlpassword')
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_API_ENDPOINT: `https://admin:${s}@api.example.invalid`}, args: ['summary']}
  }},
  {title: 'an endpoint URL with a password in it that is not a valid URL', exit: 2, setup: (dir) => {
    const s = secret('urlpassword')
    return {secret: s, env: {...scenarioEnv(world, dir, 'pat'), THALASSA_API_ENDPOINT: `https://admin:${s}@api example.invalid`}, args: ['summary']}
  }},
]

const MODES = [
  {name: 'plain', argv: [] as string[], env: {}},
  {name: '--debug', argv: ['--debug'], env: {}},
  {name: 'DEBUG=kmsguard', argv: [], env: {DEBUG: 'kmsguard'}},
  {name: '--json --debug', argv: ['--json', '--debug'], env: {}},
]

describe.concurrent('refused or misplaced credentials never show up in any output', () => {
  CASES.forEach((c, i) => {
    it(c.title, async () => {
      const found: string[] = []
      for (const [j, m] of MODES.entries()) {
        const dir = join(root, `case-${i}-${j}`)
        mkdirSync(dir)
        const {secret: s, env, args} = c.setup(dir)
        const run = await runRaw([...args, ...m.argv], {env: {...env, ...m.env}})
        expect(run.code, `${m.name}: ${run.stderr.toString().split('\n')[0]}`).toBe(c.exit)
        const journal = join(dir, 'journal.jsonl')
        expect(existsSync(journal)).toBe(Boolean(c.journaled))
        const haystacks: Haystack[] = [
          {where: `stdout (${m.name})`, data: run.stdout},
          {where: `stderr (${m.name})`, data: run.stderr},
          ...(existsSync(journal) ? [{where: `journal (${m.name})`, data: readFileSync(journal)}] : []),
        ]
        found.push(...findLeaks(haystacks, [textSentinel('the secret of this case', s)]))
      }
      expect(found).toEqual([])
    }, 120_000)
  })
})
