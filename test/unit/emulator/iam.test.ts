import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'
import {client, KMS, type Call, type ElevationJson} from './helpers.js'

const T0 = Date.UTC(2027, 0, 15, 9, 0, 0)
const HOUR = 3600 * 1000

let h: EmulatorHandle
let operator: Call
let approver: Call
const MINE = '/v1/projects/iam/my-access-elevations'
const ALL = '/v1/projects/iam/access-elevations'

beforeAll(async () => {
  h = await startEmulator({quiet: true, clock: () => T0})
  operator = client(h)
  approver = client(h, {token: DEMO.tokens.approver})
})
afterAll(async () => {
  await h.close()
})

const request = (call: Call, extra: Record<string, unknown> = {}) =>
  call<ElevationJson>('POST', MINE, {policyIdentity: DEMO.exportPolicy.identity, reason: 'restore escrow', duration: '1h', ...extra})
const review = (call: Call, id: string, action: string, reviewNote?: string) =>
  call<ElevationJson>('POST', `${ALL}/${id}/${action}`, reviewNote === undefined ? {} : {reviewNote})
const exportEscrow = (call: Call = operator) => call<{keyMaterial: string}>('POST', `${KMS}/keys/${DEMO.keys.escrowKey.slug}/export`, {})

describe('requester side', () => {
  it('creates pending requests with an expiry from duration or expiresAt', async () => {
    const res = await request(operator, {labels: {'kmsguard.io/key': DEMO.keys.escrowKey.identity}, annotations: {digest: 'abc'}})
    expect(res.status).toBe(201)
    expect(res.body.identity).toMatch(/^iamae-/)
    expect(res.body).toMatchObject({status: 'pending', requester: {subject: DEMO.users.operator.subject}, iamPolicy: {slug: DEMO.exportPolicy.slug}})
    expect(Date.parse(res.body.requestedExpiresAt)).toBe(h.clock.now() + HOUR)
    expect(res.body.labels).toEqual({'kmsguard.io/key': DEMO.keys.escrowKey.identity})
    const at = new Date(h.clock.now() + 2 * HOUR).toISOString()
    const byDate = await request(operator, {duration: undefined, expiresAt: at, policyIdentity: DEMO.exportPolicy.slug})
    expect(byDate.status).toBe(201)
    expect(byDate.body.requestedExpiresAt).toBe(at)
    expect((await request(operator, {duration: '1h30m'})).status).toBe(201)
  })

  it('validates the request', async () => {
    expect((await request(operator, {reason: ''})).status).toBe(400)
    expect((await request(operator, {policyIdentity: 'iampol-nope'})).status).toBe(404)
    expect((await request(operator, {expiresAt: new Date(h.clock.now() + HOUR).toISOString()})).status).toBe(400)
    expect((await request(operator, {duration: undefined})).status).toBe(400)
    expect((await request(operator, {duration: '1 hour'})).status).toBe(400)
    expect((await request(operator, {duration: '200h'})).status).toBe(400)
    expect((await request(operator, {duration: undefined, expiresAt: new Date(h.clock.now() - 1000).toISOString()})).status).toBe(400)
  })

  it('lists and gets only the caller\'s own requests; cancels pending ones', async () => {
    const mine = await request(operator)
    const theirs = await request(approver)
    const list = await operator<ElevationJson[]>('GET', MINE)
    expect(list.body.map((e) => e.identity)).toContain(mine.body.identity)
    expect(list.body.every((e) => e.requester?.subject === DEMO.users.operator.subject)).toBe(true)
    expect((await operator('GET', `${MINE}/${theirs.body.identity}`)).status).toBe(404)
    expect((await operator('POST', `${MINE}/${theirs.body.identity}/cancel`)).status).toBe(404)
    const cancelled = await operator<ElevationJson>('POST', `${MINE}/${mine.body.identity}/cancel`)
    expect(cancelled.body.status).toBe('cancelled')
    expect((await operator('POST', `${MINE}/${mine.body.identity}/cancel`)).status).toBe(400)
  })
})

describe('approver side', () => {
  it('refuses non-approvers and self-approval', async () => {
    const mine = await request(operator)
    expect((await operator('GET', ALL)).status).toBe(403)
    expect((await operator('GET', `${ALL}/${mine.body.identity}`)).status).toBe(403)
    expect((await review(operator, mine.body.identity, 'approve')).status).toBe(403)
    const own = await request(approver)
    const self = await review(approver, own.body.identity, 'approve')
    expect(self.status).toBe(403)
    expect(self.body).toEqual({message: 'you cannot approve your own request'})
    expect(h.state.elevations.find((e) => e.identity === own.body.identity)?.status).toBe('pending')
  })

  it('approves, rejects and revokes with the right state rules', async () => {
    const a = await request(operator)
    const list = await approver<ElevationJson[]>('GET', ALL)
    expect(list.body.map((e) => e.identity)).toContain(a.body.identity)
    const approved = await review(approver, a.body.identity, 'approve', 'ticket CHG-1')
    expect(approved.body).toMatchObject({status: 'approved', reviewNote: 'ticket CHG-1', reviewedBy: {subject: DEMO.users.approver.subject}})
    expect((await review(approver, a.body.identity, 'approve')).status).toBe(400)
    expect((await review(approver, a.body.identity, 'reject')).status).toBe(400)
    expect((await review(approver, a.body.identity, 'revoke')).body.status).toBe('revoked')
    const b = await request(operator)
    expect((await review(approver, b.body.identity, 'revoke')).status).toBe(400)
    expect((await review(approver, b.body.identity, 'reject', 'no')).body.status).toBe('rejected')
    expect((await review(approver, 'iamae-missing', 'approve')).status).toBe(404)
  })

  it('expires requests by the clock', async () => {
    const pending = await request(operator, {duration: '10m'})
    const approved = await request(operator, {duration: '10m'})
    await review(approver, approved.body.identity, 'approve')
    h.clock.advance(10 * 60 * 1000)
    expect((await operator<ElevationJson>('GET', `${MINE}/${pending.body.identity}`)).body.status).toBe('expired')
    expect((await operator<ElevationJson>('GET', `${MINE}/${approved.body.identity}`)).body.status).toBe('expired')
    expect((await review(approver, pending.body.identity, 'approve')).status).toBe(400)
  })
})

describe('export dual control', () => {
  it('hides the key (404) unless the caller holds an approved, unexpired export elevation', async () => {
    const denied = await exportEscrow()
    expect(denied.status).toBe(404)
    expect(denied.body).toEqual({message: 'key not found'})
    const pending = await request(operator)
    expect((await exportEscrow()).status).toBe(404)
    const wrongPolicy = await request(operator, {policyIdentity: DEMO.adminPolicy.identity})
    await review(approver, wrongPolicy.body.identity, 'approve')
    expect((await exportEscrow()).status).toBe(404)

    await review(approver, pending.body.identity, 'approve')
    const first = await exportEscrow()
    expect(first.status).toBe(200)
    const material = h.state.keys.find((k) => k.identity === DEMO.keys.escrowKey.identity)?.versions[0].material
    expect(Buffer.from(first.body.keyMaterial, 'base64').equals(material ?? Buffer.alloc(0))).toBe(true)
    // the API does not consume elevations
    expect((await exportEscrow()).status).toBe(200)
    expect(h.state.elevations.find((e) => e.identity === pending.body.identity)?.status).toBe('approved')
    // someone else's approval does not help the approver
    expect((await exportEscrow(approver)).status).toBe(404)
    // a non-exportable key is still a 400 once IAM allows
    expect((await operator('POST', `${KMS}/keys/${DEMO.keys.appSecrets.slug}/export`, {})).status).toBe(400)

    const events = h.state.audit.filter((e) => e.action === 'kms.export' && e.resourceIdentity === DEMO.keys.escrowKey.identity && e.createdAt >= h.clock.now())
    expect(events.map((e) => e.context.status)).toEqual([404, 404, 404, 200, 200, 404])

    await review(approver, pending.body.identity, 'revoke')
    expect((await exportEscrow()).status).toBe(404)
  })

  it('an approved elevation stops working when it expires, and a project elevation does not cover org keys', async () => {
    const e = await request(operator, {duration: '5m'})
    await review(approver, e.body.identity, 'approve')
    expect((await exportEscrow()).status).toBe(200)
    h.clock.advance(5 * 60 * 1000)
    expect((await exportEscrow()).status).toBe(404)
    const web = client(h, {project: DEMO.projects.web.slug})
    const scoped = await request(web)
    await review(client(h, {token: DEMO.tokens.approver, project: DEMO.projects.web.slug}), scoped.body.identity, 'approve')
    expect((await exportEscrow()).status).toBe(404)
  })

  it('exports freely when the organisation does not require elevation', async () => {
    h.state.orgs[0].settings.exportRequiresElevation = false
    try {
      expect((await exportEscrow(approver)).status).toBe(200)
    } finally {
      h.state.orgs[0].settings.exportRequiresElevation = true
    }
  })
})
