import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {isKmsGuardError, usageError} from '../../src/cli/errors.js'
import type {ResolvedConfig} from '../../src/config/resolve.js'
import type {JournalEntry} from '../../src/journal/schema.js'
import {table} from '../../src/ui/table.js'

export interface JournalListResult {
  path: string
  /** False when there is no journal file yet. */
  exists: boolean
  total: number
  filters: {since?: string; command?: string}
  entries: JournalEntry[]
}

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

/** Where the journal is: from the resolved configuration, or the default location when it cannot be resolved. */
export async function journalFile(resolve: () => Promise<ResolvedConfig>): Promise<{path: string; warnings: string[]}> {
  const [{journalPath}, {defaultJournalPath}] = await Promise.all([import('../../src/operations/journal-hook.js'), import('../../src/journal/paths.js')])
  try {
    return {path: journalPath(await resolve()), warnings: []}
  } catch (error) {
    if (!isKmsGuardError(error)) throw error
    const path = defaultJournalPath()
    return {path, warnings: [`the configuration could not be resolved (${error.message}); using the default journal ${path}`]}
  }
}

export async function fileExists(path: string): Promise<boolean> {
  const {stat} = await import('node:fs/promises')
  return stat(path).then(() => true, (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : Promise.reject(readError(path, error))))
}

/** Runs a journal read; file-system failures (permissions, a directory) become input errors naming the file. */
export async function readingJournal<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (isKmsGuardError(error)) throw error
    throw readError(path, error as NodeJS.ErrnoException)
  }
}

const readError = (path: string, error: NodeJS.ErrnoException) =>
  usageError(`cannot read the journal ${path}: ${error.code ?? error.message}`, 'check the path ($KMSGUARD_JOURNAL or `kmsguard config get journal`) and its permissions')

/** `export request` and `export:request` name the same command. */
export const commandId = (name: string): string => name.trim().split(/[\s:]+/).join(':')

/** Entries at or after `since` and of `command` (when given), oldest first as written. */
export function selectEntries(entries: readonly JournalEntry[], filter: {since?: Date; command?: string}): JournalEntry[] {
  const since = filter.since?.getTime()
  const command = filter.command === undefined ? undefined : commandId(filter.command)
  return entries.filter((entry) => (since === undefined || Date.parse(entry.time) >= since) && (command === undefined || entry.command === command))
}

/** "2 pass, 1 fail (references)": counts by outcome, naming the guards that failed or warned. */
export function guardsSummary(guards: JournalEntry['guards']): string {
  if (guards.length === 0) return '-'
  const outcomes = ['pass', 'warn', 'fail', 'skip'] as const
  return outcomes.flatMap((outcome) => {
    const matching = guards.filter((g) => g.outcome === outcome)
    if (matching.length === 0) return []
    const names = outcome === 'fail' || outcome === 'warn' ? ` (${matching.map((g) => g.guard).join(', ')})` : ''
    return [`${matching.length} ${outcome}${names}`]
  }).join(', ')
}

const keyLabel = (entry: JournalEntry): string | undefined => {
  if (entry.key) return entry.key.slug ?? entry.key.identity ?? entry.key.name
  return entry.keys?.length ? `${entry.keys.length} keys` : undefined
}

/** One table row per entry: time, operator, command, key, result, guards, approval, overrides. */
export function journalRow(entry: JournalEntry): Array<string | undefined> {
  const command = `${entry.command}${entry.kind === 'approval-consumed' ? ' (approval used)' : ''}${entry.dryRun ? ' (dry run)' : ''}`
  const result = entry.result.status === 'ok' ? 'ok' : `${entry.result.code ?? 'error'} (exit ${entry.result.exitCode})`
  return [entry.time.replace(/\.\d+Z$/, 'Z'), entry.operator?.email ?? entry.operator?.subject, command, keyLabel(entry), result,
    guardsSummary(entry.guards), entry.approval, entry.overrides?.map((o) => o.flag).join(', ') || undefined]
}

export function renderJournal(r: JournalListResult): string {
  if (!r.exists) return `no journal yet at ${r.path}`
  const filtered = r.filters.since !== undefined || r.filters.command !== undefined
  const footer = `${r.entries.length}${filtered ? ` of ${r.total}` : ''} entr${r.entries.length === 1 ? 'y' : 'ies'} in ${r.path}`
  if (r.entries.length === 0) return `No journal entries match. ${footer}`
  return `${table(['TIME', 'OPERATOR', 'COMMAND', 'KEY', 'RESULT', 'GUARDS', 'APPROVAL', 'OVERRIDES'], r.entries.map(journalRow))}\n\n${footer}`
}
