import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {rotateKey, updateRotationSchedule, type RotateInput, type ScheduleInput} from '../../../src/operations/rotate.js'
import {testContext} from '../../helpers/context.js'
import {KEYS, REGION, RecordingConfirmer, apiKey, mockPreflight, mockSummary, refusal, rotated} from './helpers.js'

const key = apiKey({latestVersion: 3})
const now = (over: Partial<RotateInput> = {}): RotateInput => ({region: REGION, key: key.slug, dryRun: false, yes: true, ...over})
const schedule = (value: ScheduleInput['schedule'], over: Partial<ScheduleInput> = {}): ScheduleInput => ({region: REGION, key: key.slug, dryRun: false, yes: true, schedule: value, ...over})

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

describe('rotate now', () => {
  it('sends one POST …/rotate (no body) and shows the new version, the version count and the billing note', async () => {
    let body: unknown = 'unset'
    const scope = mockPreflight(key).post(`${KEYS}/${key.identity}/rotate`, (b) => {
      body = b
      return true
    }).reply(200, rotated(key))
    const ctx = testContext()
    const out = await rotateKey(ctx, now())
    expect(scope.isDone()).toBe(true)
    expect(body).toBe('')
    expect(out.result).toMatchObject({previousVersion: 3, latestVersion: 4, versionCount: 4})
    expect(out.result.billingNote).toContain('every key version is billed')
    expect(out.result.billingNote).toContain('4 version(s)')
    expect(out.guards.map((g) => `${g.guard}:${g.outcome}`)).toEqual(['region:pass', 'key-state:pass', 'policy:pass'])
    expect(ctx.journal).toMatchObject({confirmation: 'yes-flag', key: {identity: key.identity}, details: {previousVersion: 3, latestVersion: 4}})
  })

  it('asks y/N interactively and mentions the billable version', async () => {
    mockPreflight(key).post(`${KEYS}/${key.identity}/rotate`).reply(200, rotated(key))
    const confirm = new RecordingConfirmer(true)
    await rotateKey(testContext({confirm}), now({yes: false}))
    expect(confirm.asked).toHaveLength(1)
    expect(confirm.asked[0]).toMatchObject({kind: 'yesNo'})
    expect(confirm.asked[0].text).toMatch(/version 4.*billed/)
  })

  it('refuses a disabled key with exit 3 and posts nothing', async () => {
    const scope = mockPreflight(apiKey({status: 'disabled'}))
    const err = await refusal(rotateKey(testContext(), now()))
    expect(err).toMatchObject({exitCode: 3, code: 'KEY_STATE'})
    expect(scope.isDone()).toBe(true)
  })

  it('refuses an imported key without allowRotation (exit 3), explaining it can never rotate', async () => {
    const scope = mockPreflight(apiKey({imported: true, allowRotation: false}))
    const err = await refusal(rotateKey(testContext(), now()))
    expect(err).toMatchObject({exitCode: 3, code: 'ROTATION_NOT_ALLOWED'})
    expect(err.message).toContain('can never rotate')
    expect(err.hint).toContain('import')
    expect(err.guards.at(-1)).toMatchObject({guard: 'policy', outcome: 'fail'})
    expect(scope.isDone()).toBe(true)
  })

  it('rotates an imported key whose allowRotation the API does not report, with a policy warning', async () => {
    const imported = apiKey({imported: true})
    const scope = mockPreflight(imported).post(`${KEYS}/${imported.identity}/rotate`).reply(200, rotated(imported))
    const out = await rotateKey(testContext(), now())
    expect(scope.isDone()).toBe(true)
    expect(out.guards.at(-1)).toMatchObject({guard: 'policy', outcome: 'warn'})
  })

  it('non-interactive without --yes is exit 7 and posts nothing', async () => {
    const scope = mockPreflight(key)
    const err = await refusal(rotateKey(testContext(), now({yes: false})))
    expect(err).toMatchObject({exitCode: 7, code: 'NOT_CONFIRMED'})
    expect(scope.isDone()).toBe(true)
  })

  it('--dry-run plans the POST and sends nothing', async () => {
    const scope = mockPreflight(key)
    const out = await rotateKey(testContext(), now({dryRun: true, yes: false}))
    expect(scope.isDone()).toBe(true)
    expect(out).toMatchObject({dryRun: true, result: {planned: [{method: 'POST', path: `${KEYS}/${key.identity}/rotate`}], previousVersion: 3}})
  })

  it('a 500 whose re-read shows the version advanced is done, with exactly one POST', async () => {
    let posts = 0
    const scope = mockPreflight(key).post(`${KEYS}/${key.identity}/rotate`).times(3).reply(() => {
      posts++
      return [500, {message: 'upstream hiccup'}]
    }).get(`${KEYS}/${key.identity}`).reply(200, rotated(key))
    const out = await rotateKey(testContext(), now())
    expect(posts).toBe(1)
    expect(out.result.latestVersion).toBe(4)
    expect(out.warnings.join(' ')).toContain('the rotation happened')
    expect(scope.pendingMocks()).toEqual([`POST ${'https://api.kmsguard.test'}:443${KEYS}/${key.identity}/rotate`])
  })

  it('a 500 whose re-read shows no new version fails (exit 6), says so, and is not retried', async () => {
    let posts = 0
    mockPreflight(key).post(`${KEYS}/${key.identity}/rotate`).times(3).reply(() => {
      posts++
      return [500, {message: 'boom'}]
    }).get(`${KEYS}/${key.identity}`).reply(200, key)
    const err = await refusal(rotateKey(testContext(), now()))
    expect(posts).toBe(1)
    expect(err.exitCode).toBe(6)
    expect(err.message).toContain('did not happen')
    expect(err.hint).toContain('safe to rotate')
  })

  it('a 500 with a failed re-read is an unknown outcome that warns against blind retries', async () => {
    mockPreflight(key).post(`${KEYS}/${key.identity}/rotate`).reply(500, {message: 'boom'}).get(`${KEYS}/${key.identity}`).times(3).reply(503, {message: 'down'})
    const err = await refusal(rotateKey(testContext(), now()))
    expect(err.exitCode).toBe(6)
    expect(err.message).toContain('unknown')
    expect(err.hint).toContain('kmsguard get')
    expect(err.details?.outcome).toBe('unknown')
  })
})

describe('rotate --schedule / --no-schedule', () => {
  it('--schedule sends exactly {keyRotationEnabled: true, rotationPeriodInDays}', async () => {
    const scope = mockPreflight(key).patch(`${KEYS}/${key.identity}/rotation`, {keyRotationEnabled: true, rotationPeriodInDays: 180})
      .reply(200, apiKey({rotationPeriodInDays: 180}))
    const out = await updateRotationSchedule(testContext(), schedule('180'))
    expect(scope.isDone()).toBe(true)
    expect(out.result).toMatchObject({changed: true, before: {keyRotationEnabled: true, rotationPeriodInDays: 90}, after: {keyRotationEnabled: true, rotationPeriodInDays: 180}})
    expect(out.result.note).toContain('billable')
  })

  it('--no-schedule on a symmetric key with --reason sends exactly {keyRotationEnabled: false} and journals the override', async () => {
    const scope = mockPreflight(key).patch(`${KEYS}/${key.identity}/rotation`, {keyRotationEnabled: false}).reply(200, apiKey({keyRotationEnabled: false}))
    const ctx = testContext()
    const out = await updateRotationSchedule(ctx, schedule(false, {reason: 'freeze during migration'}))
    expect(scope.isDone()).toBe(true)
    expect(out.result.after.keyRotationEnabled).toBe(false)
    expect(ctx.journal.overrides).toEqual([{flag: '--no-schedule', reason: 'freeze during migration'}])
    expect(ctx.journal.details?.reason).toBe('freeze during migration')
  })

  it('--no-schedule on a symmetric key without --reason is exit 2 and nothing is patched', async () => {
    const scope = mockPreflight(key)
    const err = await refusal(updateRotationSchedule(testContext(), schedule(false)))
    expect(err).toMatchObject({exitCode: 2, code: 'POLICY_FLAGS'})
    expect(err.message).toContain('--no-schedule')
    expect(scope.isDone()).toBe(true)
  })

  it('--no-schedule on an asymmetric key needs no reason', async () => {
    const signing = apiKey({slug: 'signer', keyType: 'ed25519', keyRotationEnabled: true, rotationPeriodInDays: 365})
    const scope = mockPreflight(signing).patch(`${KEYS}/${signing.identity}/rotation`, {keyRotationEnabled: false}).reply(200, {...signing, keyRotationEnabled: false})
    await updateRotationSchedule(testContext(), {...schedule(false), key: 'signer'})
    expect(scope.isDone()).toBe(true)
  })

  it.each(['0', '3651', '-1', 'abc'])('--schedule %s is exit 2 before any request', async (days) => {
    const err = await refusal(updateRotationSchedule(testContext(), schedule(days)))
    expect(err).toMatchObject({exitCode: 2, code: 'INVALID_ROTATION_PERIOD'})
  })

  it('--schedule on an imported key without allowRotation is exit 3 and nothing is patched', async () => {
    const scope = mockPreflight(apiKey({imported: true, allowRotation: false, keyRotationEnabled: false}))
    const err = await refusal(updateRotationSchedule(testContext(), schedule(30)))
    expect(err).toMatchObject({exitCode: 3, code: 'ROTATION_NOT_ALLOWED'})
    expect(scope.isDone()).toBe(true)
  })

  it('sends nothing when the key already has the requested schedule', async () => {
    const scope = mockPreflight(key)
    const out = await updateRotationSchedule(testContext(), schedule('90', {yes: false}))
    expect(scope.isDone()).toBe(true)
    expect(out.result).toMatchObject({changed: false, planned: []})
  })

  it('non-interactive without --yes is exit 7 and nothing is patched', async () => {
    const scope = mockPreflight(key)
    const err = await refusal(updateRotationSchedule(testContext(), schedule('30', {yes: false})))
    expect(err.exitCode).toBe(7)
    expect(scope.isDone()).toBe(true)
  })

  it('--dry-run shows the PATCH with its body and sends nothing', async () => {
    const scope = mockPreflight(key)
    const out = await updateRotationSchedule(testContext(), schedule('30', {dryRun: true}))
    expect(scope.isDone()).toBe(true)
    expect(out.result.planned).toEqual([{method: 'PATCH', path: `${KEYS}/${key.identity}/rotation`, body: {keyRotationEnabled: true, rotationPeriodInDays: 30}}])
  })

  it('a region without KMS is exit 3 before the key is even read', async () => {
    const scope = mockSummary()
    const err = await refusal(updateRotationSchedule(testContext(), {...schedule('30'), region: 'nl-02'}))
    expect(err).toMatchObject({exitCode: 3, code: 'REGION_UNAVAILABLE'})
    expect(scope.isDone()).toBe(true)
  })
})
