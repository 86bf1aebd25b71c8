/**
 * Integrity check of the operator journal. Walking the chain detects an edited line (the next line's `prev`
 * no longer matches, or the line fails the schema), deleted or reordered lines (a `seq` gap or `prev`
 * mismatch), a torn last line (no trailing newline) and a first line whose `prev` is not the genesis value.
 *
 * Limitation: removing the LAST line(s) leaves a valid shorter chain, and editing the last line only shows if
 * it breaks the schema; a chain alone cannot detect either. The journal deliberately stores nothing besides
 * the chain, so callers that keep the last line's hash elsewhere (`lastHash` of an earlier run) pass it as
 * `expectLastHash` to close that gap.
 */
import {lineHash, parseEntryLine, readJournalBytes, splitLines} from './chain.js'
import {GENESIS_PREV} from './schema.js'

export type VerifyResult =
  | {ok: true; lines: number; /** hash of the last line (genesis value for an empty journal), for anchoring */ lastHash: string}
  | {ok: false; lines: number; /** 1-based number of the first broken line */ line: number; reason: string}

const prevMismatch = (line: number): string =>
  line === 1
    ? 'the first line\'s prev is not the genesis value (64 zeros): earlier lines were removed or the line was altered'
    : `prev does not match the hash of line ${line - 1}: line ${line - 1} was edited, or lines were removed or reordered`

const anchorMismatch = (hashes: string[], expected: string): {line: number; reason: string} => {
  const at = hashes.indexOf(expected)
  return at === -1
    ? {line: Math.max(hashes.length, 1), reason: 'the last line does not match the anchored hash: the last line was edited or lines at the end were removed'}
    : {line: at + 2, reason: `the anchored last line is line ${at + 1}, but the journal continues after it`}
}

export const verifyJournal = async (path: string, options: {expectLastHash?: string} = {}): Promise<VerifyResult> => {
  const {lines, torn} = splitLines(await readJournalBytes(path))
  const fail = (line: number, reason: string): VerifyResult => ({ok: false, lines: lines.length, line, reason})
  const hashes: string[] = []
  let prev = GENESIS_PREV
  for (const [index, bytes] of lines.entries()) {
    const line = index + 1
    if (torn && line === lines.length) return fail(line, 'the last line is incomplete (no trailing newline): an interrupted write or a truncated file')
    const parsed = parseEntryLine(bytes)
    if (!parsed.ok) return fail(line, `line is ${parsed.reason}`)
    if (parsed.entry.seq !== line) return fail(line, `expected seq ${line} but found ${parsed.entry.seq}: lines were removed or reordered`)
    if (parsed.entry.prev !== prev) return fail(line, prevMismatch(line))
    prev = lineHash(bytes)
    hashes.push(prev)
  }
  if (options.expectLastHash !== undefined && options.expectLastHash !== prev) {
    const {line, reason} = anchorMismatch(hashes, options.expectLastHash)
    return fail(line, reason)
  }
  return {ok: true, lines: lines.length, lastHash: prev}
}
