/** Human rendering of the operator journal: one row per entry and a footer. */
import type {JournalEntry} from '../journal/schema.js'
import type {JournalListResult} from '../operations/journal.js'
import {table} from './table.js'

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
