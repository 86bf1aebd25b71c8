import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {ExitCode, KmsGuardError, usageError} from '../../src/cli/errors.js'
import {fileExists, journalFile, readingJournal} from '../../src/operations/journal.js'

export interface JournalVerifyResult {
  path: string
  exists: boolean
  intact: true
  lines: number
  /** SHA-256 of the last line (64 zeros for an empty journal): keep it elsewhere and pass it as --expect-last-hash later. */
  lastHash: string
}

const HASH = /^[0-9a-f]{64}$/

export default class JournalVerify extends BaseCommand<JournalVerifyResult> {
  static override summary = "Check the operator journal's hash chain"
  static override description = [
    'Walks the hash chain of the journal and reports the first broken line: an edited, removed, reordered or torn line. Never calls the API.',
    'A chain cannot show that its last lines were removed: anchor the printed last hash somewhere else and pass it back with --expect-last-hash.',
    'Exit codes: 0 intact (prints the number of lines and the last hash); 3 (JOURNAL_TAMPERED) the chain is broken or does not end at the anchored hash — ' +
      'the message names the first broken line and why; 2 bad --expect-last-hash or an unreadable journal file.',
  ].join('\n\n')
  static override examples = ['<%= config.bin %> journal verify', '<%= config.bin %> journal verify --expect-last-hash 3f1c…e9 --json']
  static override flags = {
    'expect-last-hash': Flags.string({description: 'the last hash of an earlier verify (64 hex digits): the journal must still end with that line'}),
  }

  protected async execute(): Promise<Outcome<JournalVerifyResult>> {
    const {verifyJournal} = await import('../../src/journal/verify.js')
    const expected = this.flagsOf['expect-last-hash'] as string | undefined
    const expectLastHash = expected?.trim().toLowerCase()
    if (expectLastHash !== undefined && !HASH.test(expectLastHash)) throw usageError('--expect-last-hash must be 64 hexadecimal digits (the lastHash of an earlier `kmsguard journal verify`)')
    const {path, warnings} = await journalFile(() => this.resolved())
    const exists = await fileExists(path)
    if (!exists && expectLastHash !== undefined) throw tampered(path, `journal ${path} is missing although an anchored last hash was given: it was deleted or moved`, {lines: 0})
    const verdict = await readingJournal(path, () => verifyJournal(path, {expectLastHash}))
    if (!verdict.ok) throw tampered(path, `journal ${path} is broken at line ${verdict.line}: ${verdict.reason}`, {line: verdict.line, lines: verdict.lines, reason: verdict.reason})
    return {result: {path, exists, intact: true, lines: verdict.lines, lastHash: verdict.lastHash}, warnings}
  }

  protected renderHuman({result}: Outcome<JournalVerifyResult>): void {
    if (!result.exists) {
      this.log(`no journal yet at ${result.path} (nothing to verify)`)
      return
    }
    this.log(`Journal ${result.path} is intact: ${result.lines} line${result.lines === 1 ? '' : 's'}, hash chain unbroken.`)
    this.log(`Last hash: ${result.lastHash}`)
    this.log(`Keep it elsewhere and check later with: kmsguard journal verify --expect-last-hash ${result.lastHash}`)
  }
}

const tampered = (path: string, message: string, details: Record<string, unknown>) =>
  new KmsGuardError('JOURNAL_TAMPERED', ExitCode.GUARD_REFUSED, message, {
    details: {path, ...details},
    hint: 'Do not append to it: keep the file as evidence, compare it with a backup, and start a new journal (move this one aside).',
  })
