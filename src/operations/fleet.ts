/**
 * Fleet operations (rotate or disable every key that carries some labels) and the per-key "send, and when the
 * outcome is unclear re-read instead of retrying" step that single-key rotate/disable share.
 *
 * A fleet run: region guard (one region, or every region with KMS from the summary) → list → match every
 * label → per-key guards on the listed state (a refused key is reported, not an error of the run) → one
 * confirmation for the whole matched set (--confirm-count N) → the mutations through a bounded pool →
 * a per-key report (done | refused | failed | unknown). Mutations are never retried: after a 5xx or network
 * failure the key is read again and the action says whether the change happened.
 */
import type {KmsKey} from '../api/schemas.js'
import {ApiError, ExitCode, KmsGuardError, guardRefused, isKmsGuardError, usageError} from '../cli/errors.js'
import {kmsRegions, regionGuard} from '../guards/region.js'
import type {GuardResult} from '../guards/types.js'
import {Pool} from '../util/pool.js'
import type {OperationContext} from './context.js'
import {confirmAfter, withGuards, type KeySummary, type OperationOutcome, type PlannedCall} from './common.js'

/** One per-key mutation, described once for the single-key path and the fleet path. */
export interface KeyAction {
  /** Imperative verb for messages: 'rotate', 'disable'. */
  verb: string
  /** Per-key verdicts before anything is sent; a verdict that fails (or a guard that throws) refuses the key. */
  check(key: KmsKey, region: string): GuardResult[]
  planned(region: string, key: KmsKey): PlannedCall
  send(ctx: OperationContext, region: string, key: KmsKey): Promise<KmsKey>
  /** Judged from a re-read after an unclear failure: did the change happen? undefined = cannot tell. */
  happened(before: KmsKey, after: KmsKey): boolean | undefined
  /** What a successful change did, e.g. "version 3 → 4". */
  describe(before: KmsKey, after: KmsKey): string
}

export type Applied =
  | {outcome: 'done'; key: KmsKey; recoveredFrom?: KmsGuardError}
  | {outcome: 'failed'; error: KmsGuardError; reread?: KmsKey}
  | {outcome: 'unknown'; error: KmsGuardError; rereadError?: KmsGuardError}

/** Failures that prove the request never reached the API (the transport's "not sent" network codes, the deadline). */
const NEVER_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN'])

/**
 * Whether the server may have acted: yes after a 5xx, a timeout or a broken connection, and after a 2xx whose
 * body was unusable; no after a 4xx, a connection that was never made, or an error raised before sending
 * (credentials, configuration — not an ApiError).
 */
function unclear(error: KmsGuardError): boolean {
  if (!(error instanceof ApiError) || error.code === 'DEADLINE_EXCEEDED') return false
  if (error.status === undefined) return !NEVER_SENT.has(String(error.details?.network))
  return error.status >= 500 || error.status < 400
}

const interrupted = () => new KmsGuardError('INTERRUPTED', ExitCode.INTERRUPTED, 'interrupted while the request was in flight')

/**
 * Sends the mutation once. On an unclear failure, reads the key again and lets the action judge whether the
 * change happened — the request itself is never repeated (a second rotate would be a second version).
 */
export async function applyVerified(ctx: OperationContext, region: string, key: KmsKey, action: KeyAction): Promise<Applied> {
  try {
    return {outcome: 'done', key: await action.send(ctx, region, key)}
  } catch (raw) {
    if (ctx.signal.aborted) return {outcome: 'unknown', error: interrupted()}
    if (!isKmsGuardError(raw)) throw raw
    if (!unclear(raw)) return {outcome: 'failed', error: raw}
    let after: KmsKey
    try {
      after = await ctx.api.kms.getKey(region, key.identity)
    } catch (reread) {
      return {outcome: 'unknown', error: raw, rereadError: isKmsGuardError(reread) ? reread : undefined}
    }
    const happened = action.happened(key, after)
    if (happened === true) return {outcome: 'done', key: after, recoveredFrom: raw}
    if (happened === false) return {outcome: 'failed', error: raw, reread: after}
    return {outcome: 'unknown', error: raw}
  }
}

/** Human sentence for an Applied that is not done, with what to do next. */
function appliedFailure(action: KeyAction, key: KmsKey, applied: Exclude<Applied, {outcome: 'done'}>): {message: string; hint: string} {
  const {error} = applied
  if (applied.outcome === 'failed') {
    const checked = applied.reread ? `; a re-read shows it did not happen (${applied.reread.slug} is ${applied.reread.status}, version ${applied.reread.latestVersion ?? '?'})` : ''
    return {message: `${error.message}${checked}`, hint: applied.reread ? `Nothing changed; it is safe to ${action.verb} ${key.slug} again.` : error.hint ?? `Nothing changed on ${key.slug}.`}
  }
  const why = applied.rereadError ? `, and re-reading the key failed too (${applied.rereadError.message})` : ''
  return {message: `${error.message}; whether ${key.slug} was ${action.verb}d is unknown${why}`, hint: `Check with kmsguard get ${key.slug} before trying again: a repeated ${action.verb} is not harmless.`}
}

/** The error a single-key command ends with when its mutation was not done; it keeps the API's code and exit. */
export function notDoneError(action: KeyAction, key: KmsKey, applied: Exclude<Applied, {outcome: 'done'}>, guards: GuardResult[]): KmsGuardError {
  const {message, hint} = appliedFailure(action, key, applied)
  return new KmsGuardError(applied.error.code, applied.error.exitCode, message, {hint, guards, details: {...applied.error.details, outcome: applied.outcome}, cause: applied.error})
}

// ---------------------------------------------------------------------------------------------------------
// Target selection (KEY or --label) — shared by the rotate and disable commands.

/** KEY and --label are mutually exclusive and one is required; flags of the other mode are refused by name. */
export function selectTarget(input: {key?: string; labels: Record<string, string>; fleetOnly: string[]; keyOnly: string[]}): 'key' | 'fleet' {
  const fleet = Object.keys(input.labels).length > 0
  if (input.key !== undefined && fleet) throw usageError('give either KEY (one key) or --label k=v (every key with those labels), not both')
  if (input.key === undefined && !fleet) throw usageError('give KEY (a key identity, slug or name) or --label k=v (every key with those labels)')
  const wrong = fleet ? input.keyOnly : input.fleetOnly
  if (wrong.length > 0) throw usageError(`${wrong.join(', ')} ${wrong.length === 1 ? 'applies' : 'apply'} only ${fleet ? 'to a single KEY' : 'to a fleet (--label k=v)'}`)
  return fleet ? 'fleet' : 'key'
}

// ---------------------------------------------------------------------------------------------------------
// Fleet runs.

export interface FleetInput {
  region?: string
  allRegions?: boolean
  labels: Record<string, string>
  confirmCount?: number
  dryRun: boolean
}

export interface FleetOptions {
  /** Verdicts about the whole run (e.g. references: skip). */
  guards?: GuardResult[]
  /** A warning per key that will be acted on. */
  warnFor?(key: KmsKey, region: string): string
}

export type FleetOutcomeKind = 'done' | 'refused' | 'failed' | 'unknown'

interface KeyState {
  status: string
  latestVersion?: number
}

export interface FleetMatch extends Omit<KeySummary, 'projectId'> {
  region: string
  /** Why the per-key guards refuse this key; absent when it will be acted on. */
  refusal?: string
}

export interface FleetKeyResult {
  region: string
  identity: string
  slug: string
  outcome: FleetOutcomeKind
  message: string
  before: KeyState
  after?: KeyState
  error?: {code: string; message: string}
}

export interface FleetResult {
  action: string
  selector: Record<string, string>
  regions: string[]
  matched: FleetMatch[]
  results: FleetKeyResult[]
  counts: Record<FleetOutcomeKind | 'matched', number>
  planned: PlannedCall[]
}

const state = (k: KmsKey): KeyState => ({status: k.status, latestVersion: k.latestVersion})
const selectorText = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')

interface Candidate {
  region: string
  key: KmsKey
  /** Why the per-key guards refuse this key; undefined when it will be acted on. */
  refusal?: string
}

export async function runFleet(ctx: OperationContext, input: FleetInput, action: KeyAction, options: FleetOptions = {}): Promise<OperationOutcome<FleetResult>> {
  if (Object.keys(input.labels).length === 0) throw usageError(`a fleet ${action.verb} needs at least one --label k=v`)
  const guards: GuardResult[] = []
  const regions = await fleetRegions(ctx, input, guards)
  const selector = selectorText(input.labels)
  ctx.journal.details = {...ctx.journal.details, action: action.verb, selector, regions: regions.join(',')}
  const candidates = await matchingKeys(ctx, input.labels, regions, guards, action)
  if (candidates.length === 0) {
    throw new KmsGuardError('NO_MATCH', ExitCode.USAGE, `no key matches ${selector} in ${regions.join(', ')}`, {guards, hint: `kmsguard list -r ${regions[0]} --label … shows what the labels select.`})
  }
  ctx.journal.keys = candidates.map(({key}) => ({identity: key.identity, slug: key.slug, name: key.name}))
  const matched = candidates.map(matchOf)
  const eligible = candidates.filter((c) => c.refusal === undefined)
  const refused = candidates.filter((c) => c.refusal !== undefined).map(refusedResult)
  guards.push(perKeyVerdict(action, matched), ...(options.guards ?? []))
  const warnings = options.warnFor ? eligible.map(({region, key}) => options.warnFor!(key, region)) : []
  const base = {action: action.verb, selector: input.labels, regions, matched, planned: eligible.map(({region, key}) => action.planned(region, key))}

  if (eligible.length === 0 || (input.dryRun && refused.length > 0)) {
    const would = eligible.length > 0 ? `; the other ${eligible.length} would be ${action.verb}d` : ''
    throw guardRefused('FLEET_REFUSED', `${action.verb}: ${refused.length} of ${matched.length} matched key(s) refused by their guards${would}:\n${notDoneLines(refused)}`, {guards, details: {...base, results: refused, counts: countOf(matched.length, refused), warnings}, hint: 'The per-key reasons are in the details (--json: error.details.results).'})
  }
  if (input.dryRun) return {result: {...base, results: [], counts: countOf(matched.length, [])}, guards, warnings, dryRun: true}

  const listed = matched.slice(0, 10).map((m) => (m.refusal === undefined ? m.slug : `${m.slug} (refused)`)).join(', ') + (matched.length > 10 ? `, … ${matched.length - 10} more` : '')
  ctx.journal.confirmation = await confirmAfter(ctx, guards, (confirm) => confirm.count({action: `${action.verb} ${selector} [${listed}]`, expected: matched.length, flagValue: input.confirmCount}))
  const acted = new Map((await actOnAll(ctx, action, eligible)).map((r) => [`${r.region}/${r.identity}`, r]))
  const results = candidates.map((c) => acted.get(`${c.region}/${c.key.identity}`) ?? refusedResult(c))
  return conclude(ctx, action, {...base, results, counts: countOf(matched.length, results)}, guards, warnings)
}

/** Journals the counts, then: exit 0 when all done; 6 when any failed or is unknown; 3 when any was refused. */
function conclude(ctx: OperationContext, action: KeyAction, result: FleetResult, guards: GuardResult[], warnings: string[]): OperationOutcome<FleetResult> {
  const {counts} = result
  ctx.journal.summary = `${action.verb} ${selectorText(result.selector)}: ${counts.done} done, ${counts.refused} refused, ${counts.failed} failed, ${counts.unknown} unknown`
  ctx.journal.details = {...ctx.journal.details, matched: counts.matched, done: counts.done, refused: counts.refused, failed: counts.failed, unknown: counts.unknown}
  const details = {...result, warnings}
  if (ctx.signal.aborted) throw new KmsGuardError('INTERRUPTED', ExitCode.INTERRUPTED, `interrupted: ${ctx.journal.summary}`, {guards, details})
  const bad = counts.failed + counts.unknown
  if (bad > 0) {
    throw new KmsGuardError('FLEET_PARTIAL_FAILURE', ExitCode.API, `${action.verb}: ${bad} of ${counts.matched} key(s) failed or have an unknown outcome (${counts.done} done, ${counts.refused} refused):\n${notDoneLines(result.results)}`, {guards, details, hint: `The per-key report is in the details (--json: error.details.results). Nothing was retried; check keys reported unknown with kmsguard get before you ${action.verb} them again.`})
  }
  if (counts.refused > 0) throw guardRefused('FLEET_REFUSED', `${action.verb}: ${counts.done} done, ${counts.refused} refused by their guards:\n${notDoneLines(result.results)}`, {guards, details, hint: 'The per-key reasons are in the details (--json: error.details.results).'})
  return {result, guards, warnings, dryRun: false}
}

/** Every key in the regions that carries all the labels, with the per-key guards' refusal (from the listed state). */
async function matchingKeys(ctx: OperationContext, labels: Record<string, string>, regions: string[], guards: GuardResult[], action: KeyAction): Promise<Candidate[]> {
  const lists = await Promise.all(regions.map(async (region) => (await withGuards(guards, () => ctx.api.kms.listKeys(region))).map((key) => ({region, key}))))
  return lists.flat()
    .filter(({key}) => Object.entries(labels).every(([k, v]) => key.labels?.[k] === v))
    .map(({region, key}) => ({region, key, refusal: refusalOf(action, key, region)}))
}

const matchOf = ({region, key, refusal}: Candidate): FleetMatch => ({region, identity: key.identity, slug: key.slug, name: key.name, keyType: key.keyType, status: key.status, latestVersion: key.latestVersion, refusal})

const refusedResult = ({region, key, refusal}: Candidate): FleetKeyResult => ({region, identity: key.identity, slug: key.slug, outcome: 'refused', message: refusal ?? 'refused', before: state(key)})

async function fleetRegions(ctx: OperationContext, input: FleetInput, guards: GuardResult[]): Promise<string[]> {
  if (!input.allRegions) {
    if (!input.region) throw usageError('a fleet operation needs -r REGION or --all-regions')
    ctx.journal.region = input.region
    const verdict = await withGuards(guards, () => regionGuard(ctx.api, input.region!, guards))
    guards.push(verdict.guard)
    return [verdict.region.slug]
  }
  const verdict = await withGuards(guards, () => kmsRegions(ctx.api, guards))
  guards.push(verdict.guard)
  return verdict.regions.map((r) => r.slug)
}

/** The first failing per-key verdict, as a sentence; undefined when the key may be acted on. */
function refusalOf(action: KeyAction, key: KmsKey, region: string): string | undefined {
  try {
    return action.check(key, region).find((g) => g.outcome === 'fail')?.message
  } catch (error) {
    if (isKmsGuardError(error)) return error.message
    throw error
  }
}

function perKeyVerdict(action: KeyAction, matched: FleetMatch[]): GuardResult {
  const refused = matched.filter((m) => m.refusal !== undefined)
  const details = {matched: matched.length, refused: refused.map((m) => ({identity: m.identity, slug: m.slug, region: m.region, reason: m.refusal}))}
  if (refused.length === 0) return {guard: 'key-state', outcome: 'pass', message: `all ${matched.length} matched key(s) may be ${action.verb}d`, details}
  const listed = refused.map((m) => `${m.slug} (${m.refusal})`).join('; ')
  return {guard: 'key-state', outcome: refused.length === matched.length ? 'fail' : 'warn', message: `${refused.length} of ${matched.length} matched key(s) will be refused: ${listed}`, details}
}

async function actOnAll(ctx: OperationContext, action: KeyAction, eligible: Array<{region: string; key: KmsKey}>): Promise<FleetKeyResult[]> {
  const pool = new Pool(ctx.concurrency, ctx.signal)
  const progress = ctx.progress.start(`${action.verb}: ${eligible.length} key(s)`)
  let finished = 0
  let bad = 0
  const results = await Promise.all(eligible.map(async ({region, key}) => {
    const applied = await pool.run(() => applyVerified(ctx, region, key, action)).catch((error: unknown): Applied => {
      if (isKmsGuardError(error)) return {outcome: 'failed', error}
      if (ctx.signal.aborted) return {outcome: 'failed', error: new KmsGuardError('INTERRUPTED', ExitCode.INTERRUPTED, 'interrupted before the request was sent')}
      throw error
    })
    const result = keyResult(action, region, key, applied)
    finished++
    if (result.outcome !== 'done') bad++
    progress.update(`${finished}/${eligible.length}${bad > 0 ? ` (${bad} not done)` : ''}`)
    return result
  }))
  await progress.done(`${action.verb}: ${finished - bad} of ${eligible.length} done`)
  return results
}

function keyResult(action: KeyAction, region: string, key: KmsKey, applied: Applied): FleetKeyResult {
  const common = {region, identity: key.identity, slug: key.slug, before: state(key)}
  if (applied.outcome === 'done') {
    const recovered = applied.recoveredFrom ? ` (the API answered ${applied.recoveredFrom.code}, but a re-read shows the change happened)` : ''
    return {...common, outcome: 'done', message: `${action.describe(key, applied.key)}${recovered}`, after: state(applied.key)}
  }
  const {message} = appliedFailure(action, key, applied)
  const after = applied.outcome === 'failed' && applied.reread ? state(applied.reread) : undefined
  return {...common, outcome: applied.outcome, message, after, error: {code: applied.error.code, message: applied.error.message}}
}

/** One line per key that was not done (at most 20), for messages a human reads without --json. */
function notDoneLines(results: FleetKeyResult[]): string {
  const notDone = results.filter((r) => r.outcome !== 'done')
  const lines = notDone.slice(0, 20).map((r) => `  - ${r.slug} (${r.region}): ${r.outcome}: ${r.message}`)
  if (notDone.length > 20) lines.push(`  … and ${notDone.length - 20} more (see --json)`)
  return lines.join('\n')
}

function countOf(matched: number, results: FleetKeyResult[]): FleetResult['counts'] {
  const n = (o: FleetOutcomeKind) => results.filter((r) => r.outcome === o).length
  return {matched, done: n('done'), refused: n('refused'), failed: n('failed'), unknown: n('unknown')}
}
