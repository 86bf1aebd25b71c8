/**
 * The references guard: what depends on a KMS key (Secrets Manager secrets bound to it, DNS zones whose
 * DNSSEC signs with it) and the verdict for `delete`. The scan itself lives in references-scan.ts; this module
 * holds the report types, the verdicts, and the wording shared by `delete`, `references` and `disable`.
 *
 * Fail closed: a reference found always refuses deletion; a scan that could not read everything refuses it
 * too, unless the operator accepts the gap explicitly (--accept-incomplete-scan --reason), which is recorded.
 */
import {ExitCode, KmsGuardError} from '../cli/errors.js'
import type {GuardResult} from './types.js'

export type Reference =
  | {type: 'secret'; path: string; region: string; project: string | null}
  | {type: 'dnssec-zone'; zone: string; identity: string; region: string; project: string | null}

export interface Unread {
  /** 'projects list', 'secrets list', 'zones list' or 'dnssec status'. */
  what: string
  /** 'organisation' or a project identity. */
  scope: string
  /** The zone name, for a DNSSEC status. */
  target?: string
  /** Error code and message; never a secret. */
  error: string
}

export interface ScanReport {
  key: {identity: string; slug: string}
  region: string
  references: Reference[]
  scanned: {scopes: number; secretLists: number; secrets: number; zoneLists: number; zones: number; dnssecChecked: number; requests: number}
  unread: Unread[]
  complete: boolean
  durationMs: number
}

export {scanReferences, type ScanInput} from './references-scan.js'

/** How many lines of references / unread sources an error message lists before "… and N more". */
const LISTED = 20

const scopeName = (project: string | null) => (project === null ? 'organisation scope' : `project ${project}`)

export function describeReference(r: Reference): string {
  if (r.type === 'secret') return `secret ${r.path} (${scopeName(r.project)}, ${r.region}): move its value to a new secret bound to another key (a secret's key cannot be changed), then delete this one`
  return `DNSSEC zone ${r.zone} (${r.identity}, ${scopeName(r.project)}, ${r.region}): move the zone's DNSSEC signing to another key, or disable DNSSEC on the zone`
}

export function describeUnread(u: Unread): string {
  const scope = u.scope === 'organisation' ? 'organisation scope' : `project ${u.scope}`
  return `${u.what}${u.target ? ` for ${u.target}` : ''} (${scope}): ${u.error}`
}

export function describeScanned(s: ScanReport['scanned']): string {
  return `${s.scopes} scope(s), ${s.secrets} secret(s), ${s.zones} zone(s), ${s.dnssecChecked} DNSSEC status(es) checked, ${s.requests} request(s)`
}

function listed<T>(items: T[], show: (item: T) => string): string[] {
  const lines = items.slice(0, LISTED).map((i) => `  - ${show(i)}`)
  if (items.length > LISTED) lines.push(`  … and ${items.length - LISTED} more (see --json)`)
  return lines
}

function counted(references: Reference[]): string {
  const secrets = references.filter((r) => r.type === 'secret').length
  const zones = references.length - secrets
  return [secrets > 0 ? `${secrets} secret(s)` : '', zones > 0 ? `${zones} DNSSEC zone(s)` : ''].filter(Boolean).join(' and ')
}

const who = (report: ScanReport) => `${report.key.slug} (${report.key.identity})`
const detailsOf = (report: ScanReport) => ({references: report.references, scanned: report.scanned, unread: report.unread})

/** The SCAN_INCOMPLETE refusal (exit 4), listing exactly what could not be read. */
function incompleteError(report: ScanReport, prior: GuardResult[], prefix: string, hint: string): KmsGuardError {
  const details = detailsOf(report)
  const guard: GuardResult = {guard: 'references', outcome: 'fail', message: `the reference scan is incomplete: ${report.unread.length} source(s) could not be read`, details}
  const message = [`${prefix}the reference scan of ${who(report)} could not read ${report.unread.length} source(s), so it cannot prove that nothing uses the key:`, ...listed(report.unread, describeUnread)].join('\n')
  return new KmsGuardError('SCAN_INCOMPLETE', ExitCode.DELETE_REFUSED, message, {guards: [...prior, guard], details, hint})
}

const ACCESS_HINT = 'The caller needs read access to projects, Secrets Manager and DNS (zones and DNSSEC) in the organisation and every project; fix the access or the API problem and re-run.'

/**
 * The delete verdict. Passes when the scan is complete and found nothing. References found always throw
 * REFERENCES_FOUND (no flag overrides them); an incomplete scan throws SCAN_INCOMPLETE unless
 * `acceptIncomplete` is given, in which case the verdict is `warn` and names the override and its reason.
 */
export function referencesGuard(report: ScanReport, opts: {acceptIncomplete?: {reason: string}}, prior: GuardResult[]): GuardResult {
  const details = detailsOf(report)
  if (report.references.length > 0) {
    const guard: GuardResult = {guard: 'references', outcome: 'fail', message: `${who(report)} is in use by ${counted(report.references)}`, details}
    const lines = [`deletion refused: ${who(report)} is used by ${counted(report.references)}; deal with each first:`, ...listed(report.references, describeReference)]
    if (!report.complete) lines.push(`The scan was also incomplete (${report.unread.length} source(s) unread), so there may be more.`)
    const hint = `After moving every reference, re-run kmsguard references ${report.key.slug} -r ${report.region} to check.${opts.acceptIncomplete ? ' --accept-incomplete-scan never overrides references that were found.' : ''}`
    throw new KmsGuardError('REFERENCES_FOUND', ExitCode.DELETE_REFUSED, lines.join('\n'), {guards: [...prior, guard], details, hint})
  }
  if (!report.complete) {
    if (!opts.acceptIncomplete) throw incompleteError(report, prior, 'deletion refused: ', `${ACCESS_HINT} To delete anyway, accepting the gap, pass --accept-incomplete-scan --reason TEXT (recorded in the journal).`)
    return {guard: 'references', outcome: 'warn', message: `no references found, but ${report.unread.length} source(s) could not be read; accepted by --accept-incomplete-scan (reason: ${opts.acceptIncomplete.reason})`, details}
  }
  return {guard: 'references', outcome: 'pass', message: `nothing uses ${who(report)} (scanned ${describeScanned(report.scanned)})`, details}
}

/**
 * The verdict of the read-only `references` report: references are information (`warn`, exit 0), but an
 * incomplete scan is SCAN_INCOMPLETE (exit 4) so a script cannot take it for "nothing uses the key".
 */
export function referencesReportGuard(report: ScanReport, prior: GuardResult[]): GuardResult {
  if (!report.complete) throw incompleteError(report, prior, '', ACCESS_HINT)
  if (report.references.length > 0) return {guard: 'references', outcome: 'warn', message: `${who(report)} is in use by ${counted(report.references)}`, details: detailsOf(report)}
  return {guard: 'references', outcome: 'pass', message: `nothing uses ${who(report)} (scanned ${describeScanned(report.scanned)})`, details: detailsOf(report)}
}
