/**
 * references: the read-only reference scan on its own. Region guard → resolve the key (any state) → scan →
 * report. References found are information (exit 0); an incomplete scan is exit 4 (SCAN_INCOMPLETE) so that
 * no script can take it for "nothing uses the key".
 */
import {referencesReportGuard, scanReferences, type ScanInput, type ScanReport} from '../guards/references.js'
import type {GuardResult} from '../guards/types.js'
import {resolveTarget, withGuards, type OperationOutcome, type Target} from './common.js'
import type {OperationContext} from './context.js'

/** The scan input for a resolved target: the region's slug, with its identity and the typed name as aliases. */
export function scanInputFor(target: Target, typedRegion: string): ScanInput {
  return {region: target.region.slug, regionAliases: [target.region.identity, typedRegion], key: target.key}
}

export async function referencesReport(ctx: OperationContext, input: {region: string; key: string}): Promise<OperationOutcome<ScanReport>> {
  const guards: GuardResult[] = []
  const target = await resolveTarget(ctx, input, guards)
  const report = await withGuards(guards, () => scanReferences(ctx, scanInputFor(target, input.region)))
  guards.push(referencesReportGuard(report, guards))
  return {result: report, guards, warnings: [], dryRun: false}
}
