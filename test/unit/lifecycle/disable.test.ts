import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {disableKey, type DisableInput} from '../../../src/operations/disable.js'
import {ORIGIN, testContext} from '../../helpers/context.js'
import {KEYS, REGION, RecordingConfirmer, apiKey, mockPreflight, mockScan, refusal} from './helpers.js'

const key = apiKey({slug: 'app-secrets'})
const input = (over: Partial<DisableInput> = {}): DisableInput => ({region: REGION, key: key.slug, reason: 'suspected leak, INC-4711', confirm: key.slug, dryRun: false, ...over})
const mockDisable = () => nock(ORIGIN).post(`${KEYS}/${key.identity}/disable`).reply(200, {...key, status: 'disabled'})

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

describe('disable', () => {
  it('scans, confirms with --confirm and sends one POST …/disable; the reason is journaled', async () => {
    const pre = mockPreflight(key)
    mockScan()
    const post = mockDisable()
    const ctx = testContext()
    const out = await disableKey(ctx, input())
    expect(pre.isDone() && post.isDone()).toBe(true)
    expect(out.result.key.status).toBe('disabled')
    expect(out.guards.map((g) => `${g.guard}:${g.outcome}`)).toEqual(['region:pass', 'key-state:pass', 'references:pass'])
    expect(ctx.journal).toMatchObject({confirmation: 'confirm-flag', details: {reason: 'suspected leak, INC-4711'}, summary: 'disabled app-secrets'})
  })

  it('accepts the identity as --confirm too', async () => {
    mockPreflight(key)
    mockScan()
    const post = mockDisable()
    await disableKey(testContext(), input({confirm: key.identity}))
    expect(post.isDone()).toBe(true)
  })

  it('still disables when references are found, and shows them as a warning with the scan details', async () => {
    mockPreflight(key)
    mockScan({
      projects: ['prj-web'],
      secrets: {organisation: [{path: '/db/password', kmsKey: {identity: key.identity}, region: REGION}, {path: '/other', kmsKey: {identity: 'kms-other'}, region: REGION}]},
      zones: {'prj-web': [{identity: 'dnsz-1', name: 'example.com'}]},
      dnssec: {'dnsz-1': {enabled: true, kmsKeyIdentity: key.identity, region: REGION}},
    })
    const post = mockDisable()
    const out = await disableKey(testContext(), input())
    expect(post.isDone()).toBe(true)
    const refs = out.guards.find((g) => g.guard === 'references')!
    expect(refs.outcome).toBe('warn')
    expect(refs.message).toContain('2 reference(s)')
    expect(refs.message).toContain('secret /db/password')
    expect(refs.message).toContain('DNSSEC zone example.com (project prj-web)')
    expect(refs.details?.references).toHaveLength(2)
    expect(refs.details?.complete).toBe(true)
  })

  it('still disables when the scan cannot read anything, and warns that the impact is unknown', async () => {
    mockPreflight(key)
    nock(ORIGIN).get('/v1/projects').reply(403, {message: 'no'})
    nock(ORIGIN).get(`/v1/secrets/${REGION}/secrets`).query(true).times(3).reply(500, {message: 'down'})
    nock(ORIGIN).get('/v1/dns/zones').times(3).reply(503, {message: 'down'})
    const post = mockDisable()
    const out = await disableKey(testContext(), input())
    expect(post.isDone()).toBe(true)
    const refs = out.guards.find((g) => g.guard === 'references')!
    expect(refs.outcome).toBe('warn')
    expect(refs.message).toContain('incomplete')
    expect((refs.details?.unread as unknown[]).length).toBeGreaterThanOrEqual(3)
  })

  it('requires --reason (exit 2) before any request', async () => {
    for (const reason of [undefined, '', '   ']) {
      const err = await refusal(disableKey(testContext(), input({reason})))
      expect(err).toMatchObject({exitCode: 2, code: 'USAGE'})
      expect(err.message).toContain('--reason')
    }
  })

  it('refuses an already disabled key with exit 3 saying so, and posts nothing', async () => {
    const scope = mockPreflight({...key, status: 'disabled'})
    const err = await refusal(disableKey(testContext(), input()))
    expect(scope.isDone()).toBe(true)
    expect(err).toMatchObject({exitCode: 3, code: 'ALREADY_DISABLED'})
    expect(err.message).toContain('already disabled')
    expect(err.hint).toContain('enable')
    expect(err.guards.map((g) => `${g.guard}:${g.outcome}`)).toEqual(['region:pass', 'key-state:fail'])
  })

  it('refuses a key pending deletion with exit 3', async () => {
    mockPreflight({...key, status: 'pending_deletion'})
    const err = await refusal(disableKey(testContext(), input()))
    expect(err).toMatchObject({exitCode: 3, code: 'KEY_STATE'})
  })

  it('a wrong --confirm is exit 7 and nothing is posted', async () => {
    const scope = mockPreflight(key)
    mockScan()
    const err = await refusal(disableKey(testContext(), input({confirm: 'other-key'})))
    expect(err).toMatchObject({exitCode: 7, code: 'NOT_CONFIRMED'})
    expect(err.guards.map((g) => g.guard)).toEqual(['region', 'key-state', 'references'])
    expect(scope.isDone()).toBe(true)
  })

  it('non-interactive without --confirm is exit 7 naming --confirm', async () => {
    mockPreflight(key)
    mockScan()
    const err = await refusal(disableKey(testContext(), input({confirm: undefined})))
    expect(err.exitCode).toBe(7)
    expect(err.message).toContain('--confirm app-secrets')
  })

  it('interactively asks for the slug or identity to be typed, naming what will break', async () => {
    mockPreflight(key)
    mockScan({secrets: {organisation: [{path: '/db/password', kmsKey: {identity: key.identity}, region: REGION}]}})
    const post = mockDisable()
    const confirm = new RecordingConfirmer(true)
    await disableKey(testContext({confirm}), input({confirm: undefined}))
    expect(post.isDone()).toBe(true)
    expect(confirm.asked).toEqual([expect.objectContaining({kind: 'typed', accepted: ['app-secrets', key.identity]})])
    expect(confirm.asked[0].text).toContain('secret /db/password')
    expect(confirm.shown).toEqual([['region', 'key-state', 'references']]) // the verdicts come before the prompt
  })

  it('--dry-run runs the scan, plans the POST and sends nothing', async () => {
    mockPreflight(key)
    mockScan()
    const out = await disableKey(testContext(), input({dryRun: true, confirm: undefined}))
    expect(out).toMatchObject({dryRun: true, result: {planned: [{method: 'POST', path: `${KEYS}/${key.identity}/disable`}]}})
  })

  it('a timed-out disable whose re-read shows the key disabled counts as done', async () => {
    mockPreflight(key)
    mockScan()
    let posts = 0
    nock(ORIGIN).post(`${KEYS}/${key.identity}/disable`).times(2).reply(() => {
      posts++
      return [504, {message: 'gateway timeout'}]
    }).get(`${KEYS}/${key.identity}`).reply(200, {...key, status: 'disabled'})
    const out = await disableKey(testContext(), input())
    expect(posts).toBe(1)
    expect(out.result.key.status).toBe('disabled')
    expect(out.warnings.join(' ')).toContain('re-read')
  })
})
