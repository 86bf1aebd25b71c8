import {readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ExitCode, KmsGuardError} from '../../../src/cli/errors.js'
import {lineHash} from '../../../src/journal/chain.js'
import {GENESIS_PREV, journalGuards, type JournalRecord} from '../../../src/journal/schema.js'
import {appendJournal, consumeApproval, isApprovalConsumed, readJournal} from '../../../src/journal/store.js'
import {verifyJournal} from '../../../src/journal/verify.js'
import {sampleRecord, scratchDir} from './helpers.js'

const caught = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (err: unknown) => err)

describe('appendJournal', () => {
  it('creates the directory 0700 and the file 0600', async () => {
    const path = join(await scratchDir(), 'nested', 'state', 'journal.jsonl')
    await appendJournal(path, sampleRecord())
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('chains entries: seq counts from 1, prev hashes the previous line bytes', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    const first = await appendJournal(path, sampleRecord())
    const second = await appendJournal(path, sampleRecord({command: 'rotate'}))
    const lines = (await readFile(path, 'utf8')).split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[2]).toBe('')
    expect(first).toMatchObject({v: 1, seq: 1, prev: GENESIS_PREV, command: 'delete'})
    expect(second).toMatchObject({v: 1, seq: 2, prev: lineHash(lines[0]), command: 'rotate'})
    expect(JSON.parse(lines[1])).toEqual(second)
    expect(Date.parse(second.time)).not.toBeNaN()
  })

  it('rejects fields the schema does not name, and writes nothing', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    const leaky = {...sampleRecord(), token: 'abc'} as unknown as JournalRecord
    await expect(appendJournal(path, leaky)).rejects.toThrow(/invalid journal record: \(entry\): Unrecognized key/)
    const nested = sampleRecord({key: {identity: 'kms-1', material: 'x'} as unknown as JournalRecord['key']})
    await expect(appendJournal(path, nested)).rejects.toThrow(/key: Unrecognized key/)
    expect(await readJournal(path)).toEqual([])
  })

  it('refuses secret material and leaves the journal unchanged', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await appendJournal(path, sampleRecord())
    await expect(appendJournal(path, sampleRecord({details: {pat: 'tc_pat_demo_operator'}}))).rejects.toThrow(/secret material/)
    expect(await readJournal(path)).toHaveLength(1)
    expect(await verifyJournal(path)).toMatchObject({ok: true, lines: 1})
  })

  it('refuses to append after a torn last line', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await appendJournal(path, sampleRecord())
    await writeFile(path, '{"v":1,"seq":2', {flag: 'a'})
    const err = await caught(appendJournal(path, sampleRecord()))
    expect(err).toBeInstanceOf(KmsGuardError)
    expect(err).toMatchObject({code: 'JOURNAL_CORRUPT', exitCode: ExitCode.USAGE})
  })

  it('reads a last line longer than one tail chunk', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    const long = 'reason with words '.repeat(5000)
    await appendJournal(path, sampleRecord({overrides: [{flag: '--force', reason: long}]}))
    const next = await appendJournal(path, sampleRecord())
    expect(next.seq).toBe(2)
    expect(await verifyJournal(path)).toMatchObject({ok: true, lines: 2})
  })

  it('journalGuards keeps name, outcome and message only', () => {
    expect(journalGuards([{guard: 'references', outcome: 'fail', message: 'm', details: {references: [1]}}]))
      .toEqual([{guard: 'references', outcome: 'fail', message: 'm'}])
  })
})

describe('readJournal', () => {
  it('returns [] for a missing file', async () => {
    expect(await readJournal(join(await scratchDir(), 'none.jsonl'))).toEqual([])
  })

  it('filters by since', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    const first = await appendJournal(path, sampleRecord())
    const second = await appendJournal(path, sampleRecord({command: 'rotate'}))
    const all = await readJournal(path)
    expect(all.map((entry) => entry.seq)).toEqual([1, 2])
    expect(await readJournal(path, {since: new Date(Date.parse(second.time) + 1)})).toEqual([])
    expect((await readJournal(path, {since: new Date(first.time)})).length).toBe(2)
  })

  it('names the broken line of a damaged file', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await appendJournal(path, sampleRecord())
    await writeFile(path, 'not json\n', {flag: 'a'})
    await expect(readJournal(path)).rejects.toThrow(/line 2 is not valid JSON/)
  })
})

describe('approvals', () => {
  const record = sampleRecord({command: 'export', confirmation: 'typed'})

  it('consumes an approval once; the second use is refused with exit 5', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    expect(await isApprovalConsumed(path, 'elev-1')).toBe(false)
    await consumeApproval(path, 'elev-1', record)
    expect(await isApprovalConsumed(path, 'elev-1')).toBe(true)
    expect(await isApprovalConsumed(path, 'elev-2')).toBe(false)
    const err = await caught(consumeApproval(path, 'elev-1', record))
    expect(err).toBeInstanceOf(KmsGuardError)
    expect(err).toMatchObject({code: 'APPROVAL_USED', exitCode: ExitCode.EXPORT_REFUSED})
    const entries = await readJournal(path)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({kind: 'approval-consumed', approval: 'elev-1', command: 'export'})
    await consumeApproval(path, 'elev-2', record)
    expect(await readJournal(path)).toHaveLength(2)
  })

  it('an operation entry that merely mentions the approval does not consume it', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await appendJournal(path, sampleRecord({command: 'export:request', approval: 'elev-3'}))
    expect(await isApprovalConsumed(path, 'elev-3')).toBe(false)
    await consumeApproval(path, 'elev-3', record)
    expect(await isApprovalConsumed(path, 'elev-3')).toBe(true)
  })

  it('racing consumers of one approval: exactly one wins', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    const results = await Promise.allSettled(Array.from({length: 8}, () => consumeApproval(path, 'elev-race', record)))
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    for (const result of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(result.reason).toMatchObject({code: 'APPROVAL_USED', exitCode: 5})
    }
    expect(await verifyJournal(path)).toMatchObject({ok: true, lines: 1})
  })
})
