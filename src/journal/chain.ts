/**
 * The hash chain's primitives, shared by the writer and the verifier. Each line is one JSON entry followed by
 * "\n"; an entry's `prev` is the SHA-256 (hex) of the previous line's exact bytes without that newline, and
 * the first entry's `prev` is 64 zeros.
 */
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {describeIssues, JournalEntrySchema, type JournalEntry} from './schema.js'

/** The journal file's bytes; a missing file is an empty journal. */
export const readJournalBytes = async (path: string): Promise<Buffer> => {
  try {
    return await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0)
    throw err
  }
}

export const lineHash = (line: Uint8Array | string): string => createHash('sha256').update(line).digest('hex')

/** Splits file content into lines; `torn` is true when the last line has no trailing newline (an interrupted write). */
export const splitLines = (content: Buffer): {lines: Buffer[]; torn: boolean} => {
  const lines: Buffer[] = []
  let start = 0
  for (let nl = content.indexOf(0x0a); nl !== -1; nl = content.indexOf(0x0a, start)) {
    lines.push(content.subarray(start, nl))
    start = nl + 1
  }
  const torn = start < content.length
  if (torn) lines.push(content.subarray(start))
  return {lines, torn}
}

export type ParsedLine = {ok: true; entry: JournalEntry} | {ok: false; reason: string}

export const parseEntryLine = (line: Buffer): ParsedLine => {
  let value: unknown
  try {
    value = JSON.parse(line.toString('utf8'))
  } catch {
    return {ok: false, reason: 'not valid JSON'}
  }
  const parsed = JournalEntrySchema.safeParse(value)
  return parsed.success ? {ok: true, entry: parsed.data} : {ok: false, reason: `not a journal entry (${describeIssues(parsed.error)})`}
}
