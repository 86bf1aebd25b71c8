/** A guard's verdict. Guards never prompt and never throw for a "no": they return `fail` with a message. */
export type GuardOutcome = 'pass' | 'fail' | 'warn' | 'skip'
export type GuardName = 'region' | 'key-state' | 'references' | 'approval' | 'policy'

export interface GuardResult {
  guard: GuardName
  outcome: GuardOutcome
  message: string
  details?: Record<string, unknown>
}
