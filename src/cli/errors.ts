/**
 * The one error model of kmsguard. Every failure that reaches the user is a KmsGuardError carrying a stable
 * machine code, the contract's exit code, a message, and (where there is a way forward) a hint. The base
 * command maps these to the exit-code table and the --json envelope; nothing else picks exit codes.
 */
import type {GuardResult} from '../guards/types.js'

export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  GUARD_REFUSED: 3,
  DELETE_REFUSED: 4,
  EXPORT_REFUSED: 5,
  API: 6,
  NOT_CONFIRMED: 7,
  ATTENTION: 8,
  INTERRUPTED: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface KmsGuardErrorOptions {
  hint?: string
  details?: Record<string, unknown>
  guards?: GuardResult[]
  cause?: unknown
}

export class KmsGuardError extends Error {
  readonly code: string
  readonly exitCode: ExitCodeValue
  readonly hint?: string
  readonly details?: Record<string, unknown>
  /** Guard verdicts gathered before the failure, so the envelope can show them. */
  guards: GuardResult[]

  constructor(code: string, exitCode: ExitCodeValue, message: string, options: KmsGuardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'KmsGuardError'
    this.code = code
    this.exitCode = exitCode
    this.hint = options.hint
    this.details = options.details
    this.guards = options.guards ?? []
  }
}

/** Bad flags, arguments, files or documents: exit 2, nothing sent. */
export const usageError = (message: string, hint?: string, code = 'USAGE') =>
  new KmsGuardError(code, ExitCode.USAGE, message, {hint})

/** A preflight guard refused (region, key state, policy): exit 3. */
export const guardRefused = (code: string, message: string, options: KmsGuardErrorOptions = {}) =>
  new KmsGuardError(code, ExitCode.GUARD_REFUSED, message, options)

/** A missing or wrong confirmation: exit 7, nothing sent. */
export const notConfirmed = (message: string, hint?: string) =>
  new KmsGuardError('NOT_CONFIRMED', ExitCode.NOT_CONFIRMED, message, {hint})

export const isKmsGuardError = (err: unknown): err is KmsGuardError => err instanceof KmsGuardError

/**
 * An API or network failure after retries (exit 6). `endpoint` is "METHOD /path" without query secrets;
 * `status` is the HTTP status when there was one.
 */
export class ApiError extends KmsGuardError {
  readonly status?: number
  readonly endpoint: string
  readonly apiMessage?: string

  constructor(code: string, message: string, init: {endpoint: string; status?: number; apiMessage?: string; hint?: string; cause?: unknown; details?: Record<string, unknown>}) {
    super(code, ExitCode.API, message, {hint: init.hint, cause: init.cause, details: {endpoint: init.endpoint, ...(init.status === undefined ? {} : {status: init.status}), ...init.details}})
    this.name = 'ApiError'
    this.status = init.status
    this.endpoint = init.endpoint
    this.apiMessage = init.apiMessage
  }
}
