/**
 * approve / approve --reject as the approver (their own PAT): refusals are exit 5 with no review request sent
 * (self-approval, tampered binding, not pending, expired, not a kmsguard export, unknown id); confirmation rules;
 * what the approver is shown; and the review request itself.
 */
import nock from 'nock'
import {describe, expect, it} from 'vitest'
import {bindingMetadata} from '../../../src/operations/binding.js'
import {reviewExport, type ApproveInput} from '../../../src/operations/approve.js'
import {AES_KEY, APPROVER, EARLIER, REGION, REQUESTER, as, ctxFor, elevation, mockMe, standardBinding, useNockAndTempDir, } from './helpers.js'

const tmp = useNockAndTempDir()

const input = (over: Partial<ApproveInput> = {}): ApproveInput => ({elevation: 'iamae-1', action: 'approve', yes: true, dryRun: false, ...over})
const pending = (over: Parameters<typeof elevation>[0] = {}) => elevation({status: 'pending', reviewer: null, ...over})
const review = (body: unknown) => as(APPROVER).get('/v1/projects/iam/access-elevations/iamae-1').reply(200, body as object)
const keyLookup = () => as(APPROVER).get(`/v1/kms/${REGION}/keys`).query({identity: AES_KEY.identity}).reply(200, [AES_KEY])

describe('approve: refusals (exit 5, no approve request)', () => {
  it('refuses self-approval on the client side: the caller is the requester', async () => {
    mockMe(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/access-elevations/iamae-1').reply(200, pending())
    const err = await reviewExport(ctxFor(REQUESTER, tmp.dir), input()).catch((e) => e)
    expect(err).toMatchObject({code: 'APPROVAL_SELF_APPROVED', exitCode: 5})
    expect(err.guards).toEqual([expect.objectContaining({guard: 'approval', outcome: 'fail'})])
    expect(nock.isDone()).toBe(true)
  })

  it('refuses a binding whose digest does not match its labels/annotations', async () => {
    const meta = bindingMetadata(standardBinding())
    mockMe(APPROVER)
    review(pending({metadata: {labels: {...meta.labels, 'kmsguard-key': 'kms-evil'}, annotations: {...meta.annotations, 'kmsguard-key': 'kms-evil'}}}))
    const err = await reviewExport(ctxFor(APPROVER, tmp.dir), input()).catch((e) => e)
    expect(err).toMatchObject({code: 'APPROVAL_BINDING_MISMATCH', exitCode: 5})
    expect(err.message).toMatch(/digest/)
  })

  it.each([
    ['not a kmsguard export request', 'APPROVAL_NOT_BOUND', pending({metadata: {labels: {team: 'x'}, annotations: {}}})],
    ['already approved', 'APPROVAL_NOT_PENDING', elevation()],
    ['rejected', 'APPROVAL_NOT_PENDING', elevation({status: 'rejected'})],
    ['expired while pending', 'APPROVAL_EXPIRED', pending({expiresAt: EARLIER})],
    ['requester differs from the bound requester', 'APPROVAL_BINDING_MISMATCH', {...pending(), requester: {subject: 'usr-mallory'}}],
  ])('%s → %s', async (_name, code, body) => {
    mockMe(APPROVER)
    review(body)
    await expect(reviewExport(ctxFor(APPROVER, tmp.dir), input())).rejects.toMatchObject({code, exitCode: 5})
  })

  it('an unknown id (404) → APPROVAL_MISSING', async () => {
    mockMe(APPROVER)
    as(APPROVER).get('/v1/projects/iam/access-elevations/iamae-1').reply(404, {message: 'not found'})
    await expect(reviewExport(ctxFor(APPROVER, tmp.dir), input())).rejects.toMatchObject({code: 'APPROVAL_MISSING', exitCode: 5})
  })

  it('a malformed id is a usage error before any request', async () => {
    await expect(reviewExport(ctxFor(APPROVER, tmp.dir), input({elevation: '../etc'}))).rejects.toMatchObject({exitCode: 2})
  })
})

describe('approve: confirmation', () => {
  it('non-interactive without --yes or --confirm is exit 7 and names both flags', async () => {
    mockMe(APPROVER)
    review(pending())
    keyLookup()
    const err = await reviewExport(ctxFor(APPROVER, tmp.dir), input({yes: false})).catch((e) => e)
    expect(err).toMatchObject({code: 'NOT_CONFIRMED', exitCode: 7})
    expect(err.message).toMatch(/--yes/)
    expect(err.message).toContain(`--confirm ${AES_KEY.slug}`)
  })

  it('--confirm must be the bound key', async () => {
    mockMe(APPROVER)
    review(pending())
    keyLookup()
    await expect(reviewExport(ctxFor(APPROVER, tmp.dir), input({yes: false, confirm: 'some-other-key'}))).rejects.toMatchObject({exitCode: 7})
  })

  it('--confirm SLUG approves, sending the note', async () => {
    mockMe(APPROVER)
    review(pending())
    keyLookup()
    as(APPROVER).post('/v1/projects/iam/access-elevations/iamae-1/approve', {reviewNote: 'ok by me'}).reply(200, elevation())
    const ctx = ctxFor(APPROVER, tmp.dir)
    const outcome = await reviewExport(ctx, input({yes: false, confirm: AES_KEY.slug, note: 'ok by me'}))
    expect(outcome.result.status).toBe('approved')
    expect(ctx.journal).toMatchObject({approval: 'iamae-1', confirmation: 'confirm-flag', region: REGION, key: {identity: AES_KEY.identity, slug: AES_KEY.slug}})
    expect(nock.isDone()).toBe(true)
  })
})

describe('approve: what is shown', () => {
  it('a dry run shows key, version, region, scope, requester, reason and expiry, and sends nothing', async () => {
    mockMe(APPROVER)
    review(pending())
    keyLookup()
    const outcome = await reviewExport(ctxFor(APPROVER, tmp.dir), input({dryRun: true}))
    expect(outcome.dryRun).toBe(true)
    expect(outcome.result).toMatchObject({
      status: 'pending',
      key: {identity: AES_KEY.identity, slug: AES_KEY.slug, name: AES_KEY.name, keyType: AES_KEY.keyType},
      binding: standardBinding(),
      requester: {subject: REQUESTER.subject, name: REQUESTER.name, email: REQUESTER.email},
      reason: 'HSM migration CHG-1234',
    })
    expect(outcome.result.planned).toEqual([{method: 'POST', path: '/v1/projects/iam/access-elevations/iamae-1/approve', body: {reviewNote: ''}}])
    expect(nock.isDone()).toBe(true)
  })

  it('shows the identity only (with a warning) when the approver cannot read the key', async () => {
    mockMe(APPROVER)
    review(pending())
    as(APPROVER).get(`/v1/kms/${REGION}/keys`).query({identity: AES_KEY.identity}).reply(403, {message: 'no'})
    const outcome = await reviewExport(ctxFor(APPROVER, tmp.dir), input({dryRun: true}))
    expect(outcome.result.key).toEqual({identity: AES_KEY.identity})
    expect(outcome.warnings[0]).toMatch(/could not be read/)
  })
})

describe('approve --reject', () => {
  it('rejects a pending request with the note (y/N via --yes)', async () => {
    review(pending())
    keyLookup()
    as(APPROVER).post('/v1/projects/iam/access-elevations/iamae-1/reject', {reviewNote: 'no ticket'}).reply(200, elevation({status: 'rejected'}))
    const outcome = await reviewExport(ctxFor(APPROVER, tmp.dir), input({action: 'reject', note: 'no ticket'}))
    expect(outcome.result.status).toBe('rejected')
    expect(nock.isDone()).toBe(true)
  })

  it('can reject a request whose binding is broken, with a warning verdict', async () => {
    review(pending({metadata: {labels: {}, annotations: {}}}))
    as(APPROVER).post('/v1/projects/iam/access-elevations/iamae-1/reject').reply(200, elevation({status: 'rejected'}))
    const outcome = await reviewExport(ctxFor(APPROVER, tmp.dir), input({action: 'reject'}))
    expect(outcome.guards).toEqual([expect.objectContaining({guard: 'approval', outcome: 'warn'})])
  })

  it('refuses to reject what is no longer pending', async () => {
    review(elevation())
    await expect(reviewExport(ctxFor(APPROVER, tmp.dir), input({action: 'reject'}))).rejects.toMatchObject({code: 'APPROVAL_NOT_PENDING', exitCode: 5})
  })
})
