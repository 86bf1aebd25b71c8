import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {KmsGuardError} from '../../../src/cli/errors.js'
import {deleteKey, type DeleteInput} from '../../../src/operations/delete.js'
import type {OperationContext} from '../../../src/operations/context.js'
import {ORIGIN, testContext} from '../../helpers/context.js'
import {REGION, key, newWorld, secret, serve, started, timeoutError, type Reply, type World} from './world.js'

const P1 = 'prj-alpha'
const DELETE_PATH = `/v1/kms/${REGION}/keys/kms-app1`

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

function run(world: World, input: Partial<DeleteInput> = {}, ctx: OperationContext = testContext()) {
  serve(world)
  return {ctx, promise: deleteKey(ctx, {region: REGION, key: 'app-key', dryRun: false, ...input})}
}

async function refusal(promise: Promise<unknown>): Promise<KmsGuardError> {
  const err = await promise.then(() => undefined, (error: unknown) => error as KmsGuardError)
  if (!err) throw new Error('expected the operation to be refused')
  return err
}

/** The one DELETE, answered with `reply` (the key then reads as pending_deletion). */
function expectDelete(world: World, reply: Reply = [204, '']) {
  return nock(ORIGIN).delete(DELETE_PATH).reply(() => {
    world.keys[0] = {...world.keys[0], status: 'pending_deletion'}
    return reply as [number, string]
  })
}

const incompleteWays: Array<[string, Partial<World>]> = [
  ['the projects list answers 500 after retries', {override: (r) => (r.route === 'projects' ? [500, {message: 'boom'}] : undefined)}],
  ['one scope\'s secrets list answers 403', {override: (r) => (r.route === 'secrets' && r.scope === P1 ? [403, {message: 'denied'}] : undefined)}],
  ['a zones list has a malformed body', {override: (r) => (r.route === 'zones' && r.scope === 'org' ? [200, 'not json at all'] : undefined)}],
  ['one DNSSEC status times out', {override: (r) => (r.route === 'dnssec' ? {error: timeoutError()} : undefined)}],
  ['one DNSSEC status answers 500', {override: (r) => (r.route === 'dnssec' ? [500, {message: 'dns down'}] : undefined)}],
]

function worldWith(extra: Partial<World>): World {
  return newWorld({projects: [{identity: P1, name: 'Alpha', slug: 'alpha'}], zones: {[P1]: [{identity: 'dnsz-1', name: 'a.example'}]}, ...extra})
}

describe('delete: the reference scan refuses', () => {
  it.each(incompleteWays)('an incomplete scan (%s) with exit 4 and sends no DELETE', async (_name, extra) => {
    const world = worldWith(extra)
    const {ctx, promise} = run(world, {confirm: 'app-key'})
    const err = await refusal(promise)
    expect(err.code).toBe('SCAN_INCOMPLETE')
    expect(err.exitCode).toBe(4)
    expect(err.hint).toContain('--accept-incomplete-scan --reason')
    expect(err.guards.map((g) => [g.guard, g.outcome])).toEqual([['region', 'pass'], ['key-state', 'pass'], ['references', 'fail']])
    expect((err.details?.unread as unknown[]).length).toBeGreaterThan(0)
    expect(ctx.journal.confirmation).toBeUndefined()
  })

  it.each(incompleteWays)('lets --accept-incomplete-scan --reason through (%s), reported in result and journal', async (_name, extra) => {
    const world = worldWith(extra)
    const del = expectDelete(world)
    const {ctx, promise} = run(world, {confirm: 'app-key', acceptIncompleteScan: true, reason: 'DNS outage, CHG-1'})
    const out = await promise
    expect(del.isDone()).toBe(true)
    expect(out.result.overrides).toEqual([{flag: '--accept-incomplete-scan', reason: 'DNS outage, CHG-1'}])
    expect(ctx.journal.overrides).toEqual([{flag: '--accept-incomplete-scan', reason: 'DNS outage, CHG-1'}])
    expect(out.guards.find((g) => g.guard === 'references')?.outcome).toBe('warn')
    expect(out.warnings.join(' ')).toContain('incomplete')
    expect(out.result.scan.complete).toBe(false)
  })

  it('refuses references found with exit 4, never overridable by --accept-incomplete-scan', async () => {
    const world = worldWith({secrets: {[P1]: [secret('/app/db', {identity: 'kms-app1'})]}, dnssec: {'dnsz-1': {enabled: true, kmsKeyIdentity: 'kms-app1', region: REGION}},
      override: (r) => (r.route === 'secrets' && r.scope === 'org' ? [403, {message: 'denied'}] : undefined)})
    for (const input of [{confirm: 'app-key'}, {confirm: 'app-key', acceptIncompleteScan: true, reason: 'outage'}]) {
      const err = await refusal(run(world, input).promise)
      expect(err.code).toBe('REFERENCES_FOUND')
      expect(err.exitCode).toBe(4)
      expect(err.message).toContain('secret /app/db (project prj-alpha, nl-01)')
      expect(err.message).toContain('DNSSEC zone a.example (dnsz-1, project prj-alpha, nl-01): move the zone\'s DNSSEC signing to another key, or disable DNSSEC')
      expect(err.details?.references).toHaveLength(2)
      nock.cleanAll()
    }
  })
})

describe('delete: key state', () => {
  it('refuses an active key with exit 3 and the disable hint, before any scan', async () => {
    const world = newWorld({keys: [key({status: 'active'})]})
    const err = await refusal(run(world, {confirm: 'app-key'}).promise)
    expect(err.code).toBe('KEY_STATE')
    expect(err.exitCode).toBe(3)
    expect(err.hint).toContain('kmsguard disable app-key -r nl-01')
    expect(started(world, 'secrets')).toHaveLength(0)
  })

  it('needs --reason with --allow-active (exit 2, nothing sent)', async () => {
    const err = await refusal(deleteKey(testContext(), {region: REGION, key: 'app-key', dryRun: false, allowActive: true, confirm: 'app-key'}))
    expect(err.code).toBe('USAGE')
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain('--allow-active needs --reason')
  })

  it('rejects a --reason that no override uses (exit 2)', async () => {
    const err = await refusal(deleteKey(testContext(), {region: REGION, key: 'app-key', dryRun: false, reason: 'because'}))
    expect(err.exitCode).toBe(2)
  })

  it('deletes an active key with --allow-active --reason, recording the override', async () => {
    const world = newWorld({keys: [key({status: 'active'})]})
    const del = expectDelete(world)
    const {ctx, promise} = run(world, {confirm: 'app-key', allowActive: true, reason: 'compromised, INC-7'})
    const out = await promise
    expect(del.isDone()).toBe(true)
    expect(out.guards.find((g) => g.guard === 'key-state')?.outcome).toBe('warn')
    expect(out.result.overrides).toEqual([{flag: '--allow-active', reason: 'compromised, INC-7'}])
    expect(ctx.journal.overrides).toEqual([{flag: '--allow-active', reason: 'compromised, INC-7'}])
  })

  it('refuses a key already pending deletion with exit 3, saying so', async () => {
    const world = newWorld({keys: [key({status: 'pending_deletion', deletionScheduledAt: '2027-01-01T00:00:00Z'})]})
    const err = await refusal(run(world, {confirm: 'app-key'}).promise)
    expect(err.exitCode).toBe(3)
    expect(err.message).toContain('already scheduled for deletion (for 2027-01-01T00:00:00Z)')
    expect(err.hint).toContain('kmsguard cancel-deletion app-key -r nl-01')
  })
})

describe('delete: confirmation and the DELETE', () => {
  it('non-interactive without --confirm is exit 7 after every guard, and sends no DELETE', async () => {
    const world = newWorld()
    const err = await refusal(run(world).promise)
    expect(err.code).toBe('NOT_CONFIRMED')
    expect(err.exitCode).toBe(7)
    expect(err.message).toContain('--confirm app-key')
    expect(err.guards.map((g) => g.outcome)).toEqual(['pass', 'pass', 'pass'])
  })

  it('a wrong --confirm is exit 7 and sends no DELETE', async () => {
    const err = await refusal(run(newWorld(), {confirm: 'other-key'}).promise)
    expect(err.code).toBe('NOT_CONFIRMED')
    expect(err.exitCode).toBe(7)
  })

  it.each([['slug', 'app-key'], ['identity', 'kms-app1']])('--confirm with the %s sends exactly one DELETE', async (_what, value) => {
    const world = newWorld()
    const del = expectDelete(world)
    const {ctx, promise} = run(world, {confirm: value})
    const out = await promise
    expect(del.isDone()).toBe(true)
    expect(ctx.journal.confirmation).toBe('confirm-flag')
    expect(out.result.cancelCommand).toBe('kmsguard cancel-deletion app-key -r nl-01')
    expect(out.result.overrides).toEqual([])
    expect(ctx.journal.overrides).toBeUndefined()
  })

  it('takes deletionScheduledAt from a 200 response', async () => {
    const world = newWorld()
    const del = expectDelete(world, [200, {...key(), status: 'pending_deletion', deletionScheduledAt: '2027-01-03T12:00:00Z'}])
    const out = await run(world, {confirm: 'app-key'}).promise
    expect(del.isDone()).toBe(true)
    expect(out.result).toMatchObject({deletionScheduledAt: '2027-01-03T12:00:00Z', deletionScheduledAtSource: 'response', key: {status: 'pending_deletion'}})
    expect(started(world, 'key')).toHaveLength(1) // only the resolve; no follow-up GET needed
  })

  it('after a 204, takes deletionScheduledAt from a follow-up GET of the key', async () => {
    const world = newWorld()
    const del = nock(ORIGIN).delete(DELETE_PATH).reply(() => {
      world.keys[0] = {...world.keys[0], status: 'pending_deletion', deletionScheduledAt: '2027-01-02T00:00:00Z'}
      return [204, '']
    })
    const out = await run(world, {confirm: 'app-key'}).promise
    expect(del.isDone()).toBe(true)
    expect(out.result).toMatchObject({deletionScheduledAt: '2027-01-02T00:00:00Z', deletionScheduledAtSource: 'key', key: {status: 'pending_deletion'}})
  })

  it('after a 204 with no date anywhere, estimates now + 30 days and says so', async () => {
    const world = newWorld()
    const del = expectDelete(world)
    const {ctx, promise} = run(world, {confirm: 'app-key'})
    const out = await promise
    expect(del.isDone()).toBe(true)
    expect(out.result).toMatchObject({deletionScheduledAt: '2027-01-03T12:00:00.000Z', deletionScheduledAtSource: 'estimated'})
    expect(ctx.journal.summary).toContain('(estimated)')
  })
})

describe('delete --dry-run', () => {
  it('runs every guard including the scan, plans the DELETE and sends none', async () => {
    const world = worldWith({})
    const out = await run(world, {dryRun: true}).promise
    expect(out.dryRun).toBe(true)
    expect(out.result.planned).toEqual([{method: 'DELETE', path: DELETE_PATH}])
    expect(out.guards.map((g) => [g.guard, g.outcome])).toEqual([['region', 'pass'], ['key-state', 'pass'], ['references', 'pass']])
    expect(started(world, 'dnssec')).toHaveLength(1)
    expect(out.result.deletionScheduledAt).toBeUndefined()
  })

  it('exits with the guard\'s code when a guard fails', async () => {
    const world = worldWith({secrets: {org: [secret('/a', {identity: 'kms-app1'})]}})
    const err = await refusal(run(world, {dryRun: true}).promise)
    expect(err.exitCode).toBe(4)
    nock.cleanAll()
    const active = await refusal(run(newWorld({keys: [key({status: 'active'})]}), {dryRun: true}).promise)
    expect(active.exitCode).toBe(3)
  })
})
