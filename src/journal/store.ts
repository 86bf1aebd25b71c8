/**
 * Writing and reading the operator journal: an append-only JSON-lines file, one hash-chained entry per mutating
 * command or refusal (see chain.ts). Appends happen under the journal lock, read only the file's last line, and
 * write the whole line with one write call followed by fsync, so a line is either fully there or torn (which
 * `verifyJournal` reports). Consuming an export approval is an append under the same lock, after checking that
 * no earlier entry consumed it.
 */
import {mkdir, open, type FileHandle} from 'node:fs/promises'
import {dirname} from 'node:path'
import {ExitCode, KmsGuardError} from '../cli/errors.js'
import {lineHash, parseEntryLine, readJournalBytes, splitLines} from './chain.js'
import {withFileLock} from './lock.js'
import {describeIssues, GENESIS_PREV, JournalEntrySchema, type JournalEntry, type JournalRecord} from './schema.js'
import {assertNoSecretMaterial} from './secrets.js'

const TAIL_CHUNK = 64 * 1024

const corrupt = (path: string, message: string): KmsGuardError =>
  new KmsGuardError('JOURNAL_CORRUPT', ExitCode.USAGE, `journal ${path}: ${message}`, {
    hint: 'run `kmsguard journal verify` to see what is wrong; to start a fresh journal, move this file aside',
  })

/** The bytes of the file's last line (without its newline), or undefined for an empty file. */
const readLastLine = async (handle: FileHandle, path: string): Promise<Buffer | undefined> => {
  const {size} = await handle.stat()
  if (size === 0) return undefined
  let tail = Buffer.alloc(0)
  for (let position = size; position > 0;) {
    const length = Math.min(TAIL_CHUNK, position)
    position -= length
    const chunk = Buffer.alloc(length)
    await handle.read(chunk, 0, length, position)
    tail = Buffer.concat([chunk, tail])
    if (tail[tail.length - 1] !== 0x0a) throw corrupt(path, 'the last line is incomplete (an interrupted write)')
    const start = tail.length >= 2 ? tail.lastIndexOf(0x0a, tail.length - 2) : -1
    if (start !== -1) return tail.subarray(start + 1, tail.length - 1)
  }
  return tail.subarray(0, tail.length - 1)
}

const buildEntry = (record: JournalRecord, last: Buffer | undefined, path: string): JournalEntry => {
  let seq = 1
  if (last !== undefined) {
    const parsed = parseEntryLine(last)
    if (!parsed.ok) throw corrupt(path, `the last line is ${parsed.reason}`)
    seq = parsed.entry.seq + 1
  }
  const candidate = {v: 1, seq, time: new Date().toISOString(), prev: last === undefined ? GENESIS_PREV : lineHash(last), ...record}
  const parsed = JournalEntrySchema.safeParse(candidate)
  // A record that does not fit the schema is a programming error, not user input.
  if (!parsed.success) throw new Error(`invalid journal record: ${describeIssues(parsed.error)}`)
  return parsed.data
}

/** The locked critical section behind every append: optional precondition, then one chained line. */
const appendLocked = async (path: string, record: JournalRecord, precondition?: () => Promise<void>): Promise<JournalEntry> => {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  return withFileLock(path, async () => {
    await precondition?.()
    const handle = await open(path, 'a+', 0o600)
    try {
      const entry = buildEntry(record, await readLastLine(handle, path), path)
      assertNoSecretMaterial(entry)
      const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8')
      const {bytesWritten} = await handle.write(line)
      if (bytesWritten !== line.length) throw new Error(`short write to journal ${path} (${bytesWritten} of ${line.length} bytes)`)
      await handle.sync()
      return entry
    } finally {
      await handle.close()
    }
  })
}

/** Appends one entry for a mutating command or a refusal and returns it as written. */
export const appendJournal = (path: string, record: JournalRecord): Promise<JournalEntry> => appendLocked(path, record)

/** All entries (optionally those at or after `since`); a missing file is an empty journal, a damaged one an error. */
export const readJournal = async (path: string, options: {since?: Date} = {}): Promise<JournalEntry[]> => {
  const {lines, torn} = splitLines(await readJournalBytes(path))
  if (torn) throw corrupt(path, `line ${lines.length} is incomplete (an interrupted write)`)
  const entries = lines.map((line, index) => {
    const parsed = parseEntryLine(line)
    if (!parsed.ok) throw corrupt(path, `line ${index + 1} is ${parsed.reason}`)
    return parsed.entry
  })
  const since = options.since?.getTime()
  return since === undefined ? entries : entries.filter((entry) => Date.parse(entry.time) >= since)
}

const consumed = (entries: JournalEntry[], approvalId: string): boolean =>
  entries.some((entry) => entry.kind === 'approval-consumed' && entry.approval === approvalId)

/**
 * Advisory check whether an export approval was already used. The binding check is `consumeApproval`, which
 * repeats it under the journal lock.
 */
export const isApprovalConsumed = async (path: string, approvalId: string): Promise<boolean> => consumed(await readJournal(path), approvalId)

/**
 * Marks an export approval (an access-elevation identity) as used, once: throws APPROVAL_USED (exit 5) when the
 * journal already records its consumption. The check and the append share one lock, so two exports racing on
 * the same approval cannot both succeed.
 */
export const consumeApproval = async (path: string, approvalId: string, record: Omit<JournalRecord, 'kind' | 'approval'>): Promise<void> => {
  await appendLocked(path, {...record, kind: 'approval-consumed', approval: approvalId}, async () => {
    if (consumed(await readJournal(path), approvalId)) {
      throw new KmsGuardError('APPROVAL_USED', ExitCode.EXPORT_REFUSED, `approval ${approvalId} was already used for an export`, {
        hint: 'each approval allows one export; request a new one with `kmsguard export:request`',
      })
    }
  })
}
