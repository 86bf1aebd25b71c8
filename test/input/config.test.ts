/**
 * Bad configuration (issue 8.2), end to end: tcloud files that are malformed (the message names the file and
 * the line), contexts that point at missing users or servers, an unknown --context, kmsguard's own config.json
 * when it is malformed, out of range or unreadable, `config set` with bad values, and bad environment values.
 * Configuration is resolved before the API client exists, so nothing is ever sent.
 */
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {checkRefusal, checkSent, runUnprivileged, sentBy, startInputWorld, type InputWorld} from './helpers.js'

let w: InputWorld
let n = 0
beforeAll(async () => {
  w = await startInputWorld()
})
afterAll(async () => w?.close())

const R = ['-r', DEMO.regions.available]

/** A tcloud file in the scratch directory; the env that selects it (and nothing else that would win over it). */
function tcloud(yaml: string): {file: string; env: Record<string, string | undefined>} {
  const file = join(w.dir, `tcloud-${++n}.yaml`)
  writeFileSync(file, yaml, {mode: 0o600})
  return {file, env: {THALASSA_CONFIG: file, THALASSA_API_ENDPOINT: undefined, THALASSA_ORGANISATION: undefined}}
}

/** A kmsguard settings directory holding `config.json` with `text`. */
function settings(text: string): {dir: string; env: Record<string, string>} {
  const dir = join(w.dir, `settings-${++n}`)
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'config.json'), text, {mode: 0o600})
  return {dir, env: {KMSGUARD_CONFIG_DIR: dir}}
}

const GOOD_CONTEXT = (extra = '') => `current-context: demo
contexts:
  - name: demo
    context:
      api: local
      user: me
      organisation: demo
servers:
  - name: local
    api:
      server: http://127.0.0.1:1
users:
  - name: me
    user:
      token: tc_pat_demo_operator
${extra}`

describe('tcloud configuration', () => {
  it('malformed YAML: the message names the file and the line', async () => {
    const {file, env} = tcloud('current-context: demo\ncontexts:\n  - name: demo\n    context: {user: me\nusers: []\n')
    const r = await w.refused({args: ['summary', '--json'], as: 'none', env}, {message: /malformed YAML/, code: 'CONFIG_MALFORMED', sends: 'nothing'})
    expect(r.json.error.message).toContain(`tcloud config ${file}, line `)
    expect(r.json.error.message).toMatch(/, line [45]:/)
  })

  it('a duplicate key: named with its line', async () => {
    const {env} = tcloud('current-context: a\ncurrent-context: b\n')
    await w.refused({args: ['summary'], as: 'none', env}, {message: /tcloud config .*, line 2: malformed YAML/, sends: 'nothing'})
  })

  it('a field of the wrong type (users is a string): the message names the field and its line', async () => {
    const {env} = tcloud('current-context: demo\ncontexts: []\nusers: nobody\n')
    await w.refused({args: ['summary'], as: 'none', env}, {message: /tcloud config .*, line 3: users: /, sends: 'nothing'})
  })

  it('a context that refers to a user that is not defined', async () => {
    const {env} = tcloud(GOOD_CONTEXT().replace('user: me', 'user: ghost'))
    await w.refused({args: ['summary', '--json'], as: 'none', env}, {message: /context "demo" refers to user "ghost", which is not defined/, code: 'CONFIG_MALFORMED', sends: 'nothing'})
  })

  it('a context that refers to a server that is not defined', async () => {
    const {env} = tcloud(GOOD_CONTEXT().replace('api: local', 'api: elsewhere'))
    await w.refused({args: ['whoami'], as: 'none', env}, {message: /context "demo" refers to server "elsewhere", which is not defined/, sends: 'nothing'})
  })

  it('a current-context that is not defined', async () => {
    const {env} = tcloud(GOOD_CONTEXT().replace('current-context: demo', 'current-context: prod'))
    await w.refused({args: ['summary'], as: 'none', env}, {message: /context "prod" is not defined/, sends: 'nothing'})
  })

  it('an unknown --context (the hint lists the defined ones)', async () => {
    const {env} = tcloud(GOOD_CONTEXT())
    const r = await w.refused({args: ['summary', '--context', 'staging', '--json'], as: 'none', env}, {message: /context "staging" is not defined/, sends: 'nothing'})
    expect(r.json.error.hint).toMatch(/Defined contexts: demo/)
  })

  it('--context when there is no tcloud file at all', async () => {
    await w.refused({args: ['summary', '--context', 'demo'], env: {THALASSA_CONFIG: join(w.dir, 'absent.yaml')}}, {message: /--context demo: the tcloud config file .* does not exist/, sends: 'nothing'})
  })

  it('a tcloud config path that is a directory', async () => {
    await w.refused({args: ['summary'], env: {THALASSA_CONFIG: w.dir}}, {message: /tcloud config .* is a directory, not a file/, sends: 'nothing'})
  })

  it('a tcloud server with plain http to a host that is not loopback', async () => {
    const {env} = tcloud(GOOD_CONTEXT().replace('http://127.0.0.1:1', 'http://api.thalassa.cloud'))
    await w.refused({args: ['list', ...R, '--json'], as: 'none', env}, {message: /refusing plain http:\/\/ to api\.thalassa\.cloud \(from tcloud config .* \(context demo\)\)/, code: 'INSECURE_ENDPOINT', sends: 'nothing'})
  })
})

describe("kmsguard's own settings (config.json)", () => {
  it('malformed JSON', async () => {
    const {env} = settings('{"region": "nl-01",')
    await w.refused({args: ['list', ...R, '--json'], env}, {message: /kmsguard settings in .* are unreadable/, code: 'CONFIG_MALFORMED', sends: 'nothing'})
  })

  it('a value out of range (concurrency 999)', async () => {
    const {env} = settings('{"concurrency": 999}')
    await w.refused({args: ['list', ...R], env}, {message: /kmsguard settings in .* are unreadable/, sends: 'nothing'})
  })

  it('a value of the wrong type (region is a number)', async () => {
    const {env} = settings('{"region": 1}')
    await w.refused({args: ['config', 'list'], env}, {message: /kmsguard settings in .* are unreadable/, sends: 'nothing'})
  })

  it('unreadable (mode 000; the CLI runs as an unprivileged user when the tests run as root)', async () => {
    const {dir} = settings('{"region": "nl-01"}')
    chmodSync(join(dir, 'config.json'), 0o000)
    const r = await runUnprivileged(w, ['list', ...R], {KMSGUARD_CONFIG_DIR: dir})
    checkRefusal(r, {message: /kmsguard settings in .* are unreadable/, sends: 'nothing'})
    checkSent(sentBy(w.e.emu), 'nothing')
  })
})

describe('config set with bad values', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['concurrency', '0', /concurrency must be between 1 and 64, got 0/],
    ['concurrency', '65', /concurrency must be between 1 and 64, got 65/],
    ['concurrency', 'x', /concurrency must be a whole number, got "x"/],
    ['rotationPeriodDays', '3651', /rotationPeriodDays must be between 1 and 3650/],
    ['timeoutSeconds', '4', /timeoutSeconds must be between 5 and 3600/],
    ['region', 'NL 01', /region: "NL 01" is not a valid value/],
    ['exportPolicy', '../x', /exportPolicy: "\.\.\/x" is not a valid value/],
    ['journal', '', /journal must not be empty/],
    ['nonsense', 'x', /unknown setting "nonsense"/],
  ]
  for (const [name, value, message] of cases) {
    it(`config set ${name} ${JSON.stringify(value)}`, async () => {
      await w.refused({args: ['config', 'set', name, value]}, {message, sends: 'nothing'})
    })
  }
})

describe('environment values', () => {
  it('KMSGUARD_TIMEOUT=abc', async () => {
    await w.refused({args: ['list', ...R], env: {KMSGUARD_TIMEOUT: 'abc'}}, {message: /KMSGUARD_TIMEOUT must be whole seconds from 1 to 3600, got "abc"/, sends: 'nothing'})
  })

  it('THALASSA_CLIENT_ID without THALASSA_CLIENT_SECRET', async () => {
    await w.refused({args: ['summary'], as: 'none', env: {THALASSA_CLIENT_ID: 'someone'}}, {message: /THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET must be set together/, sends: 'nothing'})
  })
})
