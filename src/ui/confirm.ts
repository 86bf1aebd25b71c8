/**
 * Confirmations, exactly as the contract fixes them: destructive commands need the key's slug or identity
 * typed (interactively) or passed as --confirm (non-interactively); other mutations need y/N or --yes; fleet
 * operations need the count. A missing or wrong confirmation is exit 7 naming the flag, and nothing is sent.
 * Prompts go to stderr and time out, so a forgotten terminal cannot hold a lock or a half-done runbook.
 */
import {notConfirmed, KmsGuardError, ExitCode} from '../cli/errors.js'
import type {GuardResult} from '../guards/types.js'
import {useColour} from './interactive.js'
import {guardLines} from './table.js'

export type ConfirmationMethod = 'typed' | 'confirm-flag' | 'prompt' | 'yes-flag' | 'count' | 'none'

export interface Confirmer {
  readonly interactive: boolean
  /** Typed confirmation for delete/disable/export/approve: one of `accepted` must be entered. */
  typed(opts: {action: string; accepted: string[]; flagValue?: string}): Promise<ConfirmationMethod>
  /** y/N for the other mutations. */
  yesNo(opts: {question: string; yes?: boolean}): Promise<ConfirmationMethod>
  /** Fleet operations: the number of matched keys. */
  count(opts: {action: string; expected: number; flagValue?: number}): Promise<ConfirmationMethod>
  /** Before a prompt: the guard verdicts the operator is about to confirm against (stderr; only when interactive). */
  show(guards: GuardResult[]): void
}

const PROMPT_TIMEOUT_MS = 5 * 60_000

export class PromptConfirmer implements Confirmer {
  constructor(readonly interactive: boolean, private readonly signal?: AbortSignal) {}

  show(guards: GuardResult[]): void {
    if (this.interactive && guards.length > 0) process.stderr.write(`${guardLines(guards, useColour(process.env, process.stderr))}\n`)
  }

  async typed({action, accepted, flagValue}: {action: string; accepted: string[]; flagValue?: string}): Promise<ConfirmationMethod> {
    const shown = accepted[0]
    if (flagValue !== undefined) {
      if (accepted.includes(flagValue)) return 'confirm-flag'
      throw notConfirmed(`--confirm "${flagValue}" does not match the key (${accepted.join(' or ')}); nothing was changed`, `Pass --confirm ${shown} to ${action}.`)
    }
    if (!this.interactive) throw notConfirmed(`${action} needs a typed confirmation; in non-interactive mode pass --confirm ${shown}`, `Re-run with --confirm ${shown} (or --dry-run to see the plan).`)
    const answer = await this.ask(async (input, opts) => input({message: `Type ${shown} to ${action}:`}, opts))
    if (!accepted.includes(String(answer).trim())) throw notConfirmed(`the typed text does not match ${shown}; nothing was changed`)
    return 'typed'
  }

  async yesNo({question, yes}: {question: string; yes?: boolean}): Promise<ConfirmationMethod> {
    if (yes) return 'yes-flag'
    if (!this.interactive) throw notConfirmed(`${question.replace(/\?$/, '')}: confirmation required; in non-interactive mode pass --yes`, 'Re-run with --yes (or --dry-run to see the plan).')
    const ok = await this.ask(async (_input, opts, confirm) => confirm({message: question, default: false}, opts))
    if (ok !== true) throw notConfirmed('declined; nothing was changed')
    return 'prompt'
  }

  async count({action, expected, flagValue}: {action: string; expected: number; flagValue?: number}): Promise<ConfirmationMethod> {
    if (flagValue !== undefined) {
      if (flagValue === expected) return 'count'
      throw notConfirmed(`--confirm-count ${flagValue} does not match the ${expected} matched key(s); nothing was changed`, `Review the list, then pass --confirm-count ${expected}.`)
    }
    if (!this.interactive) throw notConfirmed(`${action} of ${expected} key(s) needs --confirm-count ${expected} in non-interactive mode`)
    const answer = await this.ask(async (input, opts) => input({message: `Type the number of keys (${expected}) to ${action}:`}, opts))
    if (String(answer).trim() !== String(expected)) throw notConfirmed('the typed count does not match; nothing was changed')
    return 'count'
  }

  private async ask(fn: (input: typeof import('@inquirer/prompts').input, opts: {signal: AbortSignal; output: NodeJS.WritableStream}, confirm: typeof import('@inquirer/prompts').confirm) => Promise<unknown>): Promise<unknown> {
    const {input, confirm} = await import('@inquirer/prompts')
    const signals = [AbortSignal.timeout(PROMPT_TIMEOUT_MS)]
    if (this.signal) signals.push(this.signal)
    try {
      return await fn(input, {signal: AbortSignal.any(signals), output: process.stderr}, confirm)
    } catch (error) {
      const name = (error as Error).name
      if (name === 'ExitPromptError') throw new KmsGuardError('INTERRUPTED', ExitCode.INTERRUPTED, 'interrupted at the confirmation prompt; nothing was changed')
      if (name === 'AbortPromptError') throw notConfirmed('no answer at the confirmation prompt; nothing was changed')
      throw error
    }
  }
}
