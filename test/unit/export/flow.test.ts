/**
 * The whole two-person export with two callers (two PATs, two API clients): export:request by the requester,
 * approve by the approver, export by the requester — and the exported file unwraps with the recipient's private
 * key to exactly the material the API returned, for 32-byte and PKCS#8 (RSA) material. Then single use.
 */
import {randomBytes} from 'node:crypto'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import nock from 'nock'
import {describe, expect, it} from 'vitest'
import {fingerprint} from '../../../src/crypto/fingerprint.js'
import {unwrapWithPrivateKey} from '../../../src/crypto/recipient.js'
import {readJournal} from '../../../src/journal/index.js'
import {reviewExport} from '../../../src/operations/approve.js'
import {exportKeyMaterial} from '../../../src/operations/export.js'
import {requestExport} from '../../../src/operations/export-request.js'
import {AES_KEY, APPROVER, REGION, REQUESTER, as, ctxFor, mockPreflight, mockMe, rsaKeyPair, useNockAndTempDir, LATER} from './helpers.js'

const recipient = rsaKeyPair(2048)
const rsaMaterial = rsaKeyPair(2048).pkcs8Der
const RSA_KEY = {...AES_KEY, identity: 'kms-sig01', slug: 'signing-key', name: 'Signing', keyType: 'rsa-2048', latestVersion: 1, versions: [{version: 1}]}

const tmp = useNockAndTempDir((dir) => {
  process.env.KMSGUARD_JOURNAL = join(dir, 'env-journal.jsonl')
})

/** A stateful fake of the elevation API shared by both callers. */
function elevationServer() {
  let stored: Record<string, unknown> | undefined
  as(REQUESTER).post('/v1/projects/iam/my-access-elevations').reply(201, (_uri, body) => {
    const b = body as {labels: Record<string, string>; annotations: Record<string, string>; reason: string}
    stored = {identity: 'iamae-77', labels: b.labels, annotations: b.annotations, status: 'pending', reason: b.reason, requestedExpiresAt: LATER, requester: {subject: REQUESTER.subject, name: REQUESTER.name, email: REQUESTER.email}, iamPolicy: {identity: 'iamp-export', slug: 'kms-export'}}
    return stored
  })
  as(APPROVER).get('/v1/projects/iam/access-elevations/iamae-77').reply(200, () => stored)
  as(APPROVER).post('/v1/projects/iam/access-elevations/iamae-77/approve', {reviewNote: 'CHG-1234 checked'}).reply(200, () => {
    stored = {...stored, status: 'approved', reviewNote: 'CHG-1234 checked', reviewedBy: {subject: APPROVER.subject, name: APPROVER.name, email: APPROVER.email}}
    return stored
  })
  return {get: () => stored}
}

describe('request → approve → export', () => {
  it.each([
    ['32-byte symmetric material', AES_KEY, randomBytes(32), 'rsa-oaep-sha256', 2],
    ['PKCS#8 RSA private key material', RSA_KEY, rsaMaterial, 'rsa-aes-kwp', 1],
  ] as const)('%s: the file unwraps to exactly the material the API returned', async (_name, key, material, format, version) => {
    const server = elevationServer()
    // 1. requester asks
    mockPreflight(REQUESTER, key)
    const requester = ctxFor(REQUESTER, tmp.dir)
    const requested = await requestExport(requester, {region: REGION, key: key.slug, reason: 'HSM migration CHG-1234', yes: true, dryRun: false})
    expect(requested.result.elevation).toEqual({identity: 'iamae-77', status: 'pending', expiresAt: LATER})
    expect(requested.result.approveCommand).toBe('kmsguard approve iamae-77 --org demo')
    expect(requested.result.exportCommand).toContain(`kmsguard export ${key.slug} -r ${REGION} --approval iamae-77 --key-version ${version} --org demo`)
    expect(requester.journal.approval).toBe('iamae-77')

    // 2. approver approves, with their own token and client
    mockMe(APPROVER)
    as(APPROVER).get(`/v1/kms/${REGION}/keys`).query({identity: key.identity}).reply(200, [key])
    const approver = ctxFor(APPROVER, tmp.dir)
    const approved = await reviewExport(approver, {elevation: 'iamae-77', action: 'approve', note: 'CHG-1234 checked', yes: true, dryRun: false})
    expect(approved.result.status).toBe('approved')
    expect(approved.result.key).toMatchObject({identity: key.identity, slug: key.slug, name: key.name, keyType: key.keyType})
    expect(approved.result.requester).toMatchObject({subject: REQUESTER.subject, email: REQUESTER.email})
    expect(server.get()?.status).toBe('approved')

    // 3. requester exports, once
    const pem = join(tmp.dir, 'recipient.pem')
    writeFileSync(pem, recipient.publicPem)
    const out = join(tmp.dir, 'material.wrapped')
    mockPreflight(REQUESTER, key)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-77').reply(200, () => server.get())
    as(REQUESTER).post(`/v1/kms/${REGION}/keys/${key.identity}/export`, {keyVersion: String(version)}).reply(200, {keyMaterial: material.toString('base64'), keyVersion: String(version)})
    const exporter = ctxFor(REQUESTER, tmp.dir)
    const exported = await exportKeyMaterial(exporter, {region: REGION, key: key.slug, approval: 'iamae-77', out, recipient: pem, confirm: key.slug, dryRun: false})
    expect(nock.isDone()).toBe(true)

    const wrapped = readFileSync(out)
    expect(unwrapWithPrivateKey(wrapped, recipient.privatePem).equals(material)).toBe(true)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(exported.result).toMatchObject({keyVersion: version, approval: 'iamae-77', out, mode: '0600', format, fingerprint: fingerprint(material), bytesWritten: wrapped.length})
    expect(exported.guards.map((g) => `${g.guard}:${g.outcome}`)).toEqual(['region:pass', 'key-state:pass', 'key-state:pass', 'approval:pass'])
    expect(exporter.journal).toMatchObject({approval: 'iamae-77', confirmation: 'confirm-flag'})
    const everything = JSON.stringify({exported, journal: exporter.journal, entries: await readJournal(join(tmp.dir, 'journal.jsonl'))})
    for (const enc of ['base64', 'hex', 'base64url'] as const) expect(everything).not.toContain(material.toString(enc))

    const entries = await readJournal(join(tmp.dir, 'journal.jsonl'))
    expect(entries.filter((e) => e.kind === 'approval-consumed').map((e) => e.approval)).toEqual(['iamae-77'])

    // 4. the same approval a second time: refused before any export request
    mockPreflight(REQUESTER, key)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-77').reply(200, () => server.get())
    const again = exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), {region: REGION, key: key.slug, approval: 'iamae-77', out: join(tmp.dir, 'second.wrapped'), recipient: pem, confirm: key.slug, dryRun: false})
    await expect(again).rejects.toMatchObject({code: 'APPROVAL_USED', exitCode: 5})
    expect(() => statSync(join(tmp.dir, 'second.wrapped'))).toThrow()
  })
})
