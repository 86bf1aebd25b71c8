import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startE2E, type E2E} from './harness.js'

let e: E2E
beforeAll(async () => {
  e = await startE2E()
})
afterAll(async () => e?.close())

const envelopeOk = (json: {status: string; command: string; dryRun: boolean; guards: unknown[]; warnings: unknown[]}, command: string) => {
  expect(json).toMatchObject({status: 'ok', command, dryRun: false})
  expect(Array.isArray(json.guards)).toBe(true)
  expect(Array.isArray(json.warnings)).toBe(true)
}

describe('read-only commands against the emulator', () => {
  it('summary --json: the envelope, nl-01 available and nl-02 not', async () => {
    const r = await e.run(['summary', '--json'])
    expect(r.code).toBe(0)
    envelopeOk(r.json, 'summary')
    expect(r.json.result.featureEnabled).toBe(true)
    const bySlug = Object.fromEntries(r.json.result.regions.map((x: {slug: string; kmsAvailable: boolean}) => [x.slug, x.kmsAvailable]))
    expect(bySlug).toMatchObject({'nl-01': true, 'nl-02': false})
  })

  it('summary (human) prints a table on stdout and nothing on stderr', async () => {
    const r = await e.run(['summary'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/KMS feature: enabled/)
    expect(r.stdout).toMatch(/nl-01\s+available/)
    expect(r.stderr).toBe('')
  })

  it('list --json and filters', async () => {
    const all = await e.run(['list', '-r', 'nl-01', '--json'])
    expect(all.code).toBe(0)
    envelopeOk(all.json, 'list')
    const slugs = all.json.result.keys.map((k: {slug: string}) => k.slug)
    expect(slugs).toEqual(expect.arrayContaining(['app-secrets', 'zone-signing', 'legacy-data', 'escrow-key']))
    const disabled = await e.run(['list', '-r', 'nl-01', '--status', 'disabled', '--json'])
    expect(disabled.json.result.keys.every((k: {status: string}) => k.status === 'disabled')).toBe(true)
    expect(disabled.json.result.keys.length).toBeGreaterThan(0)
    const fleet = await e.run(['list', '-r', 'nl-01', '--label', 'team=fleet', '--json'])
    expect(fleet.json.result.keys.length).toBeGreaterThan(0)
    expect(fleet.json.result.keys.every((k: {labels?: Record<string, string>}) => k.labels?.team === 'fleet')).toBe(true)
  })

  it('list --all-regions reads only regions where KMS is available', async () => {
    const r = await e.run(['list', '--all-regions', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.regions).toEqual(['nl-01'])
  })

  it('get resolves by slug, identity and exact name, with versions', async () => {
    const bySlug = await e.run(['get', 'app-secrets', '-r', 'nl-01', '--json'])
    expect(bySlug.code).toBe(0)
    envelopeOk(bySlug.json, 'get')
    const key = bySlug.json.result
    expect(key.versions.length).toBeGreaterThan(0)
    const byId = await e.run(['get', key.identity, '-r', 'nl-01', '--json'])
    expect(byId.json.result.slug).toBe('app-secrets')
    const byName = await e.run(['get', key.name, '-r', 'nl-01', '--json'])
    expect(byName.json.result.identity).toBe(key.identity)
  })

  it('whoami shows the identity, auth method and where each setting came from — never the token', async () => {
    const r = await e.run(['whoami', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.identity.subject).toBeTruthy()
    expect(r.json.result.auth).toEqual({method: 'pat', source: 'env THALASSA_PERSONAL_ACCESS_TOKEN'})
    expect(r.json.result.endpoint.source).toBe('env THALASSA_API_ENDPOINT')
    expect(r.stdout).not.toContain('tc_pat_demo_operator')
    const human = await e.run(['whoami'])
    expect(human.stdout).toMatch(/personal access token/)
    expect(human.stdout).not.toContain('tc_pat_demo_operator')
  })

  it('public-key of an asymmetric key, refused for a symmetric one', async () => {
    const ok = await e.run(['public-key', 'zone-signing', '-r', 'nl-01', '--json'])
    expect(ok.code).toBe(0)
    expect(Object.values(ok.json.result.keys)[0]).toMatch(/BEGIN PUBLIC KEY/)
    const sym = await e.run(['public-key', 'app-secrets', '-r', 'nl-01', '--json'])
    expect(sym.code).toBe(2)
  })

  it('wrapping-key prints the PEM and the announced algorithm', async () => {
    const r = await e.run(['wrapping-key', '-r', 'nl-01', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.result.publicKey).toMatch(/BEGIN PUBLIC KEY/)
    expect(r.json.result.algorithm).toBeTruthy()
  })
})

describe('exit codes and the error envelope', () => {
  it('401: a wrong token is exit 6, AUTH_FAILED, and the token is not echoed', async () => {
    const r = await e.run(['summary', '--json'], {token: 'tc_pat_wrong_token_value'})
    expect(r.code).toBe(6)
    expect(r.json).toMatchObject({status: 'error', command: 'summary', error: {code: 'AUTH_FAILED', exitCode: 6}})
    expect(r.stdout + r.stderr).not.toContain('tc_pat_wrong_token_value')
  })

  it('no credentials at all: exit 6 with a hint', async () => {
    const r = await e.run(['summary', '--json'], {as: 'none'})
    expect(r.code).toBe(6)
    expect(r.json.error.code).toBe('NO_CREDENTIALS')
    expect(r.json.error.hint).toMatch(/THALASSA_PERSONAL_ACCESS_TOKEN/)
  })

  it('403: an organisation the caller is not a member of is exit 6', async () => {
    const r = await e.run(['summary', '--json', '--org', 'someone-else'])
    expect(r.code).toBe(6)
    expect(r.json.error.code).toBe('PERMISSION_DENIED')
  })

  it('404: an unknown key is exit 6 with the permission hint', async () => {
    const r = await e.run(['get', 'no-such-key', '-r', 'nl-01', '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.code).toBe('KEY_NOT_FOUND')
    expect(r.json.error.hint).toMatch(/permission/)
  })

  it('503: a region without KMS is exit 6 (SERVICE_UNAVAILABLE) for a read', async () => {
    const r = await e.run(['list', '-r', 'nl-02', '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.code).toBe('SERVICE_UNAVAILABLE')
  })

  it('a malformed body is exit 6 naming the endpoint', async () => {
    e.emu.setFaults({rate: 1, kinds: ['wrong-shape'], routes: ['GET /v1/kms/summary'], seed: 1})
    try {
      const r = await e.run(['summary', '--json'])
      expect(r.code).toBe(6)
      expect(r.json.error.code).toBe('MALFORMED_RESPONSE')
      expect(r.json.error.message).toMatch(/GET \/v1\/kms\/summary/)
    } finally {
      e.emu.setFaults(undefined)
    }
  })

  it('usage errors are exit 2 with a compact JSON error, also for oclif parse errors', async () => {
    const missing = await e.run(['get', '--json'])
    expect(missing.code).toBe(2)
    expect(missing.json.status).toBe('error')
    expect(JSON.stringify(missing.json).length).toBeLessThan(2000)
    const noRegion = await e.run(['list', '--json'])
    expect(noRegion.code).toBe(2)
    expect(noRegion.json.error.hint).toMatch(/--region/)
    const badLabel = await e.run(['list', '-r', 'nl-01', '--label', 'novalue', '--json'])
    expect(badLabel.code).toBe(2)
  })

  it('plain http to a non-loopback host is refused before anything is sent', async () => {
    const r = await e.run(['summary', '--json'], {env: {THALASSA_API_ENDPOINT: 'http://api.example.invalid'}})
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('INSECURE_ENDPOINT')
  })

  it('human errors go to stderr with a hint, stdout stays empty', async () => {
    const r = await e.run(['list'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/Error: list needs a region/)
    expect(r.stderr).toMatch(/Hint:/)
  })
})

describe('config command', () => {
  it('set, get, list and unset kmsguard settings; bad values are exit 2', async () => {
    expect((await e.run(['config', 'set', 'region', 'nl-01'])).code).toBe(0)
    const got = await e.run(['config', 'get', 'region', '--json'])
    expect(got.json.result).toEqual({name: 'region', value: 'nl-01'})
    const listed = await e.run(['list', '--json'])
    expect(listed.code).toBe(0)
    expect((await e.run(['config', 'set', 'concurrency', '0'])).code).toBe(2)
    expect((await e.run(['config', 'set', 'nonsense', 'x'])).code).toBe(2)
    expect((await e.run(['config', 'unset', 'region'])).code).toBe(0)
    expect((await e.run(['config', 'get', 'region', '--json'])).json.result.value).toBeNull()
  })
})
