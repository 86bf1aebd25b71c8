/**
 * The audit review: from `kms.*` audit events and the region's keys, find what needs an operator's attention
 * (key exports, failed crypto calls, unusual decrypt volume, overdue rotation). `AuditAccumulator` takes events
 * one at a time, so the command can feed API pages without keeping them; `analyseAudit` wraps it for arrays.
 *
 * The window is half-open: events at or after `from` and before `to` count. Filters (key, action, principal)
 * narrow the events every section looks at, except that rotation evidence (`kms.rotate*` events before `to`)
 * is a fact about a key and is taken whatever the action, principal or window start.
 */
import {usageError} from '../cli/errors.js'
import {contextValue, principalLabelOf, principalNamesOf, principalOf, type AuditEvent} from './events.js'
import {medianAndMad} from './stats.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

export const CRYPTO_ACTIONS: ReadonlySet<string> = new Set(['kms.encrypt', 'kms.decrypt', 'kms.sign', 'kms.verify', 'kms.hmac', 'kms.verify_hmac'])
const ROTATE_ACTIONS: ReadonlySet<string> = new Set(['kms.rotate', 'kms.rotate.scheduled'])

import {DEFAULT_MAD_K, DEFAULT_MIN_HOURLY} from './rule.js'

export {DECRYPT_ANOMALY_RULE} from './rule.js'

/** The key metadata the review needs (a KmsKey from the API fits). */
export interface KeyInfo {
  identity: string
  slug: string
  name: string
  keyRotationEnabled: boolean
  rotationPeriodInDays?: number | null
  createdAt: string
  versions?: ReadonlyArray<{version: number; createdAt: string}>
  status: string
}

export interface AuditOptions {
  from: Date
  to: Date
  keys?: readonly KeyInfo[]
  /** Principals (any of their ids, emails, names or slugs) expected to call crypto; others are flagged. */
  expectedPrincipals?: ReadonlySet<string>
  madK?: number
  minHourlyCount?: number
  /** Key identity, slug or name. */
  keyFilter?: string
  /** Exact action names, e.g. `kms.decrypt`. */
  actionFilter?: readonly string[]
  /** Principal id, email, name or service-account slug. */
  principalFilter?: string
}

export interface ExportFinding {
  time: string
  eventID: string
  principal: string
  principalLabel: string
  impersonator?: string
  key: string
  keySlug?: string
  keyVersion?: string
  /** HTTP status when the event records one: a failed attempt is listed as well. */
  status?: number
}

export interface FailedCryptoFinding {
  principal: string
  principalLabel: string
  /** True when an expected-principal list was given and this principal is not on it. */
  unexpected: boolean
  total: number
  counts: Array<{action: string; key: string; count: number}>
  first: string
  last: string
}

export interface DecryptAnomaly {
  key: string
  principal: string
  principalLabel: string
  median: number
  mad: number
  threshold: number
  totalDecrypts: number
  hours: Array<{hour: string; count: number}>
}

export interface KeyLabel {
  identity: string
  slug: string
  name: string
}

export interface RotationFinding extends KeyLabel {
  periodDays: number
  lastRotation: string
  lastRotationSource: 'audit' | 'version' | 'created'
  dueAt: string
  /** Whole days past due; a key is overdue from one full day past due (rotation runs hourly, not on the dot). */
  daysLate: number
}

export interface AuditReport {
  window: {from: string; to: string; hours: number}
  events: {seen: number; duplicates: number; matched: number}
  exports: ExportFinding[]
  failedCrypto: FailedCryptoFinding[]
  decryptAnomalies: DecryptAnomaly[]
  rotation: {
    checked: boolean
    overdue: RotationFinding[]
    onTime: RotationFinding[]
    noRotation: KeyLabel[]
    notChecked: Array<KeyLabel & {reason: string}>
  }
  summary: {exports: string; failedCrypto: string; decryptAnomalies: string; rotation: string}
  needsAttention: boolean
  reasons: string[]
}

interface FailedGroup {
  label: string
  expected: boolean
  total: number
  counts: Map<string, {action: string; key: string; count: number}>
  first: number
  last: number
}

interface DecryptSeries {
  key: string
  principal: string
  label: string
  total: number
  perHour: Map<number, number>
}

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined

const httpStatus = (event: AuditEvent): number | undefined => {
  const value = Number(contextValue(event, 'status', 'responseStatus'))
  return Number.isInteger(value) && value > 0 ? value : undefined
}

const labelOf = (key: KeyInfo): KeyLabel => ({identity: key.identity, slug: key.slug, name: key.name})

export class AuditAccumulator {
  private readonly from: number
  private readonly to: number
  private readonly firstHour: number
  private readonly hours: number
  private readonly madK: number
  private readonly minHourlyCount: number
  private readonly keyIndex = new Map<string, KeyInfo>()
  private readonly filterKey?: KeyInfo
  private readonly seenIds = new Set<string>()
  private seen = 0
  private duplicates = 0
  private matched = 0
  private readonly exports: ExportFinding[] = []
  private readonly failed = new Map<string, FailedGroup>()
  private readonly decrypts = new Map<string, DecryptSeries>()
  private readonly lastRotation = new Map<string, number>()

  constructor(private readonly options: AuditOptions) {
    this.from = options.from.getTime()
    this.to = options.to.getTime()
    if (!(this.from < this.to)) throw usageError('the audit review window is empty: its start must be before its end')
    this.madK = options.madK ?? DEFAULT_MAD_K
    this.minHourlyCount = options.minHourlyCount ?? DEFAULT_MIN_HOURLY
    if (!(this.madK > 0) || !(this.minHourlyCount >= 0)) throw usageError('the anomaly factor must be positive and the minimum hourly count not negative')
    this.firstHour = Math.floor(this.from / HOUR)
    this.hours = Math.floor((this.to - 1) / HOUR) - this.firstHour + 1
    for (const key of options.keys ?? []) {
      for (const ref of [key.name, key.slug, key.identity]) this.keyIndex.set(ref, key)
    }
    this.filterKey = options.keyFilter === undefined ? undefined : this.keyIndex.get(options.keyFilter)
  }

  /** Feeds one event; events may come in any order, and repeats (same eventID) are counted once. */
  add(event: AuditEvent): void {
    this.seen++
    if (event.eventID !== '') {
      if (this.seenIds.has(event.eventID)) {
        this.duplicates++
        return
      }
      this.seenIds.add(event.eventID)
    }
    const time = Date.parse(event.createdAt)
    const key = this.keyOf(event)
    if (ROTATE_ACTIONS.has(event.action) && time < this.to) {
      this.lastRotation.set(key.id, Math.max(time, this.lastRotation.get(key.id) ?? -Infinity))
    }
    if (time < this.from || time >= this.to || !this.matches(event, key)) return
    this.matched++
    if (event.action === 'kms.export') this.addExport(event, key, time)
    if (!CRYPTO_ACTIONS.has(event.action)) return
    if ((httpStatus(event) ?? 0) >= 400) this.addFailure(event, key.id, time)
    if (event.action === 'kms.decrypt') this.addDecrypt(event, key.id, time)
  }

  report(): AuditReport {
    const exports = [...this.exports].sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
    const failedCrypto = this.failedFindings()
    const decryptAnomalies = this.anomalies()
    const rotation = this.rotation()
    const expectedGiven = this.options.expectedPrincipals !== undefined
    const attentionFailures = failedCrypto.filter((group) => !expectedGiven || group.unexpected)
    const reasons = [
      ...exports.map((found) => `key export: ${found.keySlug ?? found.key}${found.keyVersion === undefined ? '' : ` version ${found.keyVersion}`} by ${found.principalLabel} at ${found.time}${found.status !== undefined && found.status >= 400 ? ` (failed, HTTP ${found.status})` : ''}`),
      ...attentionFailures.map((group) => `failed crypto by ${expectedGiven ? 'unexpected principal ' : ''}${group.principalLabel}: ${plural(group.total, 'call')}`),
      ...decryptAnomalies.map((found) => {
        const peak = found.hours.reduce((best, hour) => (hour.count > best.count ? hour : best))
        return `unusual decrypt volume by ${found.principalLabel} on ${found.key}: ${peak.count} in the hour from ${peak.hour} (threshold ${found.threshold})`
      }),
      ...rotation.overdue.map((found) => `rotation overdue: ${found.slug} is ${plural(found.daysLate, 'day')} late (every ${found.periodDays} days, last ${found.lastRotation})`),
    ]
    return {
      window: {from: new Date(this.from).toISOString(), to: new Date(this.to).toISOString(), hours: this.hours},
      events: {seen: this.seen, duplicates: this.duplicates, matched: this.matched},
      exports,
      failedCrypto,
      decryptAnomalies,
      rotation,
      summary: {
        exports: exports.length === 0 ? 'no key exports' : `${plural(exports.length, 'key export')} — every export needs review`,
        failedCrypto: failedCrypto.length === 0
          ? 'no failed crypto calls'
          : `${plural(failedCrypto.reduce((sum, group) => sum + group.total, 0), 'failed crypto call')} by ${plural(failedCrypto.length, 'principal')}` +
            (expectedGiven ? ` (${attentionFailures.length} unexpected)` : ''),
        decryptAnomalies: decryptAnomalies.length === 0
          ? 'no unusual decrypt volume'
          : `unusual decrypt volume for ${plural(decryptAnomalies.length, 'key/principal pair')}`,
        rotation: rotation.checked
          ? `${plural(rotation.overdue.length + rotation.onTime.length, 'key')} with automatic rotation, ${rotation.overdue.length} overdue; ` +
            `${plural(rotation.noRotation.length, 'key')} without automatic rotation`
          : 'rotation not checked (no key list)',
      },
      needsAttention: reasons.length > 0,
      reasons,
    }
  }

  /** The event's key: the known key it names (by identity or slug), else whatever reference it carries. */
  private keyOf(event: AuditEvent): {id: string; slug?: string; refs: string[]} {
    const slug = text(contextValue(event, 'keySlug', 'key_slug', 'slug'))
    const refs = [event.resourceIdentity, slug].filter((ref): ref is string => typeof ref === 'string' && ref !== '')
    const known = refs.map((ref) => this.keyIndex.get(ref)).find((key) => key !== undefined)
    return {id: known?.identity ?? refs[0] ?? 'unknown', slug: known?.slug ?? slug, refs}
  }

  private matches(event: AuditEvent, key: {id: string; refs: string[]}): boolean {
    const {keyFilter, actionFilter, principalFilter} = this.options
    if (keyFilter !== undefined && key.id !== this.filterKey?.identity && !key.refs.includes(keyFilter)) return false
    if (actionFilter !== undefined && actionFilter.length > 0 && !actionFilter.includes(event.action)) return false
    return principalFilter === undefined || principalNamesOf(event).includes(principalFilter)
  }

  private isExpected(event: AuditEvent): boolean {
    const expected = this.options.expectedPrincipals
    return expected !== undefined && principalNamesOf(event).some((name) => expected.has(name))
  }

  private addExport(event: AuditEvent, key: {id: string; slug?: string}, time: number): void {
    const version = text(contextValue(event, 'keyVersion', 'key_version', 'version'))
    const status = httpStatus(event)
    this.exports.push({
      time: new Date(time).toISOString(),
      eventID: event.eventID,
      principal: principalOf(event),
      principalLabel: principalLabelOf(event),
      ...(event.impersonatorIdentity ? {impersonator: event.impersonatorIdentity} : {}),
      key: key.id,
      ...(key.slug === undefined ? {} : {keySlug: key.slug}),
      ...(version === undefined ? {} : {keyVersion: version}),
      ...(status === undefined ? {} : {status}),
    })
  }

  private addFailure(event: AuditEvent, key: string, time: number): void {
    const principal = principalOf(event)
    const group = this.failed.get(principal) ?? {label: principalLabelOf(event), expected: false, total: 0, counts: new Map(), first: time, last: time}
    this.failed.set(principal, group)
    group.expected ||= this.isExpected(event)
    group.total++
    group.first = Math.min(group.first, time)
    group.last = Math.max(group.last, time)
    const slot = `${event.action}\u0000${key}`
    const count = group.counts.get(slot) ?? {action: event.action, key, count: 0}
    count.count++
    group.counts.set(slot, count)
  }

  private addDecrypt(event: AuditEvent, key: string, time: number): void {
    const principal = principalOf(event)
    const id = `${key}\u0000${principal}`
    const series = this.decrypts.get(id) ?? {key, principal, label: principalLabelOf(event), total: 0, perHour: new Map()}
    this.decrypts.set(id, series)
    const hour = Math.floor(time / HOUR) - this.firstHour
    series.perHour.set(hour, (series.perHour.get(hour) ?? 0) + 1)
    series.total++
  }

  private failedFindings(): FailedCryptoFinding[] {
    const expectedGiven = this.options.expectedPrincipals !== undefined
    return [...this.failed].map(([principal, group]) => ({
      principal,
      principalLabel: group.label,
      unexpected: expectedGiven && !group.expected,
      total: group.total,
      counts: [...group.counts.values()].sort((a, b) => b.count - a.count),
      first: new Date(group.first).toISOString(),
      last: new Date(group.last).toISOString(),
    })).sort((a, b) => Number(b.unexpected) - Number(a.unexpected) || b.total - a.total)
  }

  private anomalies(): DecryptAnomaly[] {
    const found: DecryptAnomaly[] = []
    for (const series of this.decrypts.values()) {
      const {median, mad} = medianAndMad([...series.perHour.values()], this.hours - series.perHour.size)
      const threshold = median + this.madK * Math.max(mad, 1)
      const hours = [...series.perHour]
        .filter(([, count]) => count > threshold && count >= this.minHourlyCount)
        .sort(([a], [b]) => a - b)
        .map(([hour, count]) => ({hour: new Date((this.firstHour + hour) * HOUR).toISOString(), count}))
      if (hours.length > 0) {
        found.push({key: series.key, principal: series.principal, principalLabel: series.label, median, mad, threshold, totalDecrypts: series.total, hours})
      }
    }
    const peak = (anomaly: DecryptAnomaly) => Math.max(...anomaly.hours.map((hour) => hour.count))
    return found.sort((a, b) => peak(b) - peak(a))
  }

  private rotation(): AuditReport['rotation'] {
    const all = this.options.keys ?? []
    const keys = this.options.keyFilter === undefined ? all : all.filter((key) => key === this.filterKey)
    const result: AuditReport['rotation'] = {checked: this.options.keys !== undefined, overdue: [], onTime: [], noRotation: [], notChecked: []}
    for (const key of keys) {
      const period = key.rotationPeriodInDays ?? 0
      if (key.status !== 'active') result.notChecked.push({...labelOf(key), reason: `key is ${key.status}`})
      else if (!key.keyRotationEnabled) result.noRotation.push(labelOf(key))
      else if (!(period > 0)) result.notChecked.push({...labelOf(key), reason: 'automatic rotation is enabled without a period'})
      else {
        const last = this.lastRotationOf(key)
        if (last === undefined) {
          result.notChecked.push({...labelOf(key), reason: 'the key was created after the review window'})
          continue
        }
        const due = last.time + period * DAY
        const daysLate = Math.floor((this.to - due) / DAY)
        const finding = {...labelOf(key), periodDays: period, lastRotation: new Date(last.time).toISOString(), lastRotationSource: last.source,
          dueAt: new Date(due).toISOString(), daysLate: Math.max(daysLate, 0)}
        ;(daysLate >= 1 ? result.overdue : result.onTime).push(finding)
      }
    }
    result.overdue.sort((a, b) => b.daysLate - a.daysLate)
    return result
  }

  /** The latest evidence of a rotation before the window's end: audit event, newest version, or creation. */
  private lastRotationOf(key: KeyInfo): {time: number; source: RotationFinding['lastRotationSource']} | undefined {
    const candidates: Array<{time: number; source: RotationFinding['lastRotationSource']}> = [
      {time: this.lastRotation.get(key.identity) ?? NaN, source: 'audit'},
      ...(key.versions ?? []).map((version) => ({time: Date.parse(version.createdAt), source: 'version' as const})),
      {time: Date.parse(key.createdAt), source: 'created'},
    ]
    return candidates
      .filter((candidate) => !Number.isNaN(candidate.time) && candidate.time < this.to)
      .reduce<{time: number; source: RotationFinding['lastRotationSource']} | undefined>((best, candidate) => (best === undefined || candidate.time > best.time ? candidate : best), undefined)
  }
}

/** Reviews a complete set of events (see AuditAccumulator for paged input). */
export const analyseAudit = (events: Iterable<AuditEvent>, options: AuditOptions): AuditReport => {
  const accumulator = new AuditAccumulator(options)
  for (const event of events) accumulator.add(event)
  return accumulator.report()
}
