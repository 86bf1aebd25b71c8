import {Flags} from '@oclif/core'
import {DECRYPT_ANOMALY_RULE} from '../src/audit/rule.js'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {ExitCode} from '../src/cli/errors.js'
import {concurrencyFlag, regionFlag} from '../src/cli/flags.js'
import type {AuditResult} from '../src/operations/audit.js'
import {table} from '../src/ui/table.js'

const MAX_REASONS_IN_WARNING = 5

export default class Audit extends BaseCommand<AuditResult> {
  static override summary = 'Review kms.* audit events and flag what needs attention (exports, failed crypto, unusual decrypts, overdue rotation)'
  static override description = [
    'Read-only. Reads GET /v1/audit (resourceType kms_key) for the review window, or reviews a `tcloud audit export` file offline with --file (no API call, no credentials).',
    'The report lists, in this order: key exports (every one needs review), failed crypto calls by principal (principals missing from the expected-principals list are marked unexpected), unusual decrypt volume, and keys whose automatic rotation is overdue.',
    'The audit API has no time filter. When it returns events newest first, pages are read until one lies entirely before the window; otherwise the whole log is read (with --concurrency requests in flight) and a warning says so.',
    DECRYPT_ANOMALY_RULE,
    'Exit codes: 0 nothing needs attention; 8 (AUDIT_ATTENTION) something needs attention — the full report is still printed, and with --json the envelope has status "ok", the report, and a warning naming the reasons; 2 bad flags or files; 6 an API error, including an audit page that could not be read after retries (no partial report is made).',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> audit',
    '<%= config.bin %> audit --since 24h --key billing-db -r nl-01',
    '<%= config.bin %> audit --from 2026-11-01 --to 2026-11-30 --action kms.export --json',
    '<%= config.bin %> audit --expected-principals ./principals.txt',
    '<%= config.bin %> audit --file audit-logs-duration-20261204-120000.json',
  ]
  static override flags = {
    ...regionFlag,
    ...concurrencyFlag,
    since: Flags.string({description: 'review window: a duration back from now (24h, 7d, 2w, 1mo) or a start date; default 7d', exclusive: ['from', 'to']}),
    from: Flags.string({description: 'window start: YYYY-MM-DD (UTC) or RFC 3339 time'}),
    to: Flags.string({description: 'window end: YYYY-MM-DD (that day included) or RFC 3339 time; default now', dependsOn: ['from']}),
    key: Flags.string({description: 'only this key: identity (kms-…), or slug/name resolved in --region'}),
    action: Flags.string({description: 'only this action, e.g. kms.export (repeatable)', multiple: true}),
    principal: Flags.string({description: 'only this principal: user subject, email or name, service-account identity or slug'}),
    'expected-principals': Flags.string({description: 'file listing the principals expected to use keys, one per line, # comments (else the expectedPrincipals setting)'}),
    file: Flags.string({description: 'review a `tcloud audit export` file offline (no API calls); without --since/--from the window is the span of its events'}),
  }

  private needsAttention = false

  public override async run(): Promise<unknown> {
    const result = await super.run()
    // Success with findings: the report has been rendered in full (or is in the --json envelope); only the exit code differs.
    if (this.needsAttention) process.exitCode = ExitCode.ATTENTION
    return result
  }

  protected async execute(): Promise<Outcome<AuditResult>> {
    const {runAudit} = await import('../src/operations/audit.js')
    const f = this.flagsOf as {since?: string; from?: string; to?: string; key?: string; action?: string[]; principal?: string; 'expected-principals'?: string; file?: string; region?: string}
    const cfg = await this.resolved()
    const region = f.file !== undefined ? f.region : cfg.region === undefined ? undefined : await this.region()
    const outcome = await runAudit(await this.operationContext(), {
      since: f.since, from: f.from, to: f.to, key: f.key, region, actions: f.action, principal: f.principal,
      expectedPrincipalsFile: f['expected-principals'], file: f.file,
    })
    const {reasons} = outcome.result
    this.needsAttention = outcome.result.needsAttention
    // The human report ends with its own "Needs attention" list; the warning is for --json consumers.
    if (outcome.result.needsAttention && this.jsonEnabled()) {
      const shown = reasons.slice(0, MAX_REASONS_IN_WARNING).join('; ')
      const more = reasons.length > MAX_REASONS_IN_WARNING ? `; and ${reasons.length - MAX_REASONS_IN_WARNING} more` : ''
      const findings = reasons.length === 1 ? '1 finding needs' : `${reasons.length} findings need`
      outcome.warnings.push(`AUDIT_ATTENTION (exit ${ExitCode.ATTENTION}): ${findings} attention: ${shown}${more}`)
    }
    return outcome
  }

  protected renderHuman({result}: Outcome<AuditResult>): void {
    this.log(renderAuditReport(result))
  }
}

const TIME = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z')

/** The human report: exports first, then failed crypto, decrypt anomalies and rotation, each with its summary line. */
export function renderAuditReport(r: AuditResult): string {
  const out: string[] = []
  const section = (title: string, summary: string, body?: string) => out.push('', `${title}: ${summary}`, ...(body === undefined ? [] : [body]))

  const source = r.source === 'file'
    ? `file ${r.file?.path} (${r.file?.events} events)`
    : `API, ${r.paging?.pagesRead}${r.paging?.totalPages === undefined ? '' : ` of ${r.paging.totalPages}`} pages read` +
      (r.paging?.stoppedEarly ? ' (the rest lie before the window)' : r.paging?.fullScan ? ' (whole log: it was not newest first)' : '')
  out.push(`Audit review ${TIME(r.window.from)} – ${TIME(r.window.to)} (${r.window.hours} h), source: ${source}`)
  out.push(`Events: ${r.events.seen} read, ${r.events.duplicates} duplicates, ${r.events.matched} in the window and filters`)
  const filters = [r.filters.key && `key ${r.filters.key}`, r.filters.actions && `actions ${r.filters.actions.join(', ')}`, r.filters.principal && `principal ${r.filters.principal}`].filter(Boolean)
  if (filters.length > 0) out.push(`Filters: ${filters.join('; ')}`)
  if (r.expectedPrincipals) out.push(`Expected principals: ${r.expectedPrincipals.count} from ${r.expectedPrincipals.source}`)

  section('KEY EXPORTS', r.summary.exports, r.exports.length === 0 ? undefined : table(['TIME', 'PRINCIPAL', 'KEY', 'VERSION', 'STATUS', 'IMPERSONATOR'],
    r.exports.map((e) => [TIME(e.time), e.principalLabel, e.keySlug ?? e.key, e.keyVersion, e.status === undefined ? undefined : e.status >= 400 ? `failed (${e.status})` : e.status, e.impersonator])))

  section('FAILED CRYPTO', r.summary.failedCrypto, r.failedCrypto.length === 0 ? undefined : table(['PRINCIPAL', 'EXPECTED', 'CALLS', 'BY ACTION AND KEY', 'FIRST', 'LAST'],
    r.failedCrypto.map((g) => [g.principalLabel, r.expectedPrincipals === undefined ? '-' : g.unexpected ? 'NO (unexpected)' : 'yes', g.total,
      g.counts.map((c) => `${c.action} ${c.key} ×${c.count}`).join(', '), TIME(g.first), TIME(g.last)])))

  section('UNUSUAL DECRYPT VOLUME', r.summary.decryptAnomalies, r.decryptAnomalies.length === 0 ? undefined : table(['KEY', 'PRINCIPAL', 'HOUR (UTC)', 'DECRYPTS', 'MEDIAN/H', 'MAD', 'THRESHOLD'],
    r.decryptAnomalies.flatMap((a) => a.hours.map((h) => [a.key, a.principalLabel, TIME(h.hour), h.count, a.median, a.mad, a.threshold]))))

  const rot = r.rotation
  const rotationRows = [
    ...rot.overdue.map((k) => [k.slug, `${k.periodDays}d`, TIME(k.lastRotation), k.lastRotationSource, TIME(k.dueAt), `OVERDUE ${k.daysLate}d`]),
    ...rot.notChecked.map((k) => [k.slug, '-', '-', '-', '-', `not checked: ${k.reason}`]),
  ]
  const regions = r.keys.checked ? ` (keys of ${r.keys.regions.join(', ') || 'no region'})` : ''
  section(`ROTATION${regions}`, r.summary.rotation, rotationRows.length === 0 ? undefined : table(['KEY', 'PERIOD', 'LAST ROTATION', 'FROM', 'DUE', 'STATE'], rotationRows))

  out.push('', r.needsAttention ? `Needs attention (exit ${ExitCode.ATTENTION}):\n${r.reasons.map((reason) => `  - ${reason}`).join('\n')}` : 'Nothing needs attention.')
  return out.join('\n')
}
