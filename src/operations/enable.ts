/** enable: undo a disable. Region → key-state (must be disabled) → y/N or --yes → one POST …/enable. */
import type {OperationContext} from './context.js'
import {confirmAfter, keyPath, keySummary, preflightKey, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'
import type {GuardResult} from '../guards/types.js'

export interface EnableInput {
  region: string
  key: string
  dryRun: boolean
  yes?: boolean
}

export interface EnableResult {
  key: KeySummary
  planned: PlannedCall[]
}

export async function enableKey(ctx: OperationContext, input: EnableInput): Promise<OperationOutcome<EnableResult>> {
  const guards: GuardResult[] = []
  const key = await preflightKey(ctx, {region: input.region, key: input.key, operation: 'enable', allowed: ['disabled']}, guards)
  const planned: PlannedCall[] = [{method: 'POST', path: keyPath(input.region, key, '/enable')}]
  if (input.dryRun) return {result: {key: keySummary(key), planned}, guards, warnings: [], dryRun: true}
  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.yesNo({question: `Enable ${key.slug} (${key.identity}) in ${input.region}? Crypto operations resume with version ${key.latestVersion ?? '?'}`, yes: input.yes}))
  const updated = await withGuards(guards, () => ctx.api.kms.enable(input.region, key.identity))
  ctx.journal.summary = `enabled ${updated.slug}`
  return {result: {key: keySummary(updated), planned}, guards, warnings: [], dryRun: false}
}
