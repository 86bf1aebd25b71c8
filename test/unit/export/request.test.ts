/**
 * export:request: the elevation request binds exactly this export (labels, annotations, digest), the policy
 * comes from --policy or the exportPolicy setting, refusals send no request, and the printed commands are the
 * ones the approver and the requester must run.
 */
import nock from 'nock'
import {describe, expect, it} from 'vitest'
import {bindingMetadata, readBinding, type ExportBinding} from '../../../src/operations/binding.js'
import {parseElevationDuration, requestExport, type ExportRequestInput} from '../../../src/operations/export-request.js'
import {AES_KEY, LATER, REGION, REQUESTER, as, ctxFor, mockPreflight, standardBinding, useNockAndTempDir, } from './helpers.js'

const tmp = useNockAndTempDir()

const input = (over: Partial<ExportRequestInput> = {}): ExportRequestInput => ({region: REGION, key: AES_KEY.slug, reason: 'HSM migration CHG-1234', yes: true, dryRun: false, ...over})

function captureCreate(): {body: () => Record<string, unknown> | undefined} {
  let body: Record<string, unknown> | undefined
  as(REQUESTER).post('/v1/projects/iam/my-access-elevations').reply(201, (_uri, b) => {
    body = b as Record<string, unknown>
    return {identity: 'iamae-9', labels: body.labels, annotations: body.annotations, status: 'pending', reason: body.reason, requestedExpiresAt: LATER, requester: {subject: REQUESTER.subject}}
  })
  return {body: () => body}
}

describe('export:request', () => {
  it('binds the request to key, region, scope, version, requester and policy', async () => {
    mockPreflight(REQUESTER)
    const created = captureCreate()
    const outcome = await requestExport(ctxFor(REQUESTER, tmp.dir), input({duration: '90m'}))
    const body = created.body()!
    const expected: ExportBinding = standardBinding()
    expect(body).toEqual({policyIdentity: 'kms-export', reason: 'HSM migration CHG-1234', duration: '1h30m', ...bindingMetadata(expected)})
    expect(readBinding(body as never)).toEqual({ok: true, binding: expected})
    expect(body.labels).toMatchObject({'kmsguard-operation': 'export', 'kmsguard-key': AES_KEY.identity, 'kmsguard-region': REGION, 'kmsguard-project': 'demo', 'kmsguard-key-version': '2', 'kmsguard-requester': REQUESTER.subject})
    expect((body.annotations as Record<string, string>)['kmsguard-binding-digest']).toMatch(/^sha256:[0-9a-f]{64}$/)
    for (const [k, v] of Object.entries(body.labels as Record<string, string>)) {
      expect(k).toMatch(/^[a-z0-9-]+$/)
      expect(v.length).toBeLessThanOrEqual(63)
    }
    expect(outcome.result.approveCommand).toBe('kmsguard approve iamae-9 --org demo')
    expect(outcome.result.exportCommand).toBe(`kmsguard export ${AES_KEY.slug} -r ${REGION} --approval iamae-9 --key-version 2 --org demo --recipient RECIPIENT_PUBLIC_KEY.pem --out NEW_FILE`)
    expect(outcome.warnings).toEqual([])
  })

  it('in a project scope binds the project and prints --project', async () => {
    mockPreflight(REQUESTER)
    const created = captureCreate()
    const ctx = ctxFor(REQUESTER, tmp.dir, {project: 'prj-payments'})
    const outcome = await requestExport(ctx, input({policy: 'iamp-export', keyVersion: 1}))
    expect(readBinding(created.body() as never)).toEqual({ok: true, binding: standardBinding({scope: 'project', project: 'prj-payments', keyVersion: 1, policy: 'iamp-export'})})
    expect(outcome.result.approveCommand).toBe('kmsguard approve iamae-9 --org demo --project prj-payments')
  })

  it('warns when the API drops the binding labels', async () => {
    mockPreflight(REQUESTER)
    as(REQUESTER).post('/v1/projects/iam/my-access-elevations').reply(201, {identity: 'iamae-9', status: 'pending'})
    const outcome = await requestExport(ctxFor(REQUESTER, tmp.dir), input())
    expect(outcome.warnings[0]).toMatch(/will refuse this approval/)
  })

  it('a key without exportAllowed is exit 3 EXPORT_NOT_ALLOWED, explaining it is set at creation only', async () => {
    mockPreflight(REQUESTER, {...AES_KEY, exportAllowed: false})
    const err = await requestExport(ctxFor(REQUESTER, tmp.dir), input()).catch((e) => e)
    expect(err).toMatchObject({code: 'EXPORT_NOT_ALLOWED', exitCode: 3})
    expect(err.hint).toMatch(/only be set when a key is created/)
    expect(err.guards.at(-1)).toMatchObject({guard: 'key-state', outcome: 'fail'})
  })

  it('a key that is not active is exit 3', async () => {
    mockPreflight(REQUESTER, {...AES_KEY, status: 'disabled'})
    await expect(requestExport(ctxFor(REQUESTER, tmp.dir), input())).rejects.toMatchObject({code: 'KEY_STATE', exitCode: 3})
  })

  it('a version that does not exist is exit 2', async () => {
    mockPreflight(REQUESTER)
    await expect(requestExport(ctxFor(REQUESTER, tmp.dir), input({keyVersion: 7}))).rejects.toMatchObject({code: 'KEY_VERSION_NOT_FOUND', exitCode: 2})
  })

  it('without --policy and without the exportPolicy setting: exit 2 naming `kmsguard config set exportPolicy`, no request', async () => {
    const err = await requestExport(ctxFor(REQUESTER, tmp.dir, {settings: {}}), input()).catch((e) => e)
    expect(err).toMatchObject({code: 'EXPORT_POLICY_REQUIRED', exitCode: 2})
    expect(err.hint).toContain('kmsguard config set exportPolicy')
  })

  it('needs a reason', async () => {
    await expect(requestExport(ctxFor(REQUESTER, tmp.dir), input({reason: '  '}))).rejects.toMatchObject({exitCode: 2})
  })

  it('non-interactive without --yes is exit 7 and creates nothing', async () => {
    mockPreflight(REQUESTER)
    await expect(requestExport(ctxFor(REQUESTER, tmp.dir), input({yes: false}))).rejects.toMatchObject({code: 'NOT_CONFIRMED', exitCode: 7})
  })

  it('a dry run plans the request and sends nothing', async () => {
    mockPreflight(REQUESTER)
    const outcome = await requestExport(ctxFor(REQUESTER, tmp.dir), input({dryRun: true, yes: false}))
    expect(outcome.dryRun).toBe(true)
    expect(outcome.result.planned[0]).toMatchObject({method: 'POST', path: '/v1/projects/iam/my-access-elevations', body: {policyIdentity: 'kms-export', duration: '1h'}})
    expect(outcome.result.elevation).toBeUndefined()
    expect(nock.isDone()).toBe(true)
  })
})

describe('--duration', () => {
  it.each([['30m', '30m'], ['1h', '1h'], ['2h', '2h'], ['90m', '1h30m'], ['1h30m', '1h30m'], ['24h', '24h'], ['5m', '5m'], ['1440m', '24h']])('%s → %s', (text, canonical) => {
    expect(parseElevationDuration(text)).toBe(canonical)
  })

  it.each(['', '0h', '4m', '25h', '24h1m', '1d', '1h 30m', '-1h', '1.5h', '01h', 'h', '1H', '30'])('refuses %j', (text) => {
    expect(() => parseElevationDuration(text)).toThrow(expect.objectContaining({code: 'INVALID_DURATION', exitCode: 2}))
  })
})
