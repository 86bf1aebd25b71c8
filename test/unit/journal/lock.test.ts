import {spawn} from 'node:child_process'
import {access, readFile, unlink, utimes, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {describe, expect, it} from 'vitest'
import {withFileLock} from '../../../src/journal/lock.js'
import {appendJournal, readJournal} from '../../../src/journal/store.js'
import {sampleRecord, scratchDir} from './helpers.js'

const lockContent = (pid: number, time = Date.now()): string => JSON.stringify({pid, time, token: 'held-by-test'})

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false)

/** The pid of a process that has already exited. */
const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', '0'], {stdio: 'ignore'})
  await new Promise((resolve) => child.on('exit', resolve))
  return child.pid as number
}

describe('journal lock', () => {
  it('a second append waits for a held lock and succeeds after release', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await writeFile(`${path}.lock`, lockContent(process.pid))
    let settled = false
    const pending = appendJournal(path, sampleRecord()).finally(() => { settled = true })
    await sleep(300)
    expect(settled).toBe(false)
    expect(await readJournal(path)).toEqual([])
    await unlink(`${path}.lock`)
    expect((await pending).seq).toBe(1)
    expect(await exists(`${path}.lock`)).toBe(false)
  })

  it('breaks a stale lock whose pid is dead', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await writeFile(`${path}.lock`, lockContent(await deadPid()))
    expect((await appendJournal(path, sampleRecord())).seq).toBe(1)
    expect(await exists(`${path}.lock`)).toBe(false)
  })

  it('breaks a lock older than the stale limit even if its pid lives', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await writeFile(`${path}.lock`, lockContent(process.pid, Date.now() - 60_000))
    expect((await appendJournal(path, sampleRecord())).seq).toBe(1)
  })

  it('ages an unreadable lock by its modification time', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await writeFile(`${path}.lock`, '')
    const old = new Date(Date.now() - 60_000)
    await utimes(`${path}.lock`, old, old)
    expect((await appendJournal(path, sampleRecord())).seq).toBe(1)
  })

  it('gives up with JOURNAL_LOCKED when a live, fresh lock is never released, leaving it alone', async () => {
    const file = join(await scratchDir(), 'journal.jsonl')
    const held = lockContent(process.pid)
    await writeFile(`${file}.lock`, held)
    let ran = false
    await expect(withFileLock(file, async () => { ran = true }, {timeoutMs: 200})).rejects.toMatchObject({code: 'JOURNAL_LOCKED', exitCode: 1})
    expect(ran).toBe(false)
    expect(await readFile(`${file}.lock`, 'utf8')).toBe(held)
  })

  it('releases the lock when the critical section throws', async () => {
    const file = join(await scratchDir(), 'journal.jsonl')
    await expect(withFileLock(file, async () => { throw new Error('boom') })).rejects.toThrow('boom')
    expect(await exists(`${file}.lock`)).toBe(false)
  })

  it('does not remove a lock that another process took over meanwhile', async () => {
    const file = join(await scratchDir(), 'journal.jsonl')
    const theirs = lockContent(process.pid)
    await withFileLock(file, async () => {
      await writeFile(`${file}.lock`, theirs)
    })
    expect(await readFile(`${file}.lock`, 'utf8')).toBe(theirs)
  })
})
