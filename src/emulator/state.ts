/**
 * The emulator's in-memory state: every record type the fake Thalassa API serves, plus the small lookups and
 * clock-driven housekeeping (purging keys whose deletion window passed, expiring elevations) that several
 * route modules share. Timestamps are epoch milliseconds; views.ts turns them into RFC 3339 strings.
 * Key material lives here as raw Buffers; persistence.ts seals it before anything touches the disk.
 */
import {randomBytes} from 'node:crypto'

export const STATE_KIND = 'kmsguard-emulator-state'
export const SCHEMA_VERSION = 1

export const KEY_TYPES = [
  'aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305',
  'rsa-2048', 'rsa-3072', 'rsa-4096',
  'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519',
  'hmac', 'hmac-sha256', 'hmac-sha512',
] as const
export type KeyType = (typeof KEY_TYPES)[number]
export type KeyStatus = 'active' | 'disabled' | 'pending_deletion'

/** Thirty days, the documented pending-deletion window. */
export const DELETION_WINDOW_MS = 30 * 24 * 3600 * 1000

export interface Region {
  identity: string
  slug: string
  name: string
  kmsAvailable: boolean
  /** BYOK wrapping key (RSA-3072, PKCS#8 DER), generated on first use and kept for the region's lifetime. */
  wrappingKey?: {material: Buffer; createdAt: number}
}

export interface OrgSettings {
  kmsFeatureEnabled: boolean
  /** How a disabled KMS gate shows: `summary` = summary answers featureEnabled:false, `all` = every KMS call 403. */
  kmsGateMode: 'summary' | 'all'
  /** Server-side dual control: export needs an approved elevation to `exportPolicyIdentity`. */
  exportRequiresElevation: boolean
  exportPolicyIdentity: string
}

export interface Org {
  identity: string
  slug: string
  name: string
  description: string
  createdAt: number
  settings: OrgSettings
}

export interface Principal {
  subject: string
  name: string
  email: string
  createdAt: number
  kind: 'user' | 'service-account'
}

export interface Membership {
  identity: string
  orgIdentity: string
  subject: string
  role: 'OWNER' | 'MEMBER'
  /** May use the approver side of IAM access elevations. */
  approver: boolean
  createdAt: number
}

/** Credentials are kept only as SHA-256 hashes. */
export interface PersonalAccessToken { tokenHash: string; subject: string }
export interface AccessToken { tokenHash: string; subject: string; expiresAt: number }
export interface ServiceClient { clientId: string; secretHash: string; subject: string }

export interface Project {
  identity: string
  slug: string
  name: string
  description: string
  orgIdentity: string
  labels: Record<string, string>
  annotations: Record<string, string>
  createdAt: number
  updatedAt: number
  objectVersion: number
}

export interface IamPolicy {
  identity: string
  slug: string
  name: string
  description: string
  orgIdentity: string
}

export interface KeyVersion {
  version: number
  createdAt: number
  material: Buffer
}

export interface StoredKey {
  identity: string
  name: string
  slug: string
  description?: string
  labels: Record<string, string>
  annotations: Record<string, string>
  orgIdentity: string
  regionSlug: string
  projectIdentity?: string
  keyType: KeyType
  status: KeyStatus
  exportAllowed: boolean
  imported: boolean
  /** BYOK only: rotation of an imported key is allowed. */
  allowRotation: boolean
  keyRotationEnabled: boolean
  rotationPeriodInDays?: number
  versions: KeyVersion[]
  deletionScheduledAt?: number
  createdAt: number
  updatedAt: number
  objectVersion: number
}

export interface SecretVersion {
  version: number
  createdAt: number
  kmsKeyVersion: number
  /** `string` = secretString / generateSecret, `keyValues` = JSON map of base64 values. */
  valueKind: 'string' | 'keyValues'
  /** Output of the bound KMS key's encrypt (see crypto-engine.ts for the layout). */
  ciphertext: string
}

export interface StoredSecret {
  path: string
  regionSlug: string
  orgIdentity: string
  projectIdentity?: string
  description?: string
  labels: Record<string, string>
  annotations: Record<string, string>
  kmsKeyIdentity: string
  versions: SecretVersion[]
  currentVersion: number
  createdAt: number
  updatedAt: number
  lastAccessedAt?: number
  objectVersion: number
}

export interface ZoneDnssec {
  regionSlug: string
  kmsKeyIdentity: string
  enabledAt: number
}

export interface StoredZone {
  identity: string
  name: string
  slug: string
  orgIdentity: string
  projectIdentity?: string
  description?: string
  labels: Record<string, string>
  annotations: Record<string, string>
  dnssec?: ZoneDnssec
  createdAt: number
  updatedAt: number
  objectVersion: number
}

export type ElevationStatus = 'pending' | 'approved' | 'rejected' | 'cancelled' | 'expired' | 'revoked'

export interface StoredElevation {
  identity: string
  orgIdentity: string
  projectIdentity?: string
  policyIdentity: string
  requesterSubject: string
  status: ElevationStatus
  reason: string
  requestedExpiresAt: number
  labels: Record<string, string>
  annotations: Record<string, string>
  reviewerSubject?: string
  reviewNote?: string
  reviewedAt?: number
  createdAt: number
  updatedAt: number
  objectVersion: number
}

export type AuditContextValue = string | number | boolean | null

export interface AuditEvent {
  eventID: string
  createdAt: number
  orgIdentity: string
  projectIdentity?: string
  subject?: string
  action: string
  description?: string
  resourceType: string
  resourceIdentity?: string
  context: Record<string, AuditContextValue>
}

export interface EmulatorState {
  schemaVersion: typeof SCHEMA_VERSION
  kind: typeof STATE_KIND
  regions: Region[]
  orgs: Org[]
  principals: Principal[]
  memberships: Membership[]
  personalAccessTokens: PersonalAccessToken[]
  accessTokens: AccessToken[]
  serviceClients: ServiceClient[]
  projects: Project[]
  iamPolicies: IamPolicy[]
  keys: StoredKey[]
  secrets: StoredSecret[]
  zones: StoredZone[]
  elevations: StoredElevation[]
  audit: AuditEvent[]
}

export const emptyState = (): EmulatorState => ({
  schemaVersion: SCHEMA_VERSION,
  kind: STATE_KIND,
  regions: [], orgs: [], principals: [], memberships: [], personalAccessTokens: [], accessTokens: [],
  serviceClients: [], projects: [], iamPolicies: [], keys: [], secrets: [], zones: [], elevations: [], audit: [],
})

/** `prefix-` followed by 12 random hex characters, e.g. `kms-3f9a0c21b7de`. */
export const newId = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`

/** Lower-case, every run of non-alphanumerics becomes one '-', no leading/trailing '-'. */
export const slugify = (name: string): string =>
  name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')

/** Org or project scope of a resource; `undefined` project = organisation scope. */
export interface Scope { orgIdentity: string; projectIdentity?: string }

export const inScope = (r: {orgIdentity: string; projectIdentity?: string}, s: Scope): boolean =>
  r.orgIdentity === s.orgIdentity && r.projectIdentity === s.projectIdentity

export const findRegion = (state: EmulatorState, ref: string): Region | undefined =>
  state.regions.find((r) => r.slug === ref || r.identity === ref)

/** A key by identity or slug in one region and scope. */
export const findKey = (state: EmulatorState, regionSlug: string, scope: Scope, ref: string): StoredKey | undefined =>
  state.keys.find((k) => k.regionSlug === regionSlug && inScope(k, scope) && (k.identity === ref || k.slug === ref))

export const findKeyByIdentity = (state: EmulatorState, identity: string): StoredKey | undefined =>
  state.keys.find((k) => k.identity === identity)

export const latestVersion = (key: StoredKey): KeyVersion => key.versions[key.versions.length - 1]

/**
 * Clock-driven housekeeping, run before each handled request: keys whose deletion window has passed are
 * removed for good, and pending/approved elevations past their expiry become `expired`.
 * Returns true when something changed (so the caller persists).
 */
export function refreshState(state: EmulatorState, now: number): boolean {
  const before = state.keys.length
  state.keys = state.keys.filter((k) => !(k.status === 'pending_deletion' && (k.deletionScheduledAt ?? Infinity) <= now))
  let changed = state.keys.length !== before
  for (const e of state.elevations) {
    if ((e.status === 'pending' || e.status === 'approved') && e.requestedExpiresAt <= now) {
      e.status = 'expired'
      e.updatedAt = now
      e.objectVersion += 1
      changed = true
    }
  }
  return changed
}
