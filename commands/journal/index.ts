import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {commandId, fileExists, journalFile, readingJournal, selectEntries, type JournalListResult} from '../../src/operations/journal.js'
import {renderJournal} from '../../src/ui/journal.js'

export default class Journal extends BaseCommand<JournalListResult> {
  static override summary = 'Show the local operator journal (every mutating command, refusal and dry run)'
  static override description = 'Reads the journal file ($KMSGUARD_JOURNAL, else the `journal` setting, else a file under the state directory). ' +
    'Never calls the API. A missing journal is not an error. Check its integrity with `kmsguard journal verify`.'
  static override examples = ['<%= config.bin %> journal', '<%= config.bin %> journal --since 24h --command delete', '<%= config.bin %> journal --since 2026-12-01 --json']
  static override flags = {
    since: Flags.string({description: 'only entries from this far back (24h, 7d) or from this date (YYYY-MM-DD, RFC 3339)'}),
    command: Flags.string({description: 'only entries of this command, e.g. delete or export:request'}),
  }

  protected async execute(): Promise<Outcome<JournalListResult>> {
    const [{parseSince}, {readJournal}] = await Promise.all([import('../../src/operations/audit.js'), import('../../src/journal/store.js')])
    const f = this.flagsOf as {since?: string; command?: string}
    const since = f.since === undefined ? undefined : parseSince(f.since, '--since', new Date())
    const {path, warnings} = await journalFile(() => this.resolved())
    const exists = await fileExists(path)
    const all = exists ? await readingJournal(path, () => readJournal(path)) : []
    const entries = selectEntries(all, {since, command: f.command})
    return {result: {path, exists, total: all.length, filters: {since: since?.toISOString(), command: f.command === undefined ? undefined : commandId(f.command)}, entries}, warnings}
  }

  protected renderHuman({result}: Outcome<JournalListResult>): void {
    this.log(renderJournal(result))
  }
}
