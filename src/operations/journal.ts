/**
 * Reading the operator journal for `kmsguard journal` and `journal verify`: where it is, whether it exists,
 * file-system failures as input errors, and the --since/--command selection. Never calls the API.
 */
import {isKmsGuardError, usageError} from '../cli/errors.js'
import type {ResolvedConfig} from '../config/resolve.js'
import type {JournalEntry} from '../journal/schema.js'

export interface JournalListResult {
  path: string
  /** False when there is no journal file yet. */
  exists: boolean
  total: number
  filters: {since?: string; command?: string}
  entries: JournalEntry[]
}

/** Where the journal is: from the resolved configuration, or the default location when it cannot be resolved. */
export async function journalFile(resolve: () => Promise<ResolvedConfig>): Promise<{path: string; warnings: string[]}> {
  const [{journalPath}, {defaultJournalPath}] = await Promise.all([import('./journal-hook.js'), import('../journal/paths.js')])
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
