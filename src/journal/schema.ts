/**
 * The shape of one operator-journal line. Every object is strict: a field the schema does not name is rejected,
 * so nothing (a token, a payload, a whole API response) can slip into the journal by being passed along by
 * accident. `JournalRecord` is what callers hand in; the store adds `v`, `seq`, `time` and `prev`.
 */
import {z} from 'zod'
import type {GuardResult} from '../guards/types.js'

export const GENESIS_PREV = '0'.repeat(64)

const keyRef = z.strictObject({
  identity: z.string().optional(),
  slug: z.string().optional(),
  name: z.string().optional(),
})

const recordShape = {
  kind: z.enum(['operation', 'approval-consumed']).optional(),
  operator: z.strictObject({subject: z.string().optional(), email: z.string().optional()}).optional(),
  endpoint: z.string().min(1),
  org: z.string().optional(),
  project: z.string().optional(),
  region: z.string().optional(),
  command: z.string().min(1),
  dryRun: z.boolean(),
  key: keyRef.optional(),
  keys: z.array(keyRef).optional(),
  guards: z.array(z.strictObject({
    guard: z.string().min(1),
    outcome: z.enum(['pass', 'fail', 'warn', 'skip']),
    message: z.string(),
  })),
  confirmation: z.enum(['typed', 'yes-flag', 'confirm-flag', 'prompt', 'count', 'none']).optional(),
  approval: z.string().optional(),
  overrides: z.array(z.strictObject({flag: z.string().min(1), reason: z.string()})).optional(),
  result: z.strictObject({
    status: z.enum(['ok', 'error']),
    code: z.string().optional(),
    exitCode: z.int().min(0),
    summary: z.string().optional(),
  }),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
}

export const JournalRecordSchema = z.strictObject(recordShape)
export type JournalRecord = z.infer<typeof JournalRecordSchema>

export const JournalEntrySchema = z.strictObject({
  v: z.literal(1),
  seq: z.int().positive(),
  time: z.iso.datetime({offset: true}),
  prev: z.string().regex(/^[0-9a-f]{64}$/, 'prev must be 64 lowercase hex digits'),
  ...recordShape,
})
export type JournalEntry = z.infer<typeof JournalEntrySchema>

/** Guard verdicts as the journal keeps them: name, outcome and message; `details` stay out (they may be large). */
export const journalGuards = (guards: readonly GuardResult[]): JournalRecord['guards'] =>
  guards.map(({guard, outcome, message}) => ({guard, outcome, message}))

/** A zod failure as one line naming paths, never values. */
export const describeIssues = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(entry)'}: ${issue.message}`).join('; ')
