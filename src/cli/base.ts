/**
 * The base of every kmsguard command: shared flags, building the context (configuration → API client),
 * the --json envelope, human rendering of guards, the journal hook for mutations, and the one place where
 * typed errors become exit codes. Commands never speak HTTP; they call operations and render results.
 */
import {Command, type Interfaces} from '@oclif/core'
import {ExitCode, KmsGuardError, isKmsGuardError, usageError} from './errors.js'
import {connectionFlags} from './flags.js'
import {SETTINGS} from '../config/settings.js'
import type {GuardResult} from '../guards/types.js'
import {isInteractive, useColour} from '../ui/interactive.js'
import {guardLines} from '../ui/table.js'
import type {ResolvedConfig} from '../config/resolve.js'
import type {Api} from '../api/index.js'
import type {OperationContext, JournalInfo} from '../operations/context.js'

export interface Outcome<R> {
  result: R
  guards?: GuardResult[]
  warnings?: string[]
  dryRun?: boolean
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

export abstract class BaseCommand<R = unknown> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = connectionFlags
  /** Mutating commands are journaled (including refusals and dry runs). */
  static mutating = false

  protected config_?: ResolvedConfig
  protected api_?: Api
  protected abort = new AbortController()
  protected journalInfo: JournalInfo = {}
  protected parsedFlags: Record<string, unknown> = {}
  private deadline = 0
  private onSigint = () => {
    if (this.abort.signal.aborted) process.exit(ExitCode.INTERRUPTED)
    this.abort.abort(new KmsGuardError('INTERRUPTED', ExitCode.INTERRUPTED, 'interrupted (SIGINT)'))
    // Give the operation a moment to stop cleanly (remove partial files, finish a journal line), then leave.
    setTimeout(() => process.exit(ExitCode.INTERRUPTED), 3000).unref()
  }

  /** Subclasses do the work here and return a typed outcome. */
  protected abstract execute(): Promise<Outcome<R>>
  /** Human rendering of a successful outcome (stdout). */
  protected abstract renderHuman(outcome: Outcome<R>): void

  public async run(): Promise<unknown> {
    process.once('SIGINT', this.onSigint)
    let outcome: Outcome<R> | undefined
    let failure: unknown
    try {
      const {flags, args} = await this.parse(this.ctor as typeof BaseCommand)
      this.parsedFlags = {...flags, ...args}
      outcome = await this.execute()
    } catch (error) {
      failure = this.abort.signal.aborted && !isKmsGuardError(error) ? this.abort.signal.reason : error
    } finally {
      process.removeListener('SIGINT', this.onSigint)
    }
    const ctor = this.ctor as typeof BaseCommand
    if (ctor.mutating && (outcome || isKmsGuardError(failure))) await this.journal(outcome, failure)
    if (failure !== undefined) throw failure
    await this.api_?.transport.close()
    if (this.jsonEnabled()) return this.envelope(outcome!)
    this.renderHuman(outcome!)
    for (const w of outcome!.warnings ?? []) this.logToStderr(`warning: ${w}`)
    return undefined
  }

  /** Plain JSON (no colour theme is configured): oclif's colourising formatter is slow on large results. */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  private envelope(outcome: Outcome<R>) {
    return {status: 'ok', command: this.id, dryRun: outcome.dryRun ?? false, result: outcome.result, guards: outcome.guards ?? [], warnings: outcome.warnings ?? []}
  }

  /** The only place where errors become exit codes and output. */
  protected override async catch(raw: Error & {exitCode?: number}): Promise<void> {
    await this.api_?.transport.close().catch(() => undefined)
    const err = toKmsGuardError(raw)
    process.exitCode = err.exitCode
    if (this.jsonEnabled() || this.argv.includes('--json')) {
      const error: Record<string, unknown> = {code: err.code, exitCode: err.exitCode, message: err.message}
      if (err.hint) error.hint = err.hint
      if (err.details) error.details = err.details
      process.stdout.write(JSON.stringify({status: 'error', command: this.id, error, guards: err.guards}, null, 2) + '\n')
      return
    }
    const colour = useColour(process.env, process.stderr)
    if (err.guards.length > 0) this.logToStderr(guardLines(err.guards, colour))
    this.logToStderr(`${colour ? '\u001B[31mError:\u001B[0m' : 'Error:'} ${err.message}`)
    if (err.hint) this.logToStderr(`Hint: ${err.hint}`)
    if (err.exitCode === ExitCode.INTERNAL || this.argv.includes('--debug')) {
      const stack = (raw as Error).stack
      if (this.argv.includes('--debug') && stack) this.logToStderr(stack)
      else this.logToStderr('This is a bug in kmsguard. Re-run with --debug for details.')
    }
  }

  protected get flagsOf(): Record<string, unknown> {
    return this.parsedFlags
  }

  protected interactive(): boolean {
    return isInteractive({nonInteractive: Boolean(this.parsedFlags['non-interactive']), json: this.jsonEnabled()})
  }

  /** Configuration resolved from flags, env, tcloud and kmsguard settings. */
  protected async resolved(): Promise<ResolvedConfig> {
    if (!this.config_) {
      const {resolveConfig} = await import('../config/resolve.js')
      const f = this.parsedFlags as Record<string, string | number | undefined>
      this.config_ = await resolveConfig({endpoint: f.endpoint as string, org: f.org as string, project: f.project as string, context: f.context as string, 'token-file': f['token-file'] as string, region: f.region as string, concurrency: f.concurrency as number})
      this.deadline = Date.now() + this.config_.timeoutSeconds * 1000
    }
    return this.config_
  }

  protected async api(): Promise<Api> {
    if (!this.api_) {
      const cfg = await this.resolved()
      const {createApi} = await import('../api/index.js')
      const debug = this.parsedFlags.debug || /(^|,)kmsguard(:|,|$)|^\*$/.test(process.env.DEBUG ?? '')
      const mutating = (this.ctor as typeof BaseCommand).mutating
      this.api_ = createApi({
        endpoint: cfg.endpoint.value,
        organisation: cfg.organisation?.value,
        project: cfg.project?.value,
        credentials: cfg.credentials?.value,
        userAgent: `kmsguard/${this.config.version} (node ${process.version}; ${process.platform})`,
        deadline: this.deadline,
        connections: Math.max(8, cfg.concurrency.value * 2),
        signal: this.abort.signal,
        debug: debug ? (line) => process.stderr.write(`[kmsguard] ${line}\n`) : undefined,
        // The journal names the operator; once the command talks to the API anyway, ask alongside, not after.
        onFirstRequest: mutating ? () => void this.api_?.identity.memberships().catch(() => undefined) : undefined,
      })
    }
    return this.api_
  }

  protected async region(): Promise<string> {
    const cfg = await this.resolved()
    if (!cfg.region) throw usageError(`${this.id} needs a region`, 'Pass -r/--region (e.g. -r nl-01), set KMSGUARD_REGION, or `kmsguard config set region nl-01`. `kmsguard summary` lists regions.')
    if (!SETTINGS.region.pattern.test(cfg.region.value)) throw usageError(`region ${JSON.stringify(cfg.region.value.slice(0, 80))} (from ${cfg.region.source}) is not a region slug or identity (lower-case letters, digits and -, e.g. nl-01)`)
    return cfg.region.value
  }

  /** The context handed to operations: everything they need, nothing oclif. */
  protected async operationContext(): Promise<OperationContext> {
    const [cfg, api] = [await this.resolved(), await this.api()]
    const {PromptConfirmer} = await import('../ui/confirm.js')
    const {listrProgress, silentProgress} = await import('../ui/progress.js')
    const showProgress = !this.jsonEnabled() && Boolean(process.stderr.isTTY) && !process.env.CI
    return {
      api,
      config: cfg,
      confirm: new PromptConfirmer(this.interactive(), this.abort.signal),
      progress: showProgress ? listrProgress() : silentProgress,
      signal: this.abort.signal,
      journal: this.journalInfo,
      concurrency: cfg.concurrency.value,
      now: () => new Date(),
    }
  }

  private async journal(outcome: Outcome<R> | undefined, failure: unknown): Promise<void> {
    try {
      const cfg = this.config_
      if (!cfg) return
      const {writeJournal} = await import('../operations/journal-hook.js')
      const err = isKmsGuardError(failure) ? failure : undefined
      const warning = await writeJournal({command: this.id ?? 'unknown', config: cfg, api: this.api_, info: this.journalInfo, dryRun: Boolean(this.parsedFlags['dry-run']), guards: outcome?.guards ?? err?.guards ?? [], error: err})
      if (!warning) return
      if (outcome) outcome.warnings = [...(outcome.warnings ?? []), warning]
      else this.logToStderr(`warning: ${warning}`)
    } catch (error) {
      this.logToStderr(`warning: the journal could not be written: ${(error as Error).message}`)
    }
  }
}

/** Maps anything thrown to the contract's error model. */
export function toKmsGuardError(raw: unknown): KmsGuardError {
  if (isKmsGuardError(raw)) return raw
  const e = raw as {oclif?: {exit?: number}; message?: string; name?: string; code?: string}
  if (e?.name === 'ExitPromptError') return new KmsGuardError('INTERRUPTED', ExitCode.INTERRUPTED, 'interrupted')
  if (e?.oclif?.exit !== undefined && e.oclif.exit !== 0) {
    // oclif's own parse errors (unknown or missing flags, bad values): usage errors, exit 2.
    const message = (e.message ?? 'invalid usage').split('\n').filter((l) => l.trim() && !l.startsWith('See more help')).join(' ').replace(/\s+/g, ' ').trim()
    return new KmsGuardError('USAGE', e.oclif.exit === 2 ? ExitCode.USAGE : (e.oclif.exit as 2), message, {hint: 'See --help for the command\'s flags.'})
  }
  return new KmsGuardError('INTERNAL', ExitCode.INTERNAL, `internal error: ${e?.message ?? String(raw)}`)
}
