/**
 * End-to-end: the audit review (API and offline --file, as operator and as a read-only auditor) against the demo
 * seed's week of history, and the operator journal: one hash-chained line per mutating command — refusals and
 * dry runs included, read-only commands never — that `journal verify` accepts and that shows any edit.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {startE2E, type E2E} from './harness.js'

let e: E2E
beforeAll(async () => {
  e = await startE2E()
})
afterAll(async () => e?.close())

const R = ['-r', 'nl-01']

interface Finding {
  exports: Array<{keySlug?: string; principal: string; status?: number}>
  failedCrypto: Array<{principal: string; total: number}>
  decryptAnomalies: Array<{key: string; principal: string}>
}

/** The seeded history's findings: two exports of escrow-key (one failed), a stranger's failed decrypts, a decrypt burst. */
function expectSeededFindings(result: Finding & {needsAttention: boolean}): void {
  expect(result.needsAttention).toBe(true)
  expect(result.exports).toEqual(expect.arrayContaining([
    expect.objectContaining({keySlug: 'escrow-key', principal: DEMO.users.operator.subject, status: 200}),
    expect.objectContaining({keySlug: 'escrow-key', principal: DEMO.client.subject, status: 404}),
  ]))
  expect(result.failedCrypto).toContainEqual(expect.objectContaining({principal: DEMO.unknownPrincipal, total: 3}))
  expect(result.decryptAnomalies).toContainEqual(expect.objectContaining({key: DEMO.keys.appSecrets.identity, principal: DEMO.client.subject}))
}

describe('audit', () => {
  it.each([['operator', DEMO.tokens.operator, DEMO.users.operator.subject], ['auditor', DEMO.tokens.auditor, DEMO.users.auditor.subject]])(
    'audit --since 7d --json as the %s: exit 8, findings in a status-ok envelope, read from GET /v1/audit',
    async (_who, token, subject) => {
      const from = e.emu.requests.length
      const r = await e.run(['audit', '--since', '7d', '--json'], {token})
      expect(r.code, r.stderr).toBe(8)
      expect(r.json).toMatchObject({status: 'ok', command: 'audit'})
      expect(r.json.warnings.join(' ')).toMatch(/AUDIT_ATTENTION/)
      expectSeededFindings(r.json.result)
      const reads = e.emu.requests.slice(from).filter((q) => q.path === '/v1/audit')
      expect(reads.length).toBeGreaterThan(0)
      expect(reads.every((q) => q.user === subject && q.status === 200)).toBe(true)
      expect(e.emu.requests.slice(from).filter((q) => q.method !== 'GET')).toEqual([])
    },
  )

  it('--file reviews both tcloud export shapes offline: no credentials, no request, same findings', async () => {
    const res = await fetch(`${e.emu.url}/v1/audit?resourceType=kms_key&limit=1000`, {headers: {Authorization: `Token ${DEMO.tokens.auditor}`, 'X-Organisation-Identity': DEMO.org.slug}})
    expect(res.status).toBe(200)
    const {items} = (await res.json()) as {items: Array<{createdAt: string}>}
    expect(items.length).toBeGreaterThan(100)
    const bare = join(e.home, 'audit-bare.json')
    const wrapped = join(e.home, 'audit-wrapped.json')
    writeFileSync(bare, JSON.stringify(items))
    const times = items.map((i) => i.createdAt).sort()
    writeFileSync(wrapped, JSON.stringify({exportedAt: new Date().toISOString(), timeRange: {from: times[0], to: times.at(-1)}, totalLogs: items.length, logs: items}))

    for (const file of [bare, wrapped]) {
      const from = e.emu.requests.length
      const r = await e.run(['audit', '--file', file, '--since', '7d', '--json'], {as: 'none'})
      expect(r.code, `${file}: ${r.stdout.slice(0, 500)}`).toBe(8)
      expect(r.json.result.source).toBe('file')
      expect(r.json.result.file.events).toBe(items.length)
      expectSeededFindings(r.json.result)
      expect(e.emu.requests.slice(from)).toEqual([])
    }
  })
})

describe('operator journal', () => {
  const linesOf = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l))

  it('one line per mutating command, refusals and dry runs included, none for reads; verify passes; no token or material inside', async () => {
    const journal = join(e.home, 'sequence.jsonl')
    const run = (args: string[], as: 'operator' | 'approver' = 'operator') => e.run([...args, '--json'], {as, env: {KMSGUARD_JOURNAL: journal}})
    const out = join(e.home, 'journal-export.bin')
    const steps: Array<{args: string[]; as?: 'approver'; code: number; command?: string}> = [
      {args: ['create', ...R, '--name', 'jr-key', '--type', 'aes256-gcm96', '--label', 'purpose=journal', '--allow-export', '--yes'], code: 2, command: 'create'},
      {args: ['create', ...R, '--name', 'jr-key', '--type', 'aes256-gcm96', '--label', 'purpose=journal', '--yes'], code: 0, command: 'create'},
      {args: ['create', ...R, '--name', 'jr-key', '--type', 'aes256-gcm96', '--label', 'purpose=journal', '--yes'], code: 6, command: 'create'},
      {args: ['get', 'jr-key', ...R], code: 0},
      {args: ['rotate', 'jr-key', ...R, '--yes'], code: 0, command: 'rotate'},
      {args: ['disable', 'jr-key', ...R, '--reason', 'drill'], code: 7, command: 'disable'},
      {args: ['disable', 'jr-key', ...R, '--reason', 'drill', '--confirm', 'jr-key'], code: 0, command: 'disable'},
      {args: ['delete', 'jr-key', ...R, '--dry-run'], code: 0, command: 'delete'},
      {args: ['delete', 'app-secrets', ...R, '--confirm', 'app-secrets'], code: 3, command: 'delete'},
      {args: ['list', ...R], code: 0},
      {args: ['export:request', 'escrow-key', ...R, '--policy', 'kms-export', '--reason', 'journal drill', '--yes'], code: 0, command: 'export:request'},
      {args: ['approve', '{id}', '--yes'], as: 'approver', code: 0, command: 'approve'},
      {args: ['export', 'escrow-key', ...R, '--approval', '{id}', '--plaintext', '--out', out, '--confirm', 'escrow-key'], code: 0, command: 'export'},
      {args: ['export', 'escrow-key', ...R, '--approval', '{id}', '--plaintext', '--out', `${out}.again`, '--confirm', 'escrow-key'], code: 5, command: 'export'},
    ]
    let id = ''
    const outputs: string[] = []
    for (const step of steps) {
      const r = await run(step.args.map((a) => a.replace('{id}', id)), step.as)
      outputs.push(r.stdout, r.stderr)
      expect(r.code, `${step.args.join(' ')}: ${r.stdout.slice(0, 400)}`).toBe(step.code)
      if (step.args[0] === 'export:request') id = r.json.result.elevation.identity
    }

    const lines = linesOf(journal)
    const operations = lines.filter((l) => l.kind === 'operation')
    const expected = steps.filter((s) => s.command !== undefined)
    expect(operations.map((l) => l.command)).toEqual(expected.map((s) => s.command))
    expect(operations.map((l) => l.result.exitCode)).toEqual(expected.map((s) => s.code))
    expect(operations.map((l) => l.dryRun)).toEqual(expected.map((s) => s.args.includes('--dry-run')))
    expect(operations[0]).toMatchObject({result: {status: 'error', code: 'POLICY_FLAGS'}})
    expect(operations[4]).toMatchObject({result: {status: 'error', code: 'NOT_CONFIRMED'}})
    expect(operations.at(-1)).toMatchObject({approval: id, result: {code: 'APPROVAL_USED'}})
    // The approval is recorded as used before the export request, once.
    const consumed = lines.filter((l) => l.kind === 'approval-consumed')
    expect(consumed).toEqual([expect.objectContaining({approval: id, command: 'export'})])
    expect(lines.indexOf(consumed[0])).toBeLessThan(lines.indexOf(operations.at(-2)))
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_l, i) => i + 1))

    const verify = await run(['journal', 'verify'])
    expect(verify.code).toBe(0)
    expect(verify.json.result).toMatchObject({intact: true, lines: lines.length})

    const text = readFileSync(journal, 'utf8')
    for (const token of Object.values(DEMO.tokens)) expect(text + outputs.join('')).not.toContain(token)
    const material = readFileSync(out)
    const version = e.emu.state.keys.find((k) => k.identity === DEMO.keys.escrowKey.identity)?.versions.at(-1)?.material
    expect(version && material.equals(version)).toBe(true)
    for (const secret of [material.toString('hex'), material.toString('base64'), material.toString('base64url')]) {
      expect(text).not.toContain(secret)
      expect(outputs.join('')).not.toContain(secret)
    }
  })

  it('an edited line: journal verify is exit 3 (JOURNAL_TAMPERED) naming the line', async () => {
    const journal = join(e.home, 'tamper.jsonl')
    const run = (args: string[]) => e.run(args, {env: {KMSGUARD_JOURNAL: journal}})
    for (const name of ['tamper-a', 'tamper-b', 'tamper-c']) {
      expect((await run(['create', ...R, '--name', name, '--type', 'aes256-gcm96', '--label', 'purpose=journal', '--dry-run'])).code).toBe(0)
    }
    expect((await run(['journal', 'verify', '--json'])).json.result).toMatchObject({intact: true, lines: 3})

    const lines = readFileSync(journal, 'utf8').split('\n')
    const second = JSON.parse(lines[1])
    expect(second.dryRun).toBe(true)
    lines[1] = JSON.stringify({...second, dryRun: false})
    writeFileSync(journal, lines.join('\n'))

    const r = await run(['journal', 'verify', '--json'])
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('JOURNAL_TAMPERED')
    expect(r.json.error.message).toMatch(/line 2\b/)
    const human = await run(['journal', 'verify'])
    expect(human.code).toBe(3)
    expect(human.stderr).toMatch(/line 2 was edited/)
  })
})
