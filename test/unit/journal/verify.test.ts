import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {GENESIS_PREV} from '../../../src/journal/schema.js'
import {lineHash} from '../../../src/journal/chain.js'
import {appendJournal} from '../../../src/journal/store.js'
import {verifyJournal} from '../../../src/journal/verify.js'
import {sampleRecord, scratchDir} from './helpers.js'

/** A five-line journal and its lines (without the trailing empty string). */
const journalOfFive = async (): Promise<{path: string; lines: string[]}> => {
  const path = join(await scratchDir(), 'journal.jsonl')
  for (const command of ['create', 'rotate', 'disable', 'enable', 'delete']) await appendJournal(path, sampleRecord({command}))
  return {path, lines: (await readFile(path, 'utf8')).split('\n').slice(0, -1)}
}

const rewrite = (path: string, lines: string[]): Promise<void> => writeFile(path, lines.map((line) => `${line}\n`).join(''))

const edit = (line: string, change: (entry: Record<string, unknown>) => void): string => {
  const entry = JSON.parse(line) as Record<string, unknown>
  change(entry)
  return JSON.stringify(entry)
}

describe('verifyJournal', () => {
  it('accepts an intact chain and reports the last line hash', async () => {
    const {path, lines} = await journalOfFive()
    expect(await verifyJournal(path)).toEqual({ok: true, lines: 5, lastHash: lineHash(lines[4])})
  })

  it('treats a missing file as an empty journal', async () => {
    expect(await verifyJournal(join(await scratchDir(), 'none.jsonl'))).toEqual({ok: true, lines: 0, lastHash: GENESIS_PREV})
  })

  it('detects an edited line through the next line\'s prev', async () => {
    const {path, lines} = await journalOfFive()
    lines[2] = edit(lines[2], (entry) => { entry.command = 'rotate' })
    await rewrite(path, lines)
    const result = await verifyJournal(path)
    expect(result).toMatchObject({ok: false, lines: 5, line: 4})
    expect(result.ok === false && result.reason).toMatch(/hash of line 3/)
  })

  it('detects an edit that breaks the schema on the edited line itself', async () => {
    const {path, lines} = await journalOfFive()
    lines[1] = edit(lines[1], (entry) => { entry.secret = 'x' })
    await rewrite(path, lines)
    const result = await verifyJournal(path)
    expect(result).toMatchObject({ok: false, line: 2})
    expect(result.ok === false && result.reason).toMatch(/Unrecognized key/)
  })

  it('detects a line that is not JSON', async () => {
    const {path, lines} = await journalOfFive()
    lines[3] = 'garbage'
    await rewrite(path, lines)
    expect(await verifyJournal(path)).toMatchObject({ok: false, line: 4, reason: 'line is not valid JSON'})
  })

  it('detects a deleted middle line by the seq gap', async () => {
    const {path, lines} = await journalOfFive()
    lines.splice(2, 1)
    await rewrite(path, lines)
    const result = await verifyJournal(path)
    expect(result).toMatchObject({ok: false, lines: 4, line: 3})
    expect(result.ok === false && result.reason).toMatch(/expected seq 3 but found 4/)
  })

  it('detects a deleted line even when the later seqs were renumbered', async () => {
    const {path, lines} = await journalOfFive()
    lines.splice(2, 1)
    for (let index = 2; index < lines.length; index++) lines[index] = edit(lines[index], (entry) => { entry.seq = index + 1 })
    await rewrite(path, lines)
    const result = await verifyJournal(path)
    expect(result).toMatchObject({ok: false, line: 3})
    expect(result.ok === false && result.reason).toMatch(/prev does not match the hash of line 2/)
  })

  it('detects a deleted first line', async () => {
    const {path, lines} = await journalOfFive()
    await rewrite(path, lines.slice(1))
    expect(await verifyJournal(path)).toMatchObject({ok: false, line: 1})
  })

  it('detects reordered lines', async () => {
    const {path, lines} = await journalOfFive()
    ;[lines[1], lines[2]] = [lines[2], lines[1]]
    await rewrite(path, lines)
    expect(await verifyJournal(path)).toMatchObject({ok: false, line: 2})
  })

  it('reports a torn (truncated) last line', async () => {
    const {path, lines} = await journalOfFive()
    const content = lines.map((line) => `${line}\n`).join('')
    await writeFile(path, content.slice(0, content.length - 20))
    const result = await verifyJournal(path)
    expect(result).toMatchObject({ok: false, lines: 5, line: 5})
    expect(result.ok === false && result.reason).toMatch(/incomplete/)
  })

  it('reports a last line missing only its newline as torn', async () => {
    const {path, lines} = await journalOfFive()
    await writeFile(path, lines.join('\n'))
    expect(await verifyJournal(path)).toMatchObject({ok: false, line: 5})
  })

  it('detects a tampered prev on the first line', async () => {
    const {path, lines} = await journalOfFive()
    lines[0] = edit(lines[0], (entry) => { entry.prev = 'f'.repeat(64) })
    await rewrite(path, lines)
    const result = await verifyJournal(path)
    expect(result).toMatchObject({ok: false, line: 1})
    expect(result.ok === false && result.reason).toMatch(/genesis/)
  })

  describe('the last-line limitation and expectLastHash', () => {
    it('a chain alone cannot see the last line removed', async () => {
      const {path, lines} = await journalOfFive()
      await rewrite(path, lines.slice(0, 4))
      expect(await verifyJournal(path)).toMatchObject({ok: true, lines: 4})
    })

    it('an anchored hash reveals the removed last line', async () => {
      const {path, lines} = await journalOfFive()
      const anchor = lineHash(lines[4])
      expect(await verifyJournal(path, {expectLastHash: anchor})).toMatchObject({ok: true, lines: 5})
      await rewrite(path, lines.slice(0, 4))
      const result = await verifyJournal(path, {expectLastHash: anchor})
      expect(result).toMatchObject({ok: false, lines: 4, line: 4})
      expect(result.ok === false && result.reason).toMatch(/anchored hash/)
    })

    it('an anchored hash reveals an edited last line', async () => {
      const {path, lines} = await journalOfFive()
      const anchor = lineHash(lines[4])
      lines[4] = edit(lines[4], (entry) => { entry.command = 'enable' })
      await rewrite(path, lines)
      expect(await verifyJournal(path)).toMatchObject({ok: true})
      expect(await verifyJournal(path, {expectLastHash: anchor})).toMatchObject({ok: false, line: 5})
    })

    it('says so when the journal continues past the anchored line', async () => {
      const {path, lines} = await journalOfFive()
      const result = await verifyJournal(path, {expectLastHash: lineHash(lines[2])})
      expect(result).toMatchObject({ok: false, line: 4})
      expect(result.ok === false && result.reason).toMatch(/line 3, but the journal continues/)
    })
  })
})
