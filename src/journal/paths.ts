/** Where the operator journal lives when the configuration names no other file. */
import {homedir} from 'node:os'
import {isAbsolute, join} from 'node:path'

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value)

/**
 * `$KMSGUARD_JOURNAL`, else `$XDG_STATE_HOME/kmsguard/journal.jsonl`, else `~/.local/state/kmsguard/journal.jsonl`.
 * A relative `XDG_STATE_HOME` is ignored, as the XDG base-directory specification requires.
 */
export const defaultJournalPath = (env: NodeJS.ProcessEnv = process.env): string => {
  const explicit = nonEmpty(env.KMSGUARD_JOURNAL)
  if (explicit !== undefined) return explicit
  const xdg = nonEmpty(env.XDG_STATE_HOME)
  const stateHome = xdg !== undefined && isAbsolute(xdg) ? xdg : join(nonEmpty(env.HOME) ?? homedir(), '.local', 'state')
  return join(stateHome, 'kmsguard', 'journal.jsonl')
}
