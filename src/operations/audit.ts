/**
 * audit: the read-only review of `kms.*` audit events. Resolves the window and filters, reads `GET /v1/audit`
 * page by page into an AuditAccumulator (no page is kept) — newest-first logs stop at the first page older than
 * the window, any other order is read in full with bounded concurrency — and lists the keys the rotation check
 * needs. `--file` reviews a `tcloud audit export` offline, with no API call at all. Never prints.
 */
import {readFile, stat} from 'node:fs/promises'
import type {AuditPage, KmsKey} from '../api/schemas.js'
import type {AuditQuery} from '../api/services.js'
import {
  AuditAccumulator, AuditEventSchema, isNewestFirst, pageIsPastWindow, parseAuditFile, parseDuration,
  type AuditEvent, type AuditOptions, type AuditReport, type KeyInfo,
} from '../audit/index.js'
import {ApiError, isKmsGuardError, usageError} from '../cli/errors.js'
import {resolveKey, validateKeyArg} from '../guards/key.js'
import {Pool} from '../util/pool.js'
import type {OperationOutcome} from './common.js'
import type {OperationContext} from './context.js'

const DAY = 86_400_000
/** Page size asked of the audit API: tcloud's default, the one size known to be accepted. */
export const AUDIT_PAGE_SIZE = 100
export const DEFAULT_SINCE = '7d'
const MAX_PRINCIPALS_FILE = 1024 * 1024
const MAX_AUDIT_FILE = 256 * 1024 * 1024
const KEY_IDENTITY = /^kms-[A-Za-z0-9_-]+$/
const ACTION = /^[A-Za-z0-9_.:-]{1,100}$/

// ---------------------------------------------------------------------------------------------- time input

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/

/** True when `text` has the shape of a date or an RFC 3339 time (whether or not the values are valid). */
const looksLikeDate = (text: string): boolean => DATE_TIME.test(text.trim())

/**
 * A point in time from `YYYY-MM-DD` (UTC midnight; with `endOfDay` the following midnight, so the day is
 * included) or an RFC 3339 time with a zone. Impossible dates (2026-02-30) are refused, not rolled over.
 */
export function parseInstant(text: string, flag: string, options: {endOfDay?: boolean} = {}): Date {
  const invalid = () => usageError(`${flag} "${text}" is not a date (YYYY-MM-DD) or an RFC 3339 time (e.g. 2026-12-01T08:00:00Z)`)
  const m = DATE_TIME.exec(text.trim())
  if (m === null) throw invalid()
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number)
  const midnight = new Date(Date.UTC(year, month - 1, day))
  const validDay = midnight.getUTCFullYear() === year && midnight.getUTCMonth() === month - 1 && midnight.getUTCDate() === day
  if (!validDay || hour > 23 || minute > 59 || second > 59) throw invalid()
  if (m[4] === undefined) return new Date(midnight.getTime() + (options.endOfDay ? DAY : 0))
  const zone = m[8]
  let offsetMinutes = 0
  if (!/^z$/i.test(zone)) {
    const [zh, zm] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))]
    if (zh > 23 || zm > 59) throw invalid()
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (zh * 60 + zm)
  }
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000)
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000)
}

/** A look-back start: a duration before `now` (`7d`, `24h`) or a date / RFC 3339 time. */
export function parseSince(text: string, flag: string, now: Date): Date {
  if (looksLikeDate(text)) return parseInstant(text, flag)
  let ms: number
  try {
    ms = parseDuration(text)
  } catch {
    throw usageError(`${flag} "${text}" is neither a duration nor a date`, 'use a duration such as 24h, 7d, 2w or 1mo, or a date YYYY-MM-DD (or an RFC 3339 time)')
  }
  if (ms <= 0) throw usageError(`${flag} must look back more than 0`)
  return new Date(now.getTime() - ms)
}

export interface AuditWindow {
  from: Date
  to: Date
}

/** The review window from `--since` (default 7d) or `--from` [`--to`, inclusive when a date; default now]. */
export function auditWindow(input: {since?: string; from?: string; to?: string}, now: Date): AuditWindow {
  if (input.since !== undefined && (input.from !== undefined || input.to !== undefined)) throw usageError('--since cannot be combined with --from/--to')
  if (input.to !== undefined && input.from === undefined) throw usageError('--to needs --from', 'give both, e.g. --from 2026-11-01 --to 2026-11-30 (the --to day is included)')
  const window = input.from === undefined
    ? {from: parseSince(input.since ?? DEFAULT_SINCE, '--since', now), to: now}
    : {from: parseInstant(input.from, '--from'), to: input.to === undefined ? now : parseInstant(input.to, '--to', {endOfDay: true})}
  if (window.from.getTime() >= window.to.getTime()) {
    throw usageError(`the review window is empty: it starts ${window.from.toISOString()} and ends ${window.to.toISOString()}`, '--from must be before --to (and before now when --to is not given)')
  }
  return window
}

// ------------------------------------------------------------------------------------ expected principals

/** One principal (user subject, email, name, service-account identity or slug) per line; `#` starts a comment. */
export function parseExpectedPrincipals(text: string, fileName: string): Set<string> {
  const principals = new Set<string>()
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim()
    if (line !== '') principals.add(line)
  }
  if (principals.size === 0) throw usageError(`${fileName} lists no principals`, 'one user subject, email or service account per line; an empty list would mark every principal as unexpected')
  return principals
}

/** Reads a small text file the operator named; any problem is an input error naming the file and its source. */
async function readInputFile(path: string, what: string, maxBytes: number): Promise<string> {
  try {
    const info = await stat(path)
    if (!info.isFile()) throw usageError(`${what} ${path} is not a regular file`)
    if (info.size > maxBytes) throw usageError(`${what} ${path} is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`, what === '--file' ? 'export shorter periods (tcloud audit export --daily) and review them one by one' : undefined)
    return await readFile(path, 'utf8')
  } catch (error) {
    if (isKmsGuardError(error)) throw error
    throw usageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

// ------------------------------------------------------------------------------------------- input/result

export interface AuditInput {
  since?: string
  from?: string
  to?: string
  key?: string
  /** Region where KEY is resolved and whose keys are rotation-checked; without it every KMS region's keys. */
  region?: string
  actions?: string[]
  principal?: string
  /** `--expected-principals`; else the `expectedPrincipals` setting. */
  expectedPrincipalsFile?: string
  /** Offline review of a `tcloud audit export` file. */
  file?: string
}

export interface AuditPaging {
  pageSize: number
  /** Pages fetched and analysed. */
  pagesRead: number
  /** As the API reported it on the first page (absent when the API did not say). */
  totalPages?: number
  /** The log was newest first: what the API returned as `newest-first` on every page read and across pages. */
  order: 'newest-first' | 'not-newest-first'
  /** Reading stopped at a page that lies entirely before the window; later pages were not read. */
  stoppedEarly: boolean
  /** Every page had to be read because the order was not newest-first. */
  fullScan: boolean
  /** Audit entries that did not have the shape of an audit log (no timestamp, id or action) and were skipped. */
  skippedItems: number
}

export type AuditKeys = {checked: true; regions: string[]; count: number} | {checked: false; reason: string}

export type AuditResult = AuditReport & {
  source: 'api' | 'file'
  /** Paging of `GET /v1/audit` (API reviews). */
  paging?: AuditPaging
  /** The reviewed export file and how many events it held (offline reviews). */
  file?: {path: string; events: number}
  filters: {key?: string; resourceIdentity?: string; actions?: string[]; principal?: string}
  expectedPrincipals?: {source: string; count: number}
  /** Where the keys for the rotation check came from, or why there are none. */
  keys: AuditKeys
}

// -------------------------------------------------------------------------------------------------- paging

interface FetchedPage {
  events: AuditEvent[]
  /** Items on the page as sent, including skipped ones: an empty page ends the log. */
  items: number
  skipped: number
  totalPages?: number
}

type FetchPage = (page: number, totalPages?: number) => Promise<FetchedPage>

/** One page of the audit log; a failure after the transport's retries names the page. */
const pageFetcher = (ctx: OperationContext, query: Omit<AuditQuery, 'page'>): FetchPage => async (page, totalPages) => {
  let raw: AuditPage
  try {
    raw = await ctx.api.audit.page({...query, page})
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
    const which = `audit page ${page}${totalPages === undefined ? '' : ` of ${totalPages}`}`
    throw new ApiError(error.code, `${which} could not be read, so the review is incomplete and no report was made: ${error.message}`, {
      endpoint: error.endpoint, status: error.status, apiMessage: error.apiMessage, cause: error, details: {page},
      hint: error.hint ?? 'Retry later, or review a `tcloud audit export` file with --file.',
    })
  }
  const events: AuditEvent[] = []
  for (const item of raw.items) {
    const parsed = AuditEventSchema.safeParse(item)
    if (parsed.success) events.push(parsed.data)
  }
  return {events, items: raw.items.length, skipped: raw.items.length - events.length, totalPages: raw.totalPages}
}

const oldest = (events: readonly AuditEvent[]): number => Date.parse(events[events.length - 1].createdAt)

/**
 * Reads the log from page 1. While the order is newest first (within each page and across page boundaries)
 * pages are read one after another until one lies entirely before `from`; as soon as the order is found not
 * to be newest first, every remaining page is read with at most `ctx.concurrency` requests in flight.
 * Paging ends at `totalPages` or at the first empty page.
 */
async function readAuditLog(ctx: OperationContext, fetchPage: FetchPage, first: FetchedPage, from: Date, feed: (events: readonly AuditEvent[]) => void): Promise<AuditPaging> {
  const totalPages = first.totalPages
  const paging: AuditPaging = {pageSize: AUDIT_PAGE_SIZE, pagesRead: 0, totalPages, order: 'newest-first', stoppedEarly: false, fullScan: false, skippedItems: 0}
  const isLast = (page: number, fetched: FetchedPage) => fetched.items === 0 || (totalPages !== undefined && page >= totalPages)
  const progress = ctx.progress.start('Reading the audit log')
  const take = (page: number, fetched: FetchedPage) => {
    feed(fetched.events)
    paging.pagesRead++
    paging.skippedItems += fetched.skipped
    progress.update(`page ${page}${totalPages === undefined ? '' : ` of ${totalPages}`}`)
  }
  try {
    let page = 1
    let current = first
    let previousOldest = Number.POSITIVE_INFINITY
    for (;;) {
      take(page, current)
      if (current.events.length > 0) {
        if (!isNewestFirst(current.events) || Date.parse(current.events[0].createdAt) > previousOldest) break
        previousOldest = oldest(current.events)
      }
      if (isLast(page, current)) return paging
      if (current.events.length > 0 && pageIsPastWindow(current.events, from)) {
        paging.stoppedEarly = true
        return paging
      }
      page++
      current = await fetchPage(page, totalPages)
    }
    paging.order = 'not-newest-first'
    if (!isLast(page, current)) {
      paging.fullScan = true
      await readRemaining(ctx, fetchPage, page + 1, totalPages, take)
    }
    return paging
  } finally {
    await progress.done(`Read ${paging.pagesRead}${totalPages === undefined ? '' : ` of ${totalPages}`} audit pages`)
  }
}

/** Pages `start`…`totalPages` through a bounded pool (sequentially when the total is unknown); stops at an empty page. */
async function readRemaining(ctx: OperationContext, fetchPage: FetchPage, start: number, totalPages: number | undefined, take: (page: number, fetched: FetchedPage) => void): Promise<void> {
  if (totalPages === undefined) {
    for (let page = start; ; page++) {
      const fetched = await fetchPage(page)
      take(page, fetched)
      if (fetched.items === 0) return
    }
  }
  const pool = new Pool(ctx.concurrency, ctx.signal)
  let emptyFrom = Number.POSITIVE_INFINITY
  let failed = false
  const pages = Array.from({length: Math.max(0, totalPages - start + 1)}, (_, index) => start + index)
  await Promise.all(pages.map((page) => pool.run(async () => {
    if (failed || page > emptyFrom) return
    try {
      const fetched = await fetchPage(page, totalPages)
      if (fetched.items === 0) emptyFrom = Math.min(emptyFrom, page)
      take(page, fetched)
    } catch (error) {
      failed = true
      throw error
    }
  })))
}

// ------------------------------------------------------------------------------------------------- keys

/** KeyInfo from an API key; versions without a creation time are left out (they prove nothing). */
const keyInfo = (key: KmsKey): KeyInfo => ({
  identity: key.identity,
  slug: key.slug,
  name: key.name,
  keyRotationEnabled: key.keyRotationEnabled,
  rotationPeriodInDays: key.rotationPeriodInDays,
  createdAt: key.createdAt ?? '',
  status: key.status,
  versions: key.versions?.flatMap((v) => (v.createdAt === undefined ? [] : [{version: v.version, createdAt: v.createdAt}])),
})

/**
 * The keys for the rotation check: of `region`, else of every region where KMS is available. A key with
 * automatic rotation whose list entry carries no versions is read on its own, so its last rotation is known
 * even when the rotation happened before the audit pages that were read. Any failure means "not checked".
 */
async function listKeyInfo(ctx: OperationContext, region: string | undefined): Promise<{keys: KeyInfo[]; regions: string[]} | {reason: string}> {
  let regions: string[] = []
  try {
    regions = region !== undefined ? [region] : (await ctx.api.kms.summary()).regions.filter((r) => r.kmsAvailable).map((r) => r.slug)
    const pool = new Pool(ctx.concurrency, ctx.signal)
    const listed = (await Promise.all(regions.map((r) => pool.run(async () => (await ctx.api.kms.listKeys(r)).map((key) => ({region: r, key})))))).flat()
    const needsDetail = (key: KmsKey) => key.status === 'active' && key.keyRotationEnabled && key.versions === undefined
    const keys = await Promise.all(listed.map(({region: r, key}) => (needsDetail(key) ? pool.run(() => ctx.api.kms.getKey(r, key.identity)) : key)))
    return {keys: keys.map(keyInfo), regions}
  } catch (error) {
    if (ctx.signal.aborted || !isKmsGuardError(error)) throw error
    return {reason: `the keys could not be listed (${error.message})`}
  }
}

// ------------------------------------------------------------------------------------------------- review

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`

function checkFilters(input: AuditInput): {key?: string; actions?: string[]; principal?: string} {
  const actions = input.actions?.map((a) => a.trim())
  const bad = actions?.find((a) => !ACTION.test(a))
  if (bad !== undefined) throw usageError(`--action "${bad}" is not an audit action`, 'give one action per --action, e.g. --action kms.export --action kms.decrypt')
  const principal = input.principal?.trim()
  if (principal === '') throw usageError('--principal must not be empty')
  return {key: input.key === undefined ? undefined : validateKeyArg(input.key), actions: actions?.length ? actions : undefined, principal}
}

async function expectedPrincipals(ctx: OperationContext, input: AuditInput): Promise<{set: Set<string>; source: string} | undefined> {
  const fromFlag = input.expectedPrincipalsFile
  const path = fromFlag ?? ctx.config.settings.expectedPrincipals
  if (path === undefined) return undefined
  const source = fromFlag === undefined ? 'the expectedPrincipals setting' : '--expected-principals'
  const set = parseExpectedPrincipals(await readInputFile(path, source, MAX_PRINCIPALS_FILE), path)
  return {set, source: `${source} ${path}`}
}

/** Review through the API (or from `--file`); see the module comment. */
export async function runAudit(ctx: OperationContext, input: AuditInput): Promise<OperationOutcome<AuditResult>> {
  const filters = checkFilters(input)
  const now = ctx.now()
  const explicitWindow = input.since !== undefined || input.from !== undefined || input.to !== undefined
  const window = auditWindow(input, now)
  const expected = await expectedPrincipals(ctx, input)
  const options: Omit<AuditOptions, 'from' | 'to'> = {
    expectedPrincipals: expected?.set, keyFilter: filters.key, actionFilter: filters.actions, principalFilter: filters.principal,
  }
  const common = {filters, ...(expected === undefined ? {} : {expectedPrincipals: {source: expected.source, count: expected.set.size}})}
  const outcome = input.file === undefined
    ? await reviewApi(ctx, input, window, options, common)
    : await reviewFile(input.file, explicitWindow ? window : undefined, now, options, common)
  const {result, warnings} = outcome
  if (input.file !== undefined && input.region !== undefined) warnings.push('--region is not used by an offline review (--file): no keys are listed')
  if (result.events.seen > 0 && result.events.matched === 0) {
    warnings.push(`none of the ${plural(result.events.seen, 'event')} read matched the window ${result.window.from} – ${result.window.to} and the filters`)
  }
  return {result, guards: [], warnings, dryRun: false}
}

type Common = Pick<AuditResult, 'filters' | 'expectedPrincipals'>

async function reviewApi(ctx: OperationContext, input: AuditInput, window: AuditWindow, options: Omit<AuditOptions, 'from' | 'to'>, common: Common): Promise<{result: AuditResult; warnings: string[]}> {
  const warnings: string[] = []
  let keyFilter = options.keyFilter
  if (keyFilter !== undefined && input.region !== undefined) keyFilter = (await resolveKey(ctx.api, input.region, keyFilter)).identity
  else if (keyFilter !== undefined && !KEY_IDENTITY.test(keyFilter)) {
    warnings.push(`--key ${keyFilter} is not a key identity and no region was given to resolve it: events are matched by the key slug or name they record, which not every event carries; pass -r REGION to resolve the key`)
  }
  const resourceIdentity = keyFilter !== undefined && KEY_IDENTITY.test(keyFilter) ? keyFilter : undefined
  const query: Omit<AuditQuery, 'page'> = {limit: AUDIT_PAGE_SIZE, resourceType: 'kms_key', action: options.actionFilter?.join(','), resourceIdentity}
  const fetchPage = pageFetcher(ctx, query)
  const [listed, first] = await Promise.all([listKeyInfo(ctx, input.region), fetchPage(1)])
  const accumulator = new AuditAccumulator({...options, ...window, keyFilter, keys: 'keys' in listed ? listed.keys : undefined})
  const paging = await readAuditLog(ctx, fetchPage, first, window.from, (events) => events.forEach((event) => accumulator.add(event)))
  const report = accumulator.report()
  let keys: AuditKeys
  if ('keys' in listed) keys = {checked: true, regions: listed.regions, count: listed.keys.length}
  else {
    keys = {checked: false, reason: listed.reason}
    report.summary.rotation = `rotation not checked: ${listed.reason}`
    warnings.push(`rotation not checked: ${listed.reason}`)
  }
  if (paging.fullScan) warnings.push(`the audit log was not returned newest first, so the whole log had to be read (${plural(paging.pagesRead, 'page')})`)
  if (paging.skippedItems > 0) warnings.push(`${plural(paging.skippedItems, 'audit entry', 'audit entries')} had no timestamp, event id or action and ${paging.skippedItems === 1 ? 'was' : 'were'} skipped`)
  const filters = {...common.filters, key: keyFilter, ...(resourceIdentity === undefined ? {} : {resourceIdentity})}
  return {result: {...report, source: 'api', paging, ...common, filters, keys}, warnings}
}

/** The window of an export reviewed without --since/--from: the span of its events (7 days before now when it has none). */
const spanOf = (events: readonly AuditEvent[], now: Date): AuditWindow => {
  if (events.length === 0) return auditWindow({}, now)
  let [first, last] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]
  for (const event of events) {
    const time = Date.parse(event.createdAt)
    first = Math.min(first, time)
    last = Math.max(last, time)
  }
  return {from: new Date(first), to: new Date(last + 1)}
}

async function reviewFile(path: string, window: AuditWindow | undefined, now: Date, options: Omit<AuditOptions, 'from' | 'to'>, common: Common): Promise<{result: AuditResult; warnings: string[]}> {
  const events = parseAuditFile(await readInputFile(path, '--file', MAX_AUDIT_FILE), path)
  const accumulator = new AuditAccumulator({...options, ...(window ?? spanOf(events, now))})
  for (const event of events) accumulator.add(event)
  const report = accumulator.report()
  const reason = 'an offline review (--file) lists no keys'
  report.summary.rotation = `rotation not checked: ${reason}`
  return {result: {...report, source: 'file', file: {path, events: events.length}, ...common, keys: {checked: false, reason}}, warnings: []}
}
