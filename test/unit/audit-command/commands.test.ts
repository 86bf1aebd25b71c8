import {appendFile, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import Audit from '../../../commands/audit.js'
import Journal from '../../../commands/journal/index.js'
import JournalVerify from '../../../commands/journal/verify.js'
import {lineHash} from '../../../src/journal/chain.js'
import {appendJournal} from '../../../src/journal/store.js'
import {sampleRecord} from '../journal/helpers.js'
import {item, scratchFile} from './fixtures.js'

/**
 * The commands run in-process through oclif, offline: audit with --file, the journal commands on a scratch
 * journal. The environment is isolated (no tcloud config, no credentials, a scratch settings directory).
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const ENV_KEYS = ['KMSGUARD_JOURNAL', 'KMSGUARD_CONFIG_DIR', 'KMSGUARD_REGION', 'THALASSA_CONFIG', 'THALASSACONFIG', 'THALASSA_ACCESS_TOKEN',
  'THALASSA_PERSONAL_ACCESS_TOKEN', 'THALASSA_API_TOKEN', 'THALASSA_CLIENT_ID', 'THALASSA_CLIENT_SECRET', 'CI']
let saved: Record<string, string | undefined> = {}
let dir = ''
let journal = ''

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmsguard-cmd-'))
  journal = join(dir, 'state', 'journal.jsonl')
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]))
  for (const k of ENV_KEYS) delete process.env[k]
  Object.assign(process.env, {KMSGUARD_CONFIG_DIR: join(dir, 'config'), THALASSA_CONFIG: join(dir, 'no-tcloud.yaml'), KMSGUARD_JOURNAL: journal, CI: '1'})
  process.exitCode = undefined
})

afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  process.exitCode = undefined
  vi.restoreAllMocks()
  await rm(dir, {recursive: true, force: true})
})

interface Runnable {
  run(argv: string[], opts: string): Promise<unknown>
}

/** Runs a command class in-process; returns what it wrote, the parsed --json document, and the exit code it set. */
async function run(command: Runnable, argv: string[]) {
  let stdout = ''
  let stderr = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  })
  try {
    await command.run(argv, ROOT).catch(() => undefined)
  } finally {
    vi.restoreAllMocks()
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return {stdout, stderr, code, json: argv.includes('--json') ? JSON.parse(stdout) : undefined}
}

const exportFile = () => scratchFile('audit.json', JSON.stringify([
  item({action: 'kms.decrypt', ago: 1, user: 'mallory', status: 403}),
  item({action: 'kms.export', ago: 2, user: 'eve', context: {keyVersion: '4'}}),
]))

describe('audit command', () => {
  it('needs attention: exit 8, status ok, the whole report and a warning naming the reasons', async () => {
    const {json, code} = await run(Audit, ['--file', await exportFile(), '--json'])
    expect(code).toBe(8)
    expect(json).toMatchObject({status: 'ok', dryRun: false, guards: []})
    expect(json.result).toMatchObject({source: 'file', needsAttention: true, exports: [{principalLabel: 'eve@example.com', keyVersion: '4'}], failedCrypto: [{principalLabel: 'mallory@example.com'}]})
    expect(json.warnings).toEqual([expect.stringMatching(/^AUDIT_ATTENTION \(exit 8\): 2 findings need attention: key export: kms-a version 4 by eve@example\.com .*; failed crypto by mallory@example\.com: 1 call$/)])
  })

  it('human output: the report in full with exports first, then exit 8', async () => {
    const {stdout, stderr, code} = await run(Audit, ['--file', await exportFile()])
    expect(code).toBe(8)
    const order = ['KEY EXPORTS: 1 key export', 'FAILED CRYPTO: 1 failed crypto call', 'UNUSUAL DECRYPT VOLUME: no unusual decrypt volume', 'ROTATION: rotation not checked', 'Needs attention (exit 8):']
    const positions = order.map((text) => stdout.indexOf(text))
    expect(positions.every((p) => p >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(stdout).toMatch(/eve@example\.com\s+kms-a\s+4\s+200/)
    expect(stderr).not.toMatch(/AUDIT_ATTENTION/) // the human report ends with its own list; the warning is for --json
  })

  it('a quiet review exits 0', async () => {
    const path = await scratchFile('audit.json', JSON.stringify([item({action: 'kms.encrypt', ago: 1})]))
    const {stdout, code} = await run(Audit, ['--file', path])
    expect(code).toBe(0)
    expect(stdout).toMatch(/Nothing needs attention\.\n$/)
  })

  it('bad window flags are exit 2 before anything is read', async () => {
    const path = await exportFile()
    const bad = await run(Audit, ['--file', path, '--from', '2026-02-30', '--json'])
    expect(bad.code).toBe(2)
    expect(bad.json).toMatchObject({status: 'error', error: {code: 'USAGE', exitCode: 2, message: '--from "2026-02-30" is not a date (YYYY-MM-DD) or an RFC 3339 time (e.g. 2026-12-01T08:00:00Z)'}})
    expect((await run(Audit, ['--file', path, '--since', '7d', '--from', '2026-11-01', '--json'])).code).toBe(2)
    expect((await run(Audit, ['--file', path, '--to', '2026-11-01', '--json'])).code).toBe(2)
  })
})

describe('journal command', () => {
  it('a missing journal is "no journal yet", exit 0', async () => {
    const {stdout, code} = await run(Journal, [])
    expect(code).toBe(0)
    expect(stdout).toBe(`no journal yet at ${journal}\n`)
  })

  it('lists entries as a table and filters by command', async () => {
    await appendJournal(journal, sampleRecord({command: 'delete'}))
    await appendJournal(journal, sampleRecord({command: 'export:request', key: {slug: 'payments'}, guards: [], result: {status: 'ok', exitCode: 0}}))
    const all = await run(Journal, [])
    expect(all.code).toBe(0)
    expect(all.stdout).toMatch(/^TIME\s+OPERATOR\s+COMMAND\s+KEY\s+RESULT\s+GUARDS\s+APPROVAL\s+OVERRIDES\n/)
    expect(all.stdout).toMatch(/ops@example\.com\s+delete\s+billing-db\s+ok\s+1 pass/)
    expect(all.stdout).toContain(`2 entries in ${journal}`)
    const some = await run(Journal, ['--command', 'export request', '--json'])
    expect(some.json.result).toMatchObject({path: journal, exists: true, total: 2, filters: {command: 'export:request'}})
    expect(some.json.result.entries.map((e: {command: string}) => e.command)).toEqual(['export:request'])
  })
})

describe('journal verify command', () => {
  it('an intact journal: exit 0 with the line count and the last hash to anchor', async () => {
    await appendJournal(journal, sampleRecord())
    await appendJournal(journal, sampleRecord({command: 'rotate'}))
    const last = (await readFile(journal, 'utf8')).split('\n')[1]
    const {stdout, code} = await run(JournalVerify, [])
    expect(code).toBe(0)
    expect(stdout).toContain(`Journal ${journal} is intact: 2 lines, hash chain unbroken.`)
    expect(stdout).toContain(`Last hash: ${lineHash(last)}`)
    const anchored = await run(JournalVerify, ['--expect-last-hash', lineHash(last).toUpperCase(), '--json'])
    expect(anchored.code).toBe(0)
    expect(anchored.json.result).toEqual({path: journal, exists: true, intact: true, lines: 2, lastHash: lineHash(last)})
  })

  it('an edited line: exit 3, JOURNAL_TAMPERED naming the first broken line and why', async () => {
    for (const command of ['create', 'rotate', 'disable']) await appendJournal(journal, sampleRecord({command}))
    const lines = (await readFile(journal, 'utf8')).split('\n')
    lines[0] = lines[0].replace('"create"', '"enable"')
    await writeFile(journal, lines.join('\n'))
    const {json, code} = await run(JournalVerify, ['--json'])
    expect(code).toBe(3)
    expect(json).toMatchObject({status: 'error', error: {code: 'JOURNAL_TAMPERED', exitCode: 3, details: {path: journal, line: 2, lines: 3}}})
    expect(json.error.message).toBe(`journal ${journal} is broken at line 2: prev does not match the hash of line 1: line 1 was edited, or lines were removed or reordered`)
  })

  it('a journal that moved past the anchor, or vanished, is exit 3; a malformed hash is exit 2', async () => {
    const first = await appendJournal(journal, sampleRecord())
    const anchor = lineHash((await readFile(journal, 'utf8')).split('\n')[0])
    expect(first.seq).toBe(1)
    await appendJournal(journal, sampleRecord({command: 'rotate'}))
    const moved = await run(JournalVerify, ['--expect-last-hash', anchor, '--json'])
    expect(moved).toMatchObject({code: 3, json: {error: {code: 'JOURNAL_TAMPERED', details: {line: 2}}}})
    expect(moved.json.error.message).toMatch(/the anchored last line is line 1, but the journal continues after it/)

    await rm(journal)
    const gone = await run(JournalVerify, ['--expect-last-hash', anchor, '--json'])
    expect(gone).toMatchObject({code: 3, json: {error: {code: 'JOURNAL_TAMPERED', message: `journal ${journal} is missing although an anchored last hash was given: it was deleted or moved`}}})
    expect((await run(JournalVerify, ['--expect-last-hash', 'abc', '--json'])).code).toBe(2)
  })

  it('a torn last line is reported as such; a missing journal without an anchor is exit 0', async () => {
    const none = await run(JournalVerify, [])
    expect(none).toMatchObject({code: 0, stdout: `no journal yet at ${journal} (nothing to verify)\n`})
    await appendJournal(journal, sampleRecord())
    await appendFile(journal, '{"v":1,"seq":2')
    const torn = await run(JournalVerify, ['--json'])
    expect(torn).toMatchObject({code: 3, json: {error: {details: {line: 2}}}})
    expect(torn.json.error.message).toMatch(/line 2: the last line is incomplete/)
  })
})
