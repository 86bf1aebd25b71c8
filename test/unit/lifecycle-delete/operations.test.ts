import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {KmsGuardError} from '../../../src/cli/errors.js'
import {cancelDeletion} from '../../../src/operations/cancel-deletion.js'
import {referencesReport} from '../../../src/operations/references.js'
import {ORIGIN, testContext} from '../../helpers/context.js'
import {REGION, key, newWorld, secret, serve, started} from './world.js'

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

const refusal = (p: Promise<unknown>) => p.then(() => {
  throw new Error('expected a refusal')
}, (error: unknown) => error as KmsGuardError)

describe('references (read-only report)', () => {
  it('reports references of a key in any state with exit 0, resolving the key by name', async () => {
    const world = newWorld({keys: [key({status: 'active'})], secrets: {org: [secret('/a', {identity: 'kms-app1'})]}})
    serve(world)
    const out = await referencesReport(testContext(), {region: REGION, key: 'App key'})
    expect(out.result.complete).toBe(true)
    expect(out.result.key).toEqual({identity: 'kms-app1', slug: 'app-key'})
    expect(out.result.references).toEqual([{type: 'secret', path: '/a', region: REGION, project: null}])
    expect(out.guards.map((g) => [g.guard, g.outcome])).toEqual([['region', 'pass'], ['references', 'warn']])
  })

  it('scans with the region slug even when the region is given by identity', async () => {
    const world = newWorld({zones: {org: [{identity: 'dnsz-1', name: 'a.example'}]}, dnssec: {'dnsz-1': {enabled: true, kmsKeyIdentity: 'kms-app1', region: REGION}}})
    serve(world)
    const out = await referencesReport(testContext(), {region: 'reg-nl01', key: 'kms-app1'})
    expect(out.result.region).toBe(REGION)
    expect(out.result.references).toHaveLength(1)
  })

  it('is exit 4 SCAN_INCOMPLETE when anything could not be read', async () => {
    serve(newWorld({override: (r) => (r.route === 'zones' ? [404, {message: 'dns not enabled'}] : undefined)}))
    const err = await refusal(referencesReport(testContext(), {region: REGION, key: 'app-key'}))
    expect(err.code).toBe('SCAN_INCOMPLETE')
    expect(err.exitCode).toBe(4)
    expect(err.message).toContain('zones list (organisation scope): NOT_FOUND')
    expect(err.hint).not.toContain('--accept-incomplete-scan')
  })
})

describe('cancel-deletion', () => {
  const pending = () => newWorld({keys: [key({status: 'pending_deletion', deletionScheduledAt: '2027-01-03T12:00:00Z'})]})
  const CANCEL = `/v1/kms/${REGION}/keys/kms-app1/cancel-deletion`

  it('non-interactive without --yes is exit 7 and sends nothing', async () => {
    serve(pending())
    const err = await refusal(cancelDeletion(testContext(), {region: REGION, key: 'app-key', dryRun: false}))
    expect(err.exitCode).toBe(7)
    expect(err.message).toContain('--yes')
  })

  it('with --yes sends one DELETE …/cancel-deletion (204) and re-reads the key', async () => {
    const world = pending()
    serve(world)
    const cancel = nock(ORIGIN).delete(CANCEL).reply(() => {
      world.keys[0] = key({status: 'active'})
      return [204, '']
    })
    const ctx = testContext()
    const out = await cancelDeletion(ctx, {region: REGION, key: 'app-key', dryRun: false, yes: true})
    expect(cancel.isDone()).toBe(true)
    expect(out.result).toMatchObject({key: {status: 'active'}, verified: true})
    expect(started(world, 'key')).toHaveLength(2)
    expect(ctx.journal.confirmation).toBe('yes-flag')
    expect(ctx.journal.summary).toContain('now active')
    expect(out.warnings.join('\n')).toMatch(/active again: crypto on it works.*kmsguard disable app-key/)
  })

  it('refuses a key that is not pending deletion with exit 3', async () => {
    serve(newWorld({keys: [key({status: 'active'})]}))
    const err = await refusal(cancelDeletion(testContext(), {region: REGION, key: 'app-key', dryRun: false, yes: true}))
    expect(err.exitCode).toBe(3)
    expect(err.code).toBe('KEY_STATE')
  })

  it('--dry-run plans the call and sends nothing', async () => {
    serve(pending())
    const out = await cancelDeletion(testContext(), {region: REGION, key: 'app-key', dryRun: true})
    expect(out.result.planned).toEqual([{method: 'DELETE', path: CANCEL}])
    expect(out.dryRun).toBe(true)
  })
})
