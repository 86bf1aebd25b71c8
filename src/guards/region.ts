/**
 * Region guard: before any regional mutation, GET /v1/kms/summary and check that KMS is enabled for the
 * organisation (a 403 or featureEnabled:false both mean no) and that the region — matched by slug or
 * identity — exists and has KMS available. Any other failure to read the summary propagates as an API error:
 * the guard cannot decide, so nothing is sent.
 */
import type {Api} from '../api/index.js'
import type {SummaryRegion} from '../api/schemas.js'
import {ApiError, guardRefused} from '../cli/errors.js'
import type {GuardResult} from './types.js'

export interface RegionVerdict {
  guard: GuardResult
  region: SummaryRegion
}

/** The summary, or a refusal when KMS is not enabled for the organisation (a 403 or featureEnabled:false). */
async function enabledSummary(api: Api, prior: GuardResult[]) {
  let summary
  try {
    summary = await api.kms.summary()
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) throw kmsDisabled('KMS is not enabled for this organisation (the summary answered 403)', prior, 'Ask the organisation owner to enable the KMS feature; check --org if this is the wrong organisation.')
    throw error
  }
  if (!summary.featureEnabled) throw kmsDisabled('KMS is not enabled for this organisation (featureEnabled: false)', prior, 'Ask the organisation owner to enable the KMS feature.')
  return summary
}

function kmsDisabled(message: string, prior: GuardResult[], hint: string) {
  return guardRefused('KMS_DISABLED', message, {guards: [...prior, {guard: 'region', outcome: 'fail', message}], hint})
}

/** Every region where KMS is available (for --all-regions), refusing when there is none. */
export async function kmsRegions(api: Api, prior: GuardResult[] = []): Promise<{guard: GuardResult; regions: SummaryRegion[]}> {
  const summary = await enabledSummary(api, prior)
  const regions = summary.regions.filter((r) => r.kmsAvailable)
  if (regions.length === 0) {
    const message = 'KMS is available in no region'
    throw guardRefused('REGION_UNAVAILABLE', message, {guards: [...prior, {guard: 'region', outcome: 'fail', message}], hint: 'kmsguard summary shows the regions.'})
  }
  const slugs = regions.map((r) => r.slug)
  return {regions, guard: {guard: 'region', outcome: 'pass', message: `${slugs.join(', ')}: KMS available (--all-regions)`, details: {regions: slugs}}}
}

export async function regionGuard(api: Api, region: string, prior: GuardResult[] = []): Promise<RegionVerdict> {
  const summary = await enabledSummary(api, prior)
  const available = summary.regions.filter((r) => r.kmsAvailable).map((r) => r.slug)
  const wanted = region.toLowerCase()
  const match = summary.regions.find((r) => r.slug.toLowerCase() === wanted || r.identity.toLowerCase() === wanted)
  const where = available.length > 0 ? `KMS is available in: ${available.join(', ')}` : 'KMS is available in no region'
  if (!match) {
    const guard: GuardResult = {guard: 'region', outcome: 'fail', message: `region ${region} is not a KMS region; ${where}`, details: {available}}
    throw guardRefused('REGION_UNKNOWN', guard.message, {guards: [...prior, guard], hint: `Pick one of: ${available.join(', ') || '(none)'}.`})
  }
  if (!match.kmsAvailable) {
    const guard: GuardResult = {guard: 'region', outcome: 'fail', message: `${match.slug}: KMS is not available in this region; ${where}`, details: {available}}
    throw guardRefused('REGION_UNAVAILABLE', guard.message, {guards: [...prior, guard], hint: available.length > 0 ? `Use -r ${available[0]}${available.length > 1 ? ` (or ${available.slice(1).join(', ')})` : ''}.` : undefined})
  }
  return {region: match, guard: {guard: 'region', outcome: 'pass', message: `${match.slug}: KMS available`}}
}
