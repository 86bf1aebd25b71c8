/**
 * Scaffolding for the two-person export and BYOK tests: two callers with different personal access tokens
 * (requester and approver, each with its own API client and context), a temp journal per test, fixtures for
 * keys and bound elevations, and nock interceptors for the reads every guarded command makes.
 */
import {generateKeyPairSync, type KeyObject} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import nock from 'nock'
import {afterAll, afterEach, beforeAll, beforeEach} from 'vitest'
import {createApi, type Api} from '../../../src/api/index.js'
import type {Settings} from '../../../src/config/settings.js'
import {bindingMetadata, type ExportBinding} from '../../../src/operations/binding.js'
import type {OperationContext} from '../../../src/operations/context.js'
import {ORIGIN, testConfig, testContext} from '../../helpers/context.js'

export {ORIGIN}
export const REGION = 'nl-01'
export const NOW = new Date('2026-12-04T12:00:00Z')
export const LATER = '2026-12-04T13:00:00Z'
export const EARLIER = '2026-12-04T11:00:00Z'

export interface User {subject: string; name: string; email: string; pat: string}
export const REQUESTER: User = {subject: 'usr-rita', name: 'Rita Requester', email: 'rita@example.test', pat: 'tc_pat_requester_unit_0123456789'}
export const APPROVER: User = {subject: 'usr-alan', name: 'Alan Approver', email: 'alan@example.test', pat: 'tc_pat_approver_unit_0123456789'}
export const OTHER: User = {subject: 'usr-olga', name: 'Olga Other', email: 'olga@example.test', pat: 'tc_pat_other_unit_0123456789'}

export const POLICY = {identity: 'iamp-export', slug: 'kms-export'}

export const AES_KEY = {identity: 'kms-pay01', name: 'Payments', slug: 'payments-key', keyType: 'aes256-gcm96', status: 'active', exportAllowed: true, latestVersion: 2, versions: [{version: 1}, {version: 2}]}

export function apiFor(user: User, project?: string): Api {
  return createApi({endpoint: ORIGIN, organisation: 'demo', project, credentials: {kind: 'pat', token: user.pat}, userAgent: 'kmsguard-test', maxRetries: 0})
}

/** A temp directory for one test (journal, output files); removed by the returned cleanup. */
export function tempDir(): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), 'kmsguard-export-'))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

export function ctxFor(user: User, dir: string, opts: {project?: string; settings?: Settings} = {}): OperationContext {
  const base = testConfig()
  return testContext({
    api: apiFor(user, opts.project),
    config: {...base, credentials: {value: {kind: 'pat', token: user.pat}, source: 'test'}, journal: {value: join(dir, 'journal.jsonl'), source: 'test'}, settings: opts.settings ?? {exportPolicy: POLICY.slug}},
    now: () => NOW,
  })
}

export const as = (user: User) => nock(ORIGIN, {reqheaders: {authorization: `Token ${user.pat}`}})

export function mockSummary(): void {
  nock(ORIGIN).get('/v1/kms/summary').reply(200, {featureEnabled: true, regions: [{identity: 'reg-nl-01', slug: REGION, name: 'NL 01', kmsAvailable: true}]})
}

export type KeyFixture = {slug: string} & Record<string, unknown>

export function mockKey(key: KeyFixture, as = key.slug): void {
  nock(ORIGIN).get(`/v1/kms/${REGION}/keys/${as}`).reply(200, key)
}

export function mockMe(user: User): void {
  const {pat: _pat, ...u} = user
  as(user).get('/v1/me/organisation-memberships').reply(200, [{identity: `mem-${user.subject}`, organisation: {identity: 'org-demo', slug: 'demo'}, user: u, role: 'MEMBER'}])
}

/** Region, key and caller reads of a guarded export-side command. */
export function mockPreflight(user: User, key: KeyFixture = AES_KEY): void {
  mockSummary()
  mockKey(key)
  mockMe(user)
}

export const standardBinding = (over: Partial<ExportBinding> = {}): ExportBinding => ({
  key: AES_KEY.identity, region: REGION, scope: 'organisation', project: 'demo', keyVersion: 2, requester: REQUESTER.subject, policy: POLICY.slug, ...over,
})

const person = ({pat: _pat, ...u}: User) => u

/** An access elevation as the API returns it: bound to `binding`, approved by the approver unless overridden. */
export function elevation(opts: {identity?: string; binding?: ExportBinding; status?: string; requester?: User; reviewer?: User | null; expiresAt?: string; metadata?: {labels?: Record<string, string>; annotations?: Record<string, string>}} = {}) {
  const meta = opts.metadata ?? bindingMetadata(opts.binding ?? standardBinding())
  return {
    identity: opts.identity ?? 'iamae-1',
    labels: meta.labels,
    annotations: meta.annotations,
    status: opts.status ?? 'approved',
    reason: 'HSM migration CHG-1234',
    requestedExpiresAt: opts.expiresAt ?? LATER,
    requester: person(opts.requester ?? REQUESTER),
    reviewedBy: opts.reviewer === null ? undefined : person(opts.reviewer ?? APPROVER),
    iamPolicy: {identity: POLICY.identity, slug: POLICY.slug, name: 'KMS export'},
    createdAt: EARLIER,
  }
}

export function rsaKeyPair(modulusLength = 2048): {publicKey: KeyObject; publicPem: string; privatePem: string; pkcs8Der: Buffer} {
  const {publicKey, privateKey} = generateKeyPairSync('rsa', {modulusLength})
  return {
    publicKey,
    publicPem: publicKey.export({type: 'spki', format: 'pem'}).toString(),
    privatePem: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
    pkcs8Der: privateKey.export({type: 'pkcs8', format: 'der'}),
  }
}

/**
 * The per-file setup every export test shares: network disabled for nock, a fresh temp dir per test (read it
 * through the returned getter), mocks and the dir cleaned after each. `onEach` runs after the dir is made.
 */
export function useNockAndTempDir(onEach?: (dir: string) => void): {readonly dir: string} {
  let tmp: ReturnType<typeof tempDir>
  beforeAll(() => nock.disableNetConnect())
  afterAll(() => nock.enableNetConnect())
  beforeEach(() => {
    tmp = tempDir()
    onEach?.(tmp.dir)
  })
  afterEach(() => {
    nock.cleanAll()
    tmp.cleanup()
  })
  return {get dir() {
    return tmp.dir
  }}
}
