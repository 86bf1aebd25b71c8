import {mkdtempSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it, beforeEach} from 'vitest'
import {resolveConfig, validateEndpoint, credentialFromToken} from '../../../src/config/resolve.js'
import {KmsGuardError} from '../../../src/cli/errors.js'

const TCLOUD = `configVersion: v1
current-context: main
contexts:
  - name: main
    context: {api: api.example, user: main, organisation: ctx-org}
  - name: other
    context: {api: staging, user: robot, organisation: other-org}
servers:
  - name: api.example
    api: {server: https://ctx.example.test}
  - name: staging
    api: {server: https://staging.example.test}
users:
  - name: main
    user: {token: tc_pat_from_context}
  - name: robot
    user: {clientID: robot-id, clientSecret: robot-secret}
`

let dir: string
let env: NodeJS.ProcessEnv

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmsguard-cfg-'))
  writeFileSync(join(dir, 'tcloud.yaml'), TCLOUD)
  env = {HOME: dir, THALASSA_CONFIG: join(dir, 'tcloud.yaml'), KMSGUARD_CONFIG_DIR: join(dir, 'kmsguard')}
})

const settings = (obj: object) => {
  mkdirSync(join(dir, 'kmsguard'), {recursive: true})
  writeFileSync(join(dir, 'kmsguard', 'config.json'), JSON.stringify(obj))
}

async function expectUsage(p: Promise<unknown>, text: RegExp) {
  const err = await p.catch((e: unknown) => e)
  expect(err).toBeInstanceOf(KmsGuardError)
  expect((err as KmsGuardError).exitCode).toBe(2)
  expect((err as KmsGuardError).message).toMatch(text)
}

describe('endpoint precedence', () => {
  it('flag beats env beats tcloud context beats default', async () => {
    env.THALASSA_API_ENDPOINT = 'https://env.example.test'
    expect((await resolveConfig({endpoint: 'https://flag.example.test'}, env)).endpoint).toEqual({value: 'https://flag.example.test', source: 'flag --endpoint'})
    expect((await resolveConfig({}, env)).endpoint).toEqual({value: 'https://env.example.test', source: 'env THALASSA_API_ENDPOINT'})
    delete env.THALASSA_API_ENDPOINT
    const ctx = (await resolveConfig({}, env)).endpoint
    expect(ctx.value).toBe('https://ctx.example.test')
    expect(ctx.source).toMatch(/tcloud config .*tcloud\.yaml \(context main\)/)
    delete env.THALASSA_CONFIG
    expect((await resolveConfig({}, env)).endpoint).toEqual({value: 'https://api.thalassa.cloud', source: 'default'})
  })

  it('THALASSACONFIG is the fallback name and ~/.tcloud the default path', async () => {
    delete env.THALASSA_CONFIG
    env.THALASSACONFIG = join(dir, 'tcloud.yaml')
    expect((await resolveConfig({}, env)).endpoint.value).toBe('https://ctx.example.test')
    delete env.THALASSACONFIG
    writeFileSync(join(dir, '.tcloud'), TCLOUD.replace('ctx.example.test', 'home.example.test'))
    expect((await resolveConfig({}, env)).endpoint.value).toBe('https://home.example.test')
  })

  it('--context selects another context', async () => {
    const cfg = await resolveConfig({context: 'other'}, env)
    expect(cfg.endpoint.value).toBe('https://staging.example.test')
    expect(cfg.organisation?.value).toBe('other-org')
    expect(cfg.credentials?.value).toEqual({kind: 'client-credentials', clientId: 'robot-id', clientSecret: 'robot-secret'})
  })
})

describe('organisation, project, region, concurrency precedence', () => {
  it('organisation: flag, THALASSA_ORGANISATION_ID, THALASSA_ORGANISATION, context', async () => {
    env.THALASSA_ORGANISATION = 'org-b'
    env.THALASSA_ORGANISATION_ID = 'org-a'
    expect((await resolveConfig({org: 'flag-org'}, env)).organisation).toEqual({value: 'flag-org', source: 'flag --org'})
    expect((await resolveConfig({}, env)).organisation?.value).toBe('org-a')
    delete env.THALASSA_ORGANISATION_ID
    expect((await resolveConfig({}, env)).organisation).toEqual({value: 'org-b', source: 'env THALASSA_ORGANISATION'})
    delete env.THALASSA_ORGANISATION
    expect((await resolveConfig({}, env)).organisation?.value).toBe('ctx-org')
    delete env.THALASSA_CONFIG
    expect((await resolveConfig({}, env)).organisation).toBeUndefined()
  })

  it('project: flag then THALASSA_PROJECT_ID, otherwise organisation scope', async () => {
    env.THALASSA_PROJECT_ID = 'proj-env'
    expect((await resolveConfig({project: 'proj-flag'}, env)).project?.value).toBe('proj-flag')
    expect((await resolveConfig({}, env)).project).toEqual({value: 'proj-env', source: 'env THALASSA_PROJECT_ID'})
    delete env.THALASSA_PROJECT_ID
    expect((await resolveConfig({}, env)).project).toBeUndefined()
  })

  it('region: flag, KMSGUARD_REGION, kmsguard config', async () => {
    settings({region: 'nl-03'})
    env.KMSGUARD_REGION = 'nl-02'
    expect((await resolveConfig({region: 'nl-01'}, env)).region?.value).toBe('nl-01')
    expect((await resolveConfig({}, env)).region).toEqual({value: 'nl-02', source: 'env KMSGUARD_REGION'})
    delete env.KMSGUARD_REGION
    expect((await resolveConfig({}, env)).region).toEqual({value: 'nl-03', source: 'kmsguard config'})
  })

  it('concurrency: flag, env, config, default 16; nonsense is a usage error', async () => {
    settings({concurrency: 8})
    env.KMSGUARD_CONCURRENCY = '4'
    expect((await resolveConfig({concurrency: 2}, env)).concurrency.value).toBe(2)
    expect((await resolveConfig({}, env)).concurrency.value).toBe(4)
    delete env.KMSGUARD_CONCURRENCY
    expect((await resolveConfig({}, env)).concurrency).toEqual({value: 8, source: 'kmsguard config'})
    settings({})
    expect((await resolveConfig({}, env)).concurrency).toEqual({value: 16, source: 'default'})
    env.KMSGUARD_CONCURRENCY = 'many'
    await expectUsage(resolveConfig({}, env), /concurrency/)
  })

  it('journal: KMSGUARD_JOURNAL then kmsguard config', async () => {
    settings({journal: '/var/tmp/j.jsonl'})
    expect((await resolveConfig({}, env)).journal?.value).toBe('/var/tmp/j.jsonl')
    env.KMSGUARD_JOURNAL = join(dir, 'env.jsonl')
    expect((await resolveConfig({}, env)).journal?.source).toBe('env KMSGUARD_JOURNAL')
  })
})

describe('credentials precedence', () => {
  it('token file, access token, client credentials, PAT, API token, context — first wins', async () => {
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, 'tc_pat_from_file\n', {mode: 0o600})
    env.THALASSA_ACCESS_TOKEN = 'eyJ.access.token'
    env.THALASSA_CLIENT_ID = 'cid'
    env.THALASSA_CLIENT_SECRET = 'csecret'
    env.THALASSA_PERSONAL_ACCESS_TOKEN = 'tc_pat_env'
    env.THALASSA_API_TOKEN = 'tc_pat_api'
    expect((await resolveConfig({'token-file': tokenFile}, env)).credentials?.value).toEqual({kind: 'pat', token: 'tc_pat_from_file'})
    expect((await resolveConfig({}, env)).credentials).toEqual({value: {kind: 'bearer', token: 'eyJ.access.token'}, source: 'env THALASSA_ACCESS_TOKEN'})
    delete env.THALASSA_ACCESS_TOKEN
    expect((await resolveConfig({}, env)).credentials?.value).toEqual({kind: 'client-credentials', clientId: 'cid', clientSecret: 'csecret'})
    delete env.THALASSA_CLIENT_ID
    delete env.THALASSA_CLIENT_SECRET
    expect((await resolveConfig({}, env)).credentials).toEqual({value: {kind: 'pat', token: 'tc_pat_env'}, source: 'env THALASSA_PERSONAL_ACCESS_TOKEN'})
    delete env.THALASSA_PERSONAL_ACCESS_TOKEN
    expect((await resolveConfig({}, env)).credentials?.source).toBe('env THALASSA_API_TOKEN')
    delete env.THALASSA_API_TOKEN
    expect((await resolveConfig({}, env)).credentials?.value).toEqual({kind: 'pat', token: 'tc_pat_from_context'})
    delete env.THALASSA_CONFIG
    expect((await resolveConfig({}, env)).credentials).toBeUndefined()
  })

  it('a PAT passed as an access token is still sent with the Token scheme', () => {
    expect(credentialFromToken('tc_pat_abc')).toEqual({kind: 'pat', token: 'tc_pat_abc'})
    expect(credentialFromToken('eyJabc')).toEqual({kind: 'bearer', token: 'eyJabc'})
  })

  it('half a client credential pair is a usage error', async () => {
    env.THALASSA_CLIENT_ID = 'cid'
    await expectUsage(resolveConfig({}, env), /must be set together/)
  })

  it('a token file with two tokens or a directory is refused', async () => {
    writeFileSync(join(dir, 'two'), 'a b')
    await expectUsage(resolveConfig({'token-file': join(dir, 'two')}, env), /exactly one token/)
    await expectUsage(resolveConfig({'token-file': dir}, env), /not a regular file/)
  })
})

describe('tcloud config errors', () => {
  it('malformed YAML names the file and the line', async () => {
    writeFileSync(env.THALASSA_CONFIG!, 'current-context: main\ncontexts:\n  - name: [unclosed\n')
    await expectUsage(resolveConfig({}, env), /tcloud\.yaml, line \d+: malformed YAML/)
  })

  it('a wrong type names the field and its line', async () => {
    writeFileSync(env.THALASSA_CONFIG!, 'current-context: main\ncontexts: 42\n')
    await expectUsage(resolveConfig({}, env), /line 2: contexts/)
  })

  it('a dangling user or server reference is an error, not a silent fallback', async () => {
    writeFileSync(env.THALASSA_CONFIG!, TCLOUD.replace('user: main, organisation', 'user: ghost, organisation'))
    await expectUsage(resolveConfig({}, env), /refers to user "ghost"/)
    await expectUsage(resolveConfig({context: 'nope'}, env), /context "nope" is not defined/)
  })

  it('a missing file is fine unless --context was asked for', async () => {
    env.THALASSA_CONFIG = join(dir, 'missing.yaml')
    expect((await resolveConfig({}, env)).endpoint.source).toBe('default')
    await expectUsage(resolveConfig({context: 'main'}, env), /does not exist/)
  })
})

describe('endpoint validation', () => {
  it('refuses plain http except on loopback', () => {
    expect(validateEndpoint('http://127.0.0.1:8200/', 'test')).toBe('http://127.0.0.1:8200')
    expect(validateEndpoint('http://localhost:1', 'test')).toBe('http://localhost:1')
    expect(validateEndpoint('http://[::1]:1', 'test')).toBe('http://[::1]:1')
    for (const bad of ['http://api.thalassa.cloud', 'http://10.0.0.1', 'http://127.0.0.1.evil.test']) {
      expect(() => validateEndpoint(bad, 'test')).toThrow(/refusing plain http/)
    }
  })

  it('refuses URLs that are not http(s) or carry credentials', () => {
    expect(() => validateEndpoint('ftp://x', 't')).toThrow(/https/)
    expect(() => validateEndpoint('https://user:pw@x.test', 't')).toThrow(/credentials/)
    expect(() => validateEndpoint('not a url', 't')).toThrow(/not a URL/)
  })
})
