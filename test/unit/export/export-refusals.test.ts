/**
 * export refuses with exit 5 — and sends no export request — for every reason an approval can be bad; local
 * --out / --recipient problems are exit 2 before any request at all; --plaintext writes a 0600 file; a file
 * that appears at --out while the export runs is left alone.
 */
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import nock from 'nock'
import {describe, expect, it} from 'vitest'
import {consumeApproval, readJournal} from '../../../src/journal/index.js'
import {bindingMetadata} from '../../../src/operations/binding.js'
import {exportKeyMaterial, type ExportInput} from '../../../src/operations/export.js'
import {AES_KEY, APPROVER, EARLIER, OTHER, REGION, REQUESTER, as, ctxFor, elevation, mockPreflight, rsaKeyPair, standardBinding, useNockAndTempDir, } from './helpers.js'

const recipient = rsaKeyPair(2048)
const tmp = useNockAndTempDir((dir) => {
  process.env.KMSGUARD_JOURNAL = join(dir, 'env-journal.jsonl')
})

const input = (over: Partial<ExportInput> = {}): ExportInput => ({region: REGION, key: AES_KEY.slug, approval: 'iamae-1', out: join(tmp.dir, 'out.key'), plaintext: true, confirm: AES_KEY.slug, dryRun: false, ...over})

const tampered = () => {
  const meta = bindingMetadata(standardBinding())
  // Edit the bound version in both places but leave the digest: a consistent-looking but edited binding.
  return {labels: {...meta.labels, 'kmsguard-key-version': '1'}, annotations: {...meta.annotations, 'kmsguard-key-version': '1'}}
}

describe('export: approval refusals (exit 5, no POST …/export)', () => {
  it.each([
    ['missing (404)', 'APPROVAL_MISSING', null],
    ['pending', 'APPROVAL_PENDING', elevation({status: 'pending', reviewer: null})],
    ['rejected', 'APPROVAL_REJECTED', elevation({status: 'rejected'})],
    ['revoked', 'APPROVAL_REVOKED', elevation({status: 'revoked'})],
    ['expired by status', 'APPROVAL_EXPIRED', elevation({status: 'expired'})],
    ['approved but past requestedExpiresAt', 'APPROVAL_EXPIRED', elevation({expiresAt: EARLIER})],
    ['approved by the requester', 'APPROVAL_SELF_APPROVED', elevation({reviewer: REQUESTER})],
    ['approved with no reviewer', 'APPROVAL_REVIEWER_UNKNOWN', elevation({reviewer: null})],
    ['requested by someone else', 'APPROVAL_NOT_REQUESTER', elevation({requester: OTHER, binding: standardBinding({requester: OTHER.subject})})],
    ['bound to another key', 'APPROVAL_BINDING_MISMATCH', elevation({binding: standardBinding({key: 'kms-other'})})],
    ['bound to another version', 'APPROVAL_BINDING_MISMATCH', elevation({binding: standardBinding({keyVersion: 1})})],
    ['bound to another region', 'APPROVAL_BINDING_MISMATCH', elevation({binding: standardBinding({region: 'nl-02'})})],
    ['bound to a project scope', 'APPROVAL_BINDING_MISMATCH', elevation({binding: standardBinding({scope: 'project', project: 'prj-a'})})],
    ['bound to another policy than the configured one', 'APPROVAL_BINDING_MISMATCH', {...elevation({binding: standardBinding({policy: 'iamp-other'})}), iamPolicy: {identity: 'iamp-other'}}],
    ['granting another policy than its binding says', 'APPROVAL_BINDING_MISMATCH', {...elevation(), iamPolicy: {identity: 'iamp-other', slug: 'other'}}],
    ['a binding whose digest does not match', 'APPROVAL_BINDING_MISMATCH', elevation({metadata: tampered()})],
    ['labels that disagree with the annotations', 'APPROVAL_BINDING_MISMATCH', elevation({metadata: {...bindingMetadata(standardBinding()), labels: {...bindingMetadata(standardBinding()).labels, 'kmsguard-key': 'kms-other'}}})],
    ['no kmsguard binding at all', 'APPROVAL_NOT_BOUND', elevation({metadata: {labels: {}, annotations: {}}})],
  ])('%s → %s', async (_name, code, body) => {
    mockPreflight(REQUESTER)
    const get = as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1')
    if (body === null) get.reply(404, {message: 'access elevation request not found'})
    else get.reply(200, body)
    const ctx = ctxFor(REQUESTER, tmp.dir)
    const err = await exportKeyMaterial(ctx, input()).catch((e) => e)
    expect(err).toMatchObject({code, exitCode: 5})
    expect(err.guards.at(-1)).toMatchObject({guard: 'approval', outcome: 'fail'})
    expect(nock.isDone()).toBe(true)
    expect(existsSync(input().out)).toBe(false)
    expect(await readJournal(join(tmp.dir, 'journal.jsonl'))).toEqual([])
    expect(ctx.journal.approval).toBe('iamae-1')
  })

  it('an approval already consumed in the journal → APPROVAL_USED, nothing exported', async () => {
    await consumeApproval(join(tmp.dir, 'journal.jsonl'), 'iamae-1', {endpoint: 'https://x.test', command: 'export', dryRun: false, guards: [], result: {status: 'ok', exitCode: 0}})
    mockPreflight(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input())).rejects.toMatchObject({code: 'APPROVAL_USED', exitCode: 5})
    expect(existsSync(input().out)).toBe(false)
  })

  it('a dry run runs every guard, consumes nothing and sends no export', async () => {
    mockPreflight(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    const outcome = await exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input({dryRun: true, confirm: undefined}))
    expect(outcome.dryRun).toBe(true)
    expect(outcome.result.planned).toEqual([{method: 'POST', path: `/v1/kms/${REGION}/keys/${AES_KEY.identity}/export`, body: {keyVersion: '2'}}])
    expect(outcome.guards.at(-1)).toMatchObject({guard: 'approval', outcome: 'pass'})
    expect(await readJournal(join(tmp.dir, 'journal.jsonl'))).toEqual([])
    expect(existsSync(input().out)).toBe(false)
  })

  it('the configured export policy may name the granted policy by identity while the binding uses its slug', async () => {
    mockPreflight(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    const ctx = ctxFor(REQUESTER, tmp.dir, {settings: {exportPolicy: 'iamp-export'}})
    await expect(exportKeyMaterial(ctx, input({dryRun: true}))).resolves.toMatchObject({dryRun: true})
  })

  it('a wrong --confirm is exit 7: the approval stays unused and nothing is exported', async () => {
    mockPreflight(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input({confirm: 'another-key'}))).rejects.toMatchObject({code: 'NOT_CONFIRMED', exitCode: 7})
    expect(await readJournal(join(tmp.dir, 'journal.jsonl'))).toEqual([])
  })

  it('a key without exportAllowed is exit 3 before the approval is even read', async () => {
    mockPreflight(REQUESTER, {...AES_KEY, exportAllowed: false})
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input())).rejects.toMatchObject({code: 'EXPORT_NOT_ALLOWED', exitCode: 3})
  })
})

describe('export: local checks before any request (exit 2)', () => {
  it('refuses to overwrite an existing file, leaving it untouched', async () => {
    writeFileSync(input().out, 'keep me')
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input())).rejects.toMatchObject({code: 'OUTPUT_EXISTS', exitCode: 2})
    expect(readFileSync(input().out, 'utf8')).toBe('keep me')
  })

  it('refuses a symbolic link, even a dangling one', async () => {
    symlinkSync(join(tmp.dir, 'target-that-does-not-exist'), input().out)
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input())).rejects.toMatchObject({code: 'OUTPUT_EXISTS', exitCode: 2, message: expect.stringContaining('symbolic link')})
    expect(existsSync(join(tmp.dir, 'target-that-does-not-exist'))).toBe(false)
  })

  it.each([['-', 'UNSAFE_OUTPUT'], ['/dev/stdout', 'UNSAFE_OUTPUT'], ['/dev/tty', 'UNSAFE_OUTPUT'], ['/nonexistent-dir-kmsguard/out.key', 'FILE_REFUSED']])('refuses --out %s', async (out, code) => {
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input({out}))).rejects.toMatchObject({code, exitCode: 2})
  })

  it('needs exactly one of --recipient / --plaintext and says that wrapping is the default', async () => {
    const err = await exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input({plaintext: false})).catch((e) => e)
    expect(err).toMatchObject({code: 'RECIPIENT_REQUIRED', exitCode: 2})
    expect(err.hint).toMatch(/wrapped to a recipient/)
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input({recipient: 'r.pem'}))).rejects.toMatchObject({code: 'RECIPIENT_REQUIRED', exitCode: 2})
  })

  it('refuses a recipient file holding a private key', async () => {
    const pem = join(tmp.dir, 'recipient.pem')
    writeFileSync(pem, recipient.privatePem, {mode: 0o600})
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input({plaintext: false, recipient: pem}))).rejects.toMatchObject({code: 'INVALID_RECIPIENT_KEY', exitCode: 2})
  })
})

describe('export --plaintext', () => {
  it('writes exactly the raw material to a new 0600 file', async () => {
    const material = randomBytes(32)
    mockPreflight(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    as(REQUESTER).post(`/v1/kms/${REGION}/keys/${AES_KEY.identity}/export`, {keyVersion: '2'}).reply(200, {keyMaterial: material.toString('base64'), keyVersion: '2'})
    const outcome = await exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input())
    expect(readFileSync(input().out).equals(material)).toBe(true)
    expect(statSync(input().out).mode & 0o777).toBe(0o600)
    expect(outcome.result).toMatchObject({format: 'raw', mode: '0600', bytesWritten: 32})
  })

  it('reserves --out (new, empty, 0600) before the export request, and removes it when the request fails', async () => {
    mockPreflight(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    let seenAtExport: {size: number; mode: number} | undefined
    as(REQUESTER).post(`/v1/kms/${REGION}/keys/${AES_KEY.identity}/export`).reply(500, () => {
      const st = statSync(input().out)
      seenAtExport = {size: st.size, mode: st.mode & 0o777}
      return {message: 'boom'}
    })
    await expect(exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), input())).rejects.toMatchObject({code: 'SERVER_ERROR', exitCode: 6})
    expect(seenAtExport).toEqual({size: 0, mode: 0o600})
    expect(existsSync(input().out)).toBe(false)
    const entries = await readJournal(join(tmp.dir, 'journal.jsonl'))
    expect(entries.map((e) => [e.kind, e.approval])).toEqual([['approval-consumed', 'iamae-1']])
  })

  it('the approver cannot use the approval either (it is not theirs)', async () => {
    mockPreflight(APPROVER)
    as(APPROVER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    await expect(exportKeyMaterial(ctxFor(APPROVER, tmp.dir), input())).rejects.toMatchObject({code: 'APPROVAL_NOT_REQUESTER', exitCode: 5})
  })
})
