/**
 * Fixtures for the lifecycle operation tests (create, rotate, disable, fleet): API-shaped keys, the summary,
 * the reference-scan reads, a confirmer that records what it was asked, and a helper that awaits a refusal.
 */
import nock from 'nock'
import {expect} from 'vitest'
import {KmsGuardError, notConfirmed} from '../../../src/cli/errors.js'
import type {Confirmer, ConfirmationMethod} from '../../../src/ui/confirm.js'
import {ORIGIN} from '../../helpers/context.js'

export const REGION = 'nl-01'
export const KEYS = `/v1/kms/${REGION}/keys`

export interface ApiKey {
  identity: string
  name: string
  slug: string
  keyType: string
  status: string
  latestVersion: number
  labels?: Record<string, string>
  [field: string]: unknown
}

/** A KmsKey as the API returns it; `versions` follows `latestVersion`. */
export function apiKey(over: Partial<ApiKey> = {}): ApiKey {
  const slug = over.slug ?? 'app-secrets'
  const latestVersion = over.latestVersion ?? 3
  return {
    identity: `kms-${slug}`, name: slug, slug, keyType: 'aes256-gcm96', status: 'active', exportAllowed: false,
    keyRotationEnabled: true, rotationPeriodInDays: 90, labels: {}, createdAt: '2026-01-01T00:00:00Z',
    ...over,
    latestVersion,
    versions: Array.from({length: latestVersion}, (_, i) => ({version: i + 1, createdAt: '2026-01-01T00:00:00Z'})),
  }
}

export const rotated = (key: ApiKey): ApiKey => apiKey({...key, latestVersion: key.latestVersion + 1})

const region = (slug: string, kmsAvailable: boolean) => ({identity: `reg-${slug}`, name: slug.toUpperCase(), slug, kmsAvailable, totalKeys: 0, activeKeys: 0, disabledKeys: 0, pendingDeletionKeys: 0})

/** GET /v1/kms/summary: nl-01 and nl-03 have KMS, nl-02 does not. */
export function mockSummary(times = 1): nock.Scope {
  return nock(ORIGIN).get('/v1/kms/summary').times(times).reply(200, {featureEnabled: true, regions: [region('nl-01', true), region('nl-02', false), region('nl-03', true)]})
}

/** Summary + GET of the key by the argument the test passes (its slug). */
export function mockPreflight(key: ApiKey): nock.Scope {
  return mockSummary().get(`${KEYS}/${key.slug}`).reply(200, key)
}

/**
 * The reads of the reference scan: GET /v1/projects, then per scope (organisation without a project header,
 * each project with X-Project-Identity) the secrets list and the zone list, and each zone's DNSSEC status.
 */
export function mockScan(scan: {
  projects?: string[]
  secrets?: Record<string, unknown[]>
  zones?: Record<string, Array<{identity: string; name: string}>>
  dnssec?: Record<string, unknown>
} = {}): void {
  nock(ORIGIN).get('/v1/projects').reply(200, (scan.projects ?? []).map((identity) => ({identity, name: identity, slug: identity})))
  for (const scope of ['organisation', ...(scan.projects ?? [])]) {
    const s = scope === 'organisation' ? nock(ORIGIN, {badheaders: ['x-project-identity']}) : nock(ORIGIN, {reqheaders: {'x-project-identity': scope}})
    s.get(`/v1/secrets/${REGION}/secrets`).query({pathPrefix: '/'}).reply(200, scan.secrets?.[scope] ?? [])
    s.get('/v1/dns/zones').reply(200, scan.zones?.[scope] ?? [])
    for (const zone of scan.zones?.[scope] ?? []) {
      nock(ORIGIN).get(`/v1/dns/zones/${zone.identity}/dnssec`).reply(200, scan.dnssec?.[zone.identity] ?? {enabled: false})
    }
  }
}

/** A confirmer that records every question; interactively it answers yes (or no when `accept` is false). */
export class RecordingConfirmer implements Confirmer {
  readonly asked: Array<{kind: 'typed' | 'yesNo' | 'count'; text: string; accepted?: string[]; expected?: number}> = []

  /** Guard verdicts shown before each prompt. */
  readonly shown: string[][] = []

  constructor(readonly interactive: boolean, private readonly accept = true) {}

  show(guards: Array<{guard: string}>): void {
    this.shown.push(guards.map((g) => g.guard))
  }

  async typed(opts: {action: string; accepted: string[]; flagValue?: string}): Promise<ConfirmationMethod> {
    this.asked.push({kind: 'typed', text: opts.action, accepted: opts.accepted})
    return this.answer('typed')
  }

  async yesNo(opts: {question: string; yes?: boolean}): Promise<ConfirmationMethod> {
    if (opts.yes) return 'yes-flag'
    this.asked.push({kind: 'yesNo', text: opts.question})
    return this.answer('prompt')
  }

  async count(opts: {action: string; expected: number; flagValue?: number}): Promise<ConfirmationMethod> {
    this.asked.push({kind: 'count', text: opts.action, expected: opts.expected})
    return this.answer('count')
  }

  private answer(method: ConfirmationMethod): ConfirmationMethod {
    if (!this.interactive) throw notConfirmed('non-interactive test confirmer')
    if (!this.accept) throw notConfirmed('declined; nothing was changed')
    return method
  }
}

/** Awaits a rejection and returns it as a KmsGuardError (fails the test for anything else). */
export async function refusal(promise: Promise<unknown>): Promise<KmsGuardError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error, 'the operation should have failed').toBeInstanceOf(KmsGuardError)
  return error as KmsGuardError
}
