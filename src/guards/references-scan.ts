/**
 * The reference scan: which Secrets Manager secrets and which DNSSEC-signed DNS zones use a KMS key, in the
 * organisation scope and in every project.
 *
 * Shape: one shared Pool for every request, and the levels are pipelined — the organisation scope starts at
 * once, each project's secrets list and zone list start as soon as the projects list arrives, and each zone's
 * DNSSEC read is queued as soon as its zone list arrives. Secret lists are counted and dropped; only matches
 * are kept.
 *
 * Fail closed: every read that fails (API error after retries, timeout, malformed body, 403/404 on a whole
 * service) becomes an `Unread` entry and makes the report incomplete; one failure never stops the other reads.
 * A secret whose listing names no KMS key, and a zone whose DNSSEC is on without naming its key, are unread
 * too: the scan cannot tell whether they use this key. `timeoutMs` bounds the whole scan (reads not finished
 * by then are unread, "timed out"); `ctx.signal` aborts it.
 */
import type {DnsZone, DnssecStatus, KmsKey, Secret} from '../api/schemas.js'
import {isKmsGuardError} from '../cli/errors.js'
import type {OperationContext} from '../operations/context.js'
import type {Progress} from '../ui/progress.js'
import {Pool} from '../util/pool.js'
import type {Reference, ScanReport, Unread} from './references.js'

export interface ScanInput {
  /** The region slug (as used in API paths and in DNSSEC statuses). */
  region: string
  key: KmsKey
  /** Bound on the whole scan, in ms; reads not finished by then are recorded as unread. */
  timeoutMs?: number
  /** Other names of the same region (its identity, what the operator typed): matched like the slug. */
  regionAliases?: string[]
}

type Where = Omit<Unread, 'error'>

const TIMED_OUT = Symbol('timed out')
const PROGRESS_EVERY_MS = 150
const SAMPLE = 3

const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase()

export async function scanReferences(ctx: OperationContext, input: ScanInput): Promise<ScanReport> {
  return new Scan(ctx, input).run()
}

class Scan {
  private readonly pool: Pool
  private readonly regions: string[]
  private readonly references: Reference[] = []
  private readonly unread: Unread[] = []
  private readonly scanned = {scopes: 0, secretLists: 0, secrets: 0, zoneLists: 0, zones: 0, dnssecChecked: 0, requests: 0}
  private readonly zonesSeen = new Set<string>()
  private readonly deadline?: number
  private progress!: Progress
  private lastProgress = 0
  /** Resolves with TIMED_OUT at the deadline; rejects when ctx.signal aborts. Every read races it. */
  private stop!: Promise<typeof TIMED_OUT>

  constructor(private readonly ctx: OperationContext, private readonly input: ScanInput) {
    this.pool = new Pool(ctx.concurrency, ctx.signal)
    this.regions = [input.region, ...(input.regionAliases ?? [])]
    if (input.timeoutMs !== undefined) this.deadline = Date.now() + input.timeoutMs
  }

  async run(): Promise<ScanReport> {
    const started = Date.now()
    this.progress = this.ctx.progress.start('Scanning references')
    const disarm = this.arm()
    let finished = false
    try {
      await Promise.all([this.scanScope(null), this.projectScopes().then((scopes) => Promise.all(scopes.map((p) => this.scanScope(p))))])
      finished = true
    } finally {
      disarm()
      await this.progress.done(finished ? this.doneLine() : 'Reference scan interrupted')
    }
    const {identity, slug} = this.input.key
    return {key: {identity, slug}, region: this.input.region, references: this.references, scanned: {...this.scanned}, unread: this.unread, complete: this.unread.length === 0, durationMs: Date.now() - started}
  }

  /** Sets up the deadline timer and the abort hook behind `stop`; returns their cleanup. */
  private arm(): () => void {
    let timer: NodeJS.Timeout | undefined
    let onAbort = () => {}
    const signal = this.ctx.signal
    this.stop = new Promise<typeof TIMED_OUT>((resolve, reject) => {
      if (this.deadline !== undefined) timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, this.deadline - Date.now()))
      onAbort = () => reject(signal.reason)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, {once: true})
    })
    this.stop.catch(() => undefined)
    return () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  /**
   * One read through the shared pool. Resolves with the value, or with undefined after recording an Unread
   * entry (failure or deadline). Only an abort (ctx.signal) rejects.
   */
  private async read<T>(where: Where, call: (timeoutMs?: number) => Promise<T>): Promise<T | undefined> {
    const attempt = this.pool.run(async () => {
      const timeoutMs = this.remaining()
      if (timeoutMs !== undefined && timeoutMs <= 0) throw TIMED_OUT
      this.scanned.requests++
      return call(timeoutMs)
    }).then((value) => ({value}), (error: unknown) => ({error}))
    const settled = await Promise.race([attempt, this.stop])
    if (settled !== TIMED_OUT && 'value' in settled) return settled.value
    if (this.ctx.signal.aborted) throw this.ctx.signal.reason
    this.unread.push({...where, error: settled === TIMED_OUT || settled.error === TIMED_OUT ? `TIMEOUT: not read within the scan's ${this.input.timeoutMs} ms limit` : describeError(settled.error)})
    return undefined
  }

  private remaining(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now()
  }

  /** Project identities from GET /v1/projects, plus the configured --project if the list lacks it. */
  private async projectScopes(): Promise<string[]> {
    const projects = await this.read({what: 'projects list', scope: 'organisation'}, (t) => this.ctx.api.projects.list(t))
    const scopes = new Set((projects ?? []).map((p) => p.identity))
    const configured = this.ctx.api.transport.project
    if (configured && !(projects ?? []).some((p) => same(p.identity, configured) || same(p.slug, configured))) scopes.add(configured)
    return [...scopes]
  }

  private async scanScope(project: string | null): Promise<void> {
    this.scanned.scopes++
    await Promise.all([this.scanSecrets(project), this.scanZones(project)])
  }

  private async scanSecrets(project: string | null): Promise<void> {
    const scope = project ?? 'organisation'
    const list = await this.read({what: 'secrets list', scope}, (t) => this.ctx.api.secrets.list(this.input.region, project, '/', t))
    if (!list) return
    this.scanned.secretLists++
    this.scanned.secrets += list.length
    const unbound: string[] = []
    let unboundCount = 0
    for (const secret of list) {
      if (!this.inRegion(secret.region)) continue
      if (!secret.kmsKey?.identity && !secret.kmsKey?.slug && !secret.kmsKeyIdentity) {
        if (unboundCount++ < SAMPLE) unbound.push(secret.path)
      } else if (secretUsesKey(secret, this.input.key)) {
        this.references.push({type: 'secret', path: secret.path, region: this.input.region, project})
      }
    }
    if (unboundCount > 0) this.unread.push({what: 'secrets list', scope, error: `UNBOUND_SECRETS: ${unboundCount} secret(s) are listed without their KMS key (${unbound.join(', ')}${unboundCount > SAMPLE ? ', …' : ''}); whether they use this key is unknown`})
    this.tick()
  }

  private async scanZones(project: string | null): Promise<void> {
    const scope = project ?? 'organisation'
    const zones = await this.read({what: 'zones list', scope}, (t) => this.ctx.api.dns.zones(project, t))
    if (!zones) return
    this.scanned.zoneLists++
    const fresh = zones.filter((z) => !this.zonesSeen.has(z.identity))
    for (const z of fresh) this.zonesSeen.add(z.identity)
    this.scanned.zones += fresh.length
    this.tick()
    await Promise.all(fresh.map((zone) => this.checkZone(zone, zone.projectId ?? project)))
  }

  private async checkZone(zone: DnsZone, project: string | null): Promise<void> {
    const where: Where = {what: 'dnssec status', scope: project ?? 'organisation', target: zone.name}
    const status = await this.read(where, (t) => this.ctx.api.dns.dnssec(zone.identity, project, t))
    if (!status) return
    this.scanned.dnssecChecked++
    if (status.enabled && !status.kmsKeyIdentity) this.unread.push({...where, error: 'NO_KEY_NAMED: DNSSEC is enabled but the status names no KMS key; whether it uses this key is unknown'})
    else if (this.zoneUsesKey(status)) this.references.push({type: 'dnssec-zone', zone: zone.name, identity: zone.identity, region: status.region ?? this.input.region, project})
    this.tick()
  }

  /** A secret's region, when the listing names one, must be this region (the list is per region anyway). */
  private inRegion(region: Secret['region']): boolean {
    if (region === undefined) return true
    const names = typeof region === 'string' ? [region] : [region.slug, region.identity].filter((n): n is string => Boolean(n))
    return names.length === 0 || names.some((n) => this.regions.some((r) => same(n, r)))
  }

  /** Enabled, signing with this key (by identity or slug), in this region — a missing region counts (fail safe). */
  private zoneUsesKey(status: DnssecStatus): boolean {
    const key = this.input.key
    if (!status.enabled || !(same(status.kmsKeyIdentity, key.identity) || same(status.kmsKeyIdentity, key.slug))) return false
    return status.region === undefined || this.regions.some((r) => same(status.region, r))
  }

  private tick(): void {
    const now = Date.now()
    if (now - this.lastProgress < PROGRESS_EVERY_MS) return
    this.lastProgress = now
    const s = this.scanned
    this.progress.update(`${s.scopes} scopes, ${s.secrets} secrets, ${s.zones} zones, ${s.dnssecChecked} DNSSEC checked`)
  }

  private doneLine(): string {
    const s = this.scanned
    const gaps = this.unread.length > 0 ? `, ${this.unread.length} unread` : ''
    return `Scanned ${s.scopes} scopes, ${s.secrets} secrets, ${s.zones} zones, ${s.dnssecChecked} DNSSEC checked: ${this.references.length} reference(s)${gaps}`
  }
}

/** A secret uses the key when its bound key's identity (nested or flat) is the key's identity or slug, or its slug is the key's slug. */
function secretUsesKey(secret: Secret, key: KmsKey): boolean {
  const bound = [secret.kmsKey?.identity, secret.kmsKeyIdentity]
  return bound.some((id) => same(id, key.identity) || same(id, key.slug)) || same(secret.kmsKey?.slug, key.slug)
}

function describeError(error: unknown): string {
  const text = isKmsGuardError(error) ? `${error.code}: ${error.message}` : `INTERNAL: ${(error as Error)?.message ?? String(error)}`
  return text.length > 300 ? `${text.slice(0, 299)}…` : text
}
