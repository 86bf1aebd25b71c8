/**
 * What an operation gets from its caller (a command, the demo, or a test): API clients, resolved settings,
 * a confirmer, progress, a cancellation signal, and a journal record to fill in as it goes. Operations never
 * print and never touch oclif; they return typed results or throw KmsGuardError.
 */
import type {Api} from '../api/index.js'
import type {ResolvedConfig} from '../config/resolve.js'
import type {Confirmer, ConfirmationMethod} from '../ui/confirm.js'
import type {ProgressFactory} from '../ui/progress.js'

export interface JournalKey {
  identity?: string
  slug?: string
  name?: string
}

/** Filled in by operations; written to the journal by the caller, for success and refusal alike. */
export interface JournalInfo {
  region?: string
  key?: JournalKey
  keys?: JournalKey[]
  confirmation?: ConfirmationMethod
  approval?: string
  overrides?: Array<{flag: string; reason: string}>
  summary?: string
  details?: Record<string, string | number | boolean | null>
}

export interface OperationContext {
  api: Api
  config: ResolvedConfig
  confirm: Confirmer
  progress: ProgressFactory
  signal: AbortSignal
  journal: JournalInfo
  concurrency: number
  now: () => Date
}
