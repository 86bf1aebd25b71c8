/**
 * Writes one journal line for a mutating command — success, refusal or dry run — from what the operation
 * recorded. The operator's subject comes from /v1/me/organisation-memberships, asked once, briefly.
 */
import type {Api} from '../api/index.js'
import type {ResolvedConfig} from '../config/resolve.js'
import type {KmsGuardError} from '../cli/errors.js'
import type {GuardResult} from '../guards/types.js'
import type {JournalInfo} from './context.js'
import {appendJournal, defaultJournalPath, withholdSecretLike} from '../journal/index.js'

export interface JournalWrite {
  command: string
  config: ResolvedConfig
  api?: Api
  info: JournalInfo
  dryRun: boolean
  guards: GuardResult[]
  error?: KmsGuardError
}

export function journalPath(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.journal?.value ?? defaultJournalPath(env)
}

/** Returns a warning to show when the line could not be written; never throws for an I/O problem. */
export async function writeJournal(w: JournalWrite): Promise<string | undefined> {
  let operator: {subject?: string; email?: string} | undefined
  // Ask who the operator is only when the command already talked to the API: a refusal on bad input sends nothing.
  if (w.api && w.api.transport.requestCount > 0 && w.config.credentials && w.config.organisation) {
    try {
      const members = await w.api.identity.memberships()
      const user = members.find((m) => m.user?.subject)?.user
      if (user) operator = {subject: user.subject, email: user.email}
    } catch {
      operator = undefined
    }
  }
  try {
    await appendJournal(journalPath(w.config), {
      kind: 'operation',
      operator,
      endpoint: w.config.endpoint.value,
      org: w.config.organisation?.value,
      project: w.config.project?.value,
      region: w.info.region ?? w.config.region?.value,
      command: w.command,
      dryRun: w.dryRun,
      key: w.info.key,
      keys: w.info.keys,
      guards: w.guards.map((g) => ({guard: g.guard, outcome: g.outcome, message: g.message})),
      confirmation: w.info.confirmation,
      approval: w.info.approval,
      overrides: w.info.overrides,
      result: w.error ? {status: 'error', code: w.error.code, exitCode: w.error.exitCode, summary: summarise(w.error.message)} : {status: 'ok', exitCode: 0, summary: w.info.summary && summarise(w.info.summary)},
      details: w.info.details,
    })
    return undefined
  } catch (error) {
    return `the operator journal could not be written (${(error as Error).message})`
  }
}

/** A one-line summary for the journal, with anything that looks like an encoded secret withheld. */
function summarise(message: string): string {
  return withholdSecretLike(message).slice(0, 300)
}
