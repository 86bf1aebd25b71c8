import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {createKey, slugFromName, type CreateInput} from '../../../src/operations/create.js'
import {toKmsGuardError} from '../../../src/cli/base.js'
import {parseLabels} from '../../../src/cli/flags.js'
import {testConfig, testContext} from '../../helpers/context.js'
import {KEYS, REGION, RecordingConfirmer, apiKey, mockSummary, refusal} from './helpers.js'

const input = (over: Partial<CreateInput> = {}): CreateInput => ({region: REGION, name: 'app-secrets', keyType: 'aes256-gcm96', labels: {purpose: 'secrets'}, yes: true, dryRun: false, ...over})

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

describe('create: the request', () => {
  it('sends one POST with symmetric rotation on by default and returns the created key', async () => {
    const scope = mockSummary().post(KEYS, {name: 'app-secrets', keyType: 'aes256-gcm96', labels: {purpose: 'secrets'}, exportAllowed: false, keyRotationEnabled: true, rotationPeriodInDays: 90})
      .reply(201, apiKey({latestVersion: 1, labels: {purpose: 'secrets'}}))
    const ctx = testContext()
    const out = await createKey(ctx, input())
    expect(scope.isDone()).toBe(true)
    expect(out.result.key).toMatchObject({identity: 'kms-app-secrets', slug: 'app-secrets', latestVersion: 1, keyRotationEnabled: true})
    expect(out.guards.map((g) => `${g.guard}:${g.outcome}`)).toEqual(['region:pass', 'policy:pass', 'policy:pass', 'policy:pass'])
    expect(ctx.journal).toMatchObject({region: REGION, confirmation: 'yes-flag', key: {identity: 'kms-app-secrets', slug: 'app-secrets'}})
  })

  it('takes the default period from kmsguard config, and sends description and labels as given', async () => {
    const scope = mockSummary().post(KEYS, {name: 'Payments DB', keyType: 'chacha20-poly1305', description: 'db columns', labels: {purpose: 'db', team: 'pay'}, exportAllowed: false, keyRotationEnabled: true, rotationPeriodInDays: 30})
      .reply(201, apiKey({slug: 'payments-db', keyType: 'chacha20-poly1305'}))
    const ctx = testContext({config: {...testConfig(), settings: {rotationPeriodDays: 30}}})
    await createKey(ctx, input({name: 'Payments DB', keyType: 'chacha20-poly1305', description: 'db columns', labels: {purpose: 'db', team: 'pay'}}))
    expect(scope.isDone()).toBe(true)
  })

  it('--no-rotation with --reason turns rotation off and journals the override', async () => {
    const scope = mockSummary().post(KEYS, {name: 'app-secrets', keyType: 'aes256-gcm96', labels: {purpose: 'secrets'}, exportAllowed: false, keyRotationEnabled: false}).reply(201, apiKey())
    const ctx = testContext()
    const out = await createKey(ctx, input({noRotation: true, reason: 'vendor appliance cannot follow versions'}))
    expect(scope.isDone()).toBe(true)
    expect(out.guards.find((g) => g.details?.rule === 'rotation')?.outcome).toBe('warn')
    expect(ctx.journal.overrides).toEqual([{flag: '--no-rotation', reason: 'vendor appliance cannot follow versions'}])
  })

  it('asymmetric keys are created without automatic rotation unless asked', async () => {
    const scope = mockSummary().post(KEYS, {name: 'zone-signing', keyType: 'ecdsa-p256', labels: {purpose: 'dnssec'}, exportAllowed: false, keyRotationEnabled: false}).reply(201, apiKey({slug: 'zone-signing', keyType: 'ecdsa-p256'}))
    await createKey(testContext(), input({name: 'zone-signing', keyType: 'ecdsa-p256', labels: {purpose: 'dnssec'}}))
    expect(scope.isDone()).toBe(true)
  })

  it('warns (policy) when there is no purpose label, and still creates', async () => {
    const scope = mockSummary().post(KEYS).reply(201, apiKey())
    const out = await createKey(testContext(), input({labels: {team: 'payments'}}))
    expect(scope.isDone()).toBe(true)
    const purpose = out.guards.find((g) => g.details?.rule === 'purpose-label')!
    expect(purpose.outcome).toBe('warn')
    expect(purpose.message).toContain('no purpose label')
  })

  it('--dry-run runs the guards, plans the POST with its body and sends nothing', async () => {
    const scope = mockSummary()
    const out = await createKey(testContext(), input({yes: false, dryRun: true}))
    expect(scope.isDone()).toBe(true)
    expect(out.dryRun).toBe(true)
    expect(out.result.planned).toEqual([{method: 'POST', path: KEYS, body: {name: 'app-secrets', keyType: 'aes256-gcm96', labels: {purpose: 'secrets'}, exportAllowed: false, keyRotationEnabled: true, rotationPeriodInDays: 90}}])
  })
})

describe('create: --allow-export', () => {
  it('non-interactively needs --yes plus the reason, sends exportAllowed and journals the override', async () => {
    const scope = mockSummary().post(KEYS, (body) => body.exportAllowed === true).reply(201, apiKey({exportAllowed: true}))
    const ctx = testContext()
    const out = await createKey(ctx, input({allowExport: true, reason: 'escrow for DR, CHG-1234'}))
    expect(scope.isDone()).toBe(true)
    expect(out.result.key?.exportAllowed).toBe(true)
    expect(out.guards.find((g) => g.details?.rule === 'export')?.message).toContain('never changed afterwards')
    expect(ctx.journal.overrides).toContainEqual({flag: '--allow-export', reason: 'escrow for DR, CHG-1234'})
  })

  it('non-interactively without --yes is exit 7 naming --yes, and nothing is posted', async () => {
    const scope = mockSummary()
    const err = await refusal(createKey(testContext(), input({allowExport: true, reason: 'escrow', yes: false})))
    expect(err.exitCode).toBe(7)
    expect(err.code).toBe('NOT_CONFIRMED')
    expect(err.message).toContain('--yes')
    expect(scope.isDone()).toBe(true)
  })

  it('interactively asks for the slug-to-be to be typed, with the warning', async () => {
    const scope = mockSummary().post(KEYS).reply(201, apiKey({slug: 'escrow-key', exportAllowed: true}))
    const confirm = new RecordingConfirmer(true)
    const ctx = testContext({confirm})
    await createKey(ctx, input({name: 'Escrow Key', allowExport: true, reason: 'escrow', yes: false}))
    expect(scope.isDone()).toBe(true)
    expect(confirm.asked).toEqual([expect.objectContaining({kind: 'typed', accepted: ['escrow-key']})])
    expect(confirm.asked[0].text).toMatch(/exportAllowed.*never be changed/)
    expect(ctx.journal.confirmation).toBe('typed')
  })

  it('interactively declined is exit 7 and nothing is posted', async () => {
    const scope = mockSummary()
    const err = await refusal(createKey(testContext({confirm: new RecordingConfirmer(true, false)}), input({allowExport: true, reason: 'escrow', yes: false})))
    expect(err.exitCode).toBe(7)
    expect(scope.isDone()).toBe(true)
  })
})

describe('create: refusals send nothing', () => {
  // No interceptor exists at all: any request would fail with NETWORK_ERROR, so the usage code proves none was sent.
  it.each([
    ['period 0', {rotationPeriod: '0'}, 'INVALID_ROTATION_PERIOD'],
    ['period 3651', {rotationPeriod: '3651'}, 'INVALID_ROTATION_PERIOD'],
    ['period -1', {rotationPeriod: '-1'}, 'INVALID_ROTATION_PERIOD'],
    ['period abc', {rotationPeriod: 'abc'}, 'INVALID_ROTATION_PERIOD'],
    ['unknown type', {keyType: 'aes-512'}, 'UNKNOWN_KEY_TYPE'],
    ['removed type name', {keyType: 'ec-p256'}, 'UNKNOWN_KEY_TYPE'],
    ['no type', {keyType: undefined}, 'UNKNOWN_KEY_TYPE'],
    ['no name', {name: undefined}, 'USAGE'],
    ['blank name', {name: '   '}, 'USAGE'],
    ['name of 256 characters', {name: 'k'.repeat(256)}, 'USAGE'],
    ['name with a control character', {name: 'app\u001B[31m'}, 'USAGE'],
    ['name without a letter or digit', {name: '---'}, 'USAGE'],
    ['description of 1025 characters', {description: 'd'.repeat(1025)}, 'USAGE'],
    ['--rotation-period with --no-rotation', {rotationPeriod: '30', noRotation: true, reason: 'x'}, 'USAGE'],
    ['--no-rotation without --reason', {noRotation: true}, 'POLICY_FLAGS'],
    ['--allow-export without --reason', {allowExport: true}, 'POLICY_FLAGS'],
    ['--allow-export with a blank --reason', {allowExport: true, reason: '  '}, 'POLICY_FLAGS'],
  ] as Array<[string, Partial<CreateInput>, string]>)('%s → exit 2', async (_name, over, code) => {
    const err = await refusal(createKey(testContext(), input(over)))
    expect(err.code).toBe(code)
    expect(err.exitCode).toBe(2)
  })

  it('offers the list of key types for a bad --type', async () => {
    const err = await refusal(createKey(testContext(), input({keyType: 'aes-512'})))
    expect(err.hint).toContain('aes256-gcm96')
    expect(err.hint).toContain('hmac-sha512')
  })

  it('names the flag and why for --allow-export without --reason, with the policy verdicts in the error', async () => {
    const err = await refusal(createKey(testContext(), input({allowExport: true})))
    expect(err.message).toContain('--allow-export needs --reason')
    expect(err.message).toContain('only at creation')
    expect(err.guards.some((g) => g.guard === 'policy' && g.outcome === 'fail')).toBe(true)
  })

  it('a bad --label is a usage error (exit 2) at the flag layer', () => {
    for (const bad of ['novalue', '=v', '-bad=v']) {
      const error = (() => {
        try {
          parseLabels(['purpose=x', bad])
        } catch (e) {
          return e
        }
      })()
      expect(toKmsGuardError(error)).toMatchObject({exitCode: 2, code: 'USAGE'})
    }
  })

  it('non-interactive without --yes is exit 7 naming --yes; only the summary was read', async () => {
    const scope = mockSummary()
    const err = await refusal(createKey(testContext(), input({yes: false})))
    expect(err.exitCode).toBe(7)
    expect(err.message).toContain('pass --yes')
    expect(err.guards.map((g) => g.guard)).toEqual(['region', 'policy', 'policy', 'policy'])
    expect(scope.isDone()).toBe(true)
  })

  it('a region without KMS is exit 3 and nothing is posted', async () => {
    const scope = mockSummary()
    const err = await refusal(createKey(testContext(), input({region: 'nl-02'})))
    expect(err).toMatchObject({exitCode: 3, code: 'REGION_UNAVAILABLE'})
    expect(scope.isDone()).toBe(true)
  })
})

describe('create: API answers', () => {
  it('409: explains the slug clash and shows the existing key (looked up by the derived slug)', async () => {
    const existing = apiKey({identity: 'kms-0a1b2c', slug: 'app-secrets', name: 'App Secrets', status: 'active', latestVersion: 4})
    const scope = mockSummary().post(KEYS).reply(409, {message: 'a key with slug app-secrets already exists'}).get(`${KEYS}/app-secrets`).reply(200, existing)
    const err = await refusal(createKey(testContext(), input({name: 'App Secrets'})))
    expect(scope.isDone()).toBe(true)
    expect(err.code).toBe('CONFLICT')
    expect(err.exitCode).toBe(6)
    expect(err.message).toContain('slug app-secrets already exists in nl-01')
    expect(err.message).toContain('kms-0a1b2c')
    expect(err.message).toContain('active')
    expect(err.hint).toContain('kmsguard get app-secrets -r nl-01')
    expect(err.details).toMatchObject({slug: 'app-secrets', existing: {identity: 'kms-0a1b2c', status: 'active'}})
    expect(err.guards[0]).toMatchObject({guard: 'region', outcome: 'pass'})
  })

  it('409: falls back to listing ?name= when the slug lookup misses, and points at cancel-deletion for a pending key', async () => {
    const existing = apiKey({identity: 'kms-9z', slug: 'app-secrets-1', name: 'app-secrets', status: 'pending_deletion'})
    const scope = mockSummary().post(KEYS).reply(409, {message: 'duplicate'})
      .get(`${KEYS}/app-secrets`).reply(404, {message: 'not found'})
      .get(KEYS).query({name: 'app-secrets'}).reply(200, [existing])
    const err = await refusal(createKey(testContext(), input()))
    expect(scope.isDone()).toBe(true)
    expect(err.message).toContain('kms-9z')
    expect(err.hint).toContain('cancel-deletion app-secrets-1')
  })

  it('409: still explained when the existing key cannot be looked up', async () => {
    mockSummary().post(KEYS).reply(409, {message: 'duplicate'}).get(`${KEYS}/app-secrets`).reply(403, {message: 'no'}).get(KEYS).query(true).reply(403, {message: 'no'})
    const err = await refusal(createKey(testContext(), input()))
    expect(err.code).toBe('CONFLICT')
    expect(err.message).toContain('could not look it up')
  })

  it('400: shows the API message', async () => {
    const scope = mockSummary().post(KEYS).reply(400, {message: 'rotationPeriodInDays must be at most 3650'})
    const err = await refusal(createKey(testContext(), input()))
    expect(scope.isDone()).toBe(true)
    expect(err.exitCode).toBe(6)
    expect(err.message).toContain('rotationPeriodInDays must be at most 3650')
    expect(err.guards.length).toBeGreaterThan(0)
  })

  it('POST create is never retried after a 503', async () => {
    let posts = 0
    mockSummary().post(KEYS).times(3).reply(() => {
      posts++
      return [503, {message: 'busy'}]
    })
    const err = await refusal(createKey(testContext(), input()))
    expect(err.exitCode).toBe(6)
    expect(posts).toBe(1)
  })
})

describe('slugFromName', () => {
  it('derives the slug the way the API does', () => {
    expect(slugFromName('App Secrets (prod)')).toBe('app-secrets-prod')
    expect(slugFromName('--x__y--')).toBe('x-y')
  })
})
