/**
 * Seed data. Every seed has the same identity scaffolding (organisation `demo`, regions nl-01 with KMS and nl-02
 * without, users with fixed tokens, the CI service client, IAM policies). `demo` adds keys in every state,
 * secrets, zones, an expired elevation and a week of audit history; `empty` adds only the two demo projects;
 * `scale` generates large, configurable volumes for benchmarks. DEMO names what scripts and tests rely on.
 */
import {randomBytes, randomUUID} from 'node:crypto'
import {hashSecret} from './auth.js'
import {encryptBytes, formatVersioned, generateMaterial} from './crypto-engine.js'
import {
  DELETION_WINDOW_MS, emptyState, newId, type AuditEvent, type EmulatorState, type KeyStatus, type KeyType, type Project,
  type StoredKey, type StoredSecret, type StoredZone,
} from './state.js'

export interface ScaleSeedOptions {
  kind: 'scale'
  projects: number
  secrets: number
  zones: number
  /** Share of zones (0..1) with DNSSEC bound to a key. */
  dnssecFraction: number
  /** Symmetric keys in organisation scope of nl-01. */
  keys: number
  /** How many of those keys carry the label team=fleet. */
  labelledKeys?: number
}

export type SeedOption = 'demo' | 'empty' | ScaleSeedOptions

const DAY = 24 * 3600 * 1000
const HOUR = 3600 * 1000
const MINUTE = 60 * 1000

interface DemoKeyDef {
  identity: string
  slug: string
  keyType: KeyType
  status: KeyStatus
  project?: 'payments' | 'web'
  exportAllowed?: boolean
  labels?: Record<string, string>
  rotationDays?: number
  /** Age of each version in days, oldest first. */
  versionAges: number[]
  description: string
}

const demoKey = (slug: string, keyType: KeyType, status: KeyStatus, rest: Partial<DemoKeyDef> & {description: string}): DemoKeyDef =>
  ({identity: `kms-demo-${slug}`, slug, keyType, status, versionAges: [120], ...rest})

const DEMO_KEYS = {
  appSecrets: demoKey('app-secrets', 'aes256-gcm96', 'active', {rotationDays: 90, versionAges: [200, 110], description: 'Secrets Manager key for the app (org scope, also used by a payments secret)'}),
  zoneSigning: demoKey('zone-signing', 'ecdsa-p256', 'active', {description: 'DNSSEC KSK for web.demo.example'}),
  legacyData: demoKey('legacy-data', 'aes256-gcm96', 'disabled', {versionAges: [400], description: 'Disabled and unreferenced: safe to delete'}),
  oldHmac: demoKey('old-hmac', 'hmac-sha256', 'pending_deletion', {versionAges: [300], description: 'Scheduled for deletion'}),
  escrowKey: demoKey('escrow-key', 'aes256-gcm96', 'active', {exportAllowed: true, description: 'Export allowed (break-glass escrow)'}),
  fleetAlpha: demoKey('fleet-alpha', 'aes256-gcm96', 'active', {labels: {team: 'fleet'}, versionAges: [60, 6], description: 'Fleet key A'}),
  fleetBeta: demoKey('fleet-beta', 'aes256-gcm96', 'active', {labels: {team: 'fleet'}, description: 'Fleet key B'}),
  releaseSigning: demoKey('release-signing', 'ed25519', 'active', {description: 'Release signing key'}),
  paymentsData: demoKey('payments-data', 'aes256-gcm96', 'active', {project: 'payments', rotationDays: 180, description: 'Payments project data key'}),
  paymentsTokens: demoKey('payments-tokens', 'hmac-sha256', 'active', {project: 'payments', description: 'Payments token MACs'}),
} as const

const keyNames = <T extends Record<string, DemoKeyDef>>(defs: T) =>
  Object.fromEntries(Object.entries(defs).map(([k, d]) => [k, {identity: d.identity, slug: d.slug, keyType: d.keyType, status: d.status, project: d.project}])) as
    {[K in keyof T]: {identity: string; slug: string; keyType: KeyType; status: KeyStatus; project?: 'payments' | 'web'}}

/** Fixed names of the demo seed, for scripts, documentation and tests. */
export const DEMO = {
  org: {identity: 'org-demo', slug: 'demo' as const, name: 'Demo Organisation'},
  regions: {available: 'nl-01', unavailable: 'nl-02'},
  tokens: {operator: 'tc_pat_demo_operator' as const, approver: 'tc_pat_demo_approver' as const, auditor: 'tc_pat_demo_auditor' as const},
  users: {
    operator: {subject: 'user-operator', name: 'Olivia Operator', email: 'operator@demo.example'},
    approver: {subject: 'user-approver', name: 'Arjen Approver', email: 'approver@demo.example'},
    auditor: {subject: 'user-auditor', name: 'Audrey Auditor', email: 'auditor@demo.example'},
  },
  client: {id: 'demo-ci', secret: 'demo-ci-secret', subject: 'sa-demo-ci'},
  exportPolicy: {identity: 'iampol-kms-export', slug: 'kms-export'},
  adminPolicy: {identity: 'iampol-kms-admin', slug: 'kms-admin'},
  projects: {payments: {identity: 'proj-payments', slug: 'payments'}, web: {identity: 'proj-web', slug: 'web'}},
  keys: keyNames(DEMO_KEYS),
  secrets: {
    org: ['/app/prod/db/password', '/app/prod/api/token', '/app/staging/db/password'],
    payments: ['/payments/prod/card-vault-key', '/payments/prod/stripe-api-key'],
  },
  zones: {
    org: {identity: 'dnsz-demo-root', name: 'demo.example'},
    web: {identity: 'dnsz-demo-web', name: 'web.demo.example'},
    payments: {identity: 'dnsz-demo-pay', name: 'pay.demo.example'},
  },
  pastElevation: 'iamae-demo-past-export',
  unknownPrincipal: 'user-unknown-7f3a',
} as const

// ---- scaffolding -----------------------------------------------------------------------------------------------

function scaffolding(now: number): EmulatorState {
  const s = emptyState()
  const since = now - 365 * DAY
  s.regions.push(
    {identity: 'region-nl-01', slug: 'nl-01', name: 'Netherlands 01', kmsAvailable: true},
    {identity: 'region-nl-02', slug: 'nl-02', name: 'Netherlands 02', kmsAvailable: false},
  )
  s.orgs.push({
    identity: DEMO.org.identity, slug: DEMO.org.slug, name: DEMO.org.name, description: 'kmsguard rehearsal organisation', createdAt: since,
    settings: {kmsFeatureEnabled: true, kmsGateMode: 'summary', exportRequiresElevation: true, exportPolicyIdentity: DEMO.exportPolicy.identity},
  })
  const people = [
    {...DEMO.users.operator, token: DEMO.tokens.operator, role: 'MEMBER' as const, approver: false},
    {...DEMO.users.approver, token: DEMO.tokens.approver, role: 'OWNER' as const, approver: true},
    {...DEMO.users.auditor, token: DEMO.tokens.auditor, role: 'MEMBER' as const, approver: false},
  ]
  for (const p of people) {
    s.principals.push({subject: p.subject, name: p.name, email: p.email, createdAt: since, kind: 'user'})
    s.personalAccessTokens.push({tokenHash: hashSecret(p.token), subject: p.subject})
    s.memberships.push({identity: `orgm-${p.subject}`, orgIdentity: DEMO.org.identity, subject: p.subject, role: p.role, approver: p.approver, createdAt: since})
  }
  s.principals.push({subject: DEMO.client.subject, name: DEMO.client.id, email: 'demo-ci@serviceaccounts.demo.example', createdAt: since, kind: 'service-account'})
  s.memberships.push({identity: `orgm-${DEMO.client.subject}`, orgIdentity: DEMO.org.identity, subject: DEMO.client.subject, role: 'MEMBER', approver: false, createdAt: since})
  s.serviceClients.push({clientId: DEMO.client.id, secretHash: hashSecret(DEMO.client.secret), subject: DEMO.client.subject})
  s.iamPolicies.push(
    {identity: DEMO.exportPolicy.identity, slug: DEMO.exportPolicy.slug, name: 'KMS key export', description: 'update on kms_key, reachable only by elevation', orgIdentity: DEMO.org.identity},
    {identity: DEMO.adminPolicy.identity, slug: DEMO.adminPolicy.slug, name: 'KMS administration', description: 'kms:FullAccess', orgIdentity: DEMO.org.identity},
  )
  return s
}

const project = (identity: string, slug: string, name: string, at: number): Project => ({
  identity, slug, name, description: `${name} project`, orgIdentity: DEMO.org.identity, labels: {}, annotations: {},
  createdAt: at, updatedAt: at, objectVersion: 1,
})

function addDemoProjects(s: EmulatorState, now: number): void {
  s.projects.push(
    project(DEMO.projects.payments.identity, DEMO.projects.payments.slug, 'Payments', now - 300 * DAY),
    project(DEMO.projects.web.identity, DEMO.projects.web.slug, 'Web', now - 300 * DAY),
  )
}

interface KeyInit {
  identity: string
  name: string
  keyType: KeyType
  projectIdentity?: string
  createdAt: number
  material: Buffer
  labels?: Record<string, string>
  description?: string
}

const newKey = (k: KeyInit): StoredKey => ({
  identity: k.identity, name: k.name, slug: k.name, description: k.description, labels: k.labels ?? {}, annotations: {},
  orgIdentity: DEMO.org.identity, regionSlug: DEMO.regions.available, projectIdentity: k.projectIdentity, keyType: k.keyType,
  status: 'active', exportAllowed: false, imported: false, allowRotation: false, keyRotationEnabled: false,
  versions: [{version: 1, createdAt: k.createdAt, material: k.material}], createdAt: k.createdAt, updatedAt: k.createdAt, objectVersion: 1,
})

function newSecret(path: string, key: StoredKey, value: Buffer, projectIdentity: string | undefined, at: number): StoredSecret {
  const v = key.versions[key.versions.length - 1]
  return {
    path, regionSlug: key.regionSlug, orgIdentity: DEMO.org.identity, projectIdentity, labels: {}, annotations: {},
    kmsKeyIdentity: key.identity, currentVersion: 1, createdAt: at, updatedAt: at, objectVersion: 1,
    versions: [{version: 1, createdAt: at, kmsKeyVersion: v.version, valueKind: 'string', ciphertext: formatVersioned(v.version, encryptBytes(key.keyType, v.material, value))}],
  }
}

const newZone = (identity: string, name: string, projectIdentity: string | undefined, at: number): StoredZone => ({
  identity, name, slug: name.replace(/\./g, '-'), orgIdentity: DEMO.org.identity, projectIdentity, labels: {}, annotations: {},
  createdAt: at, updatedAt: at, objectVersion: 1,
})

// ---- demo ------------------------------------------------------------------------------------------------------

async function demoKeys(now: number): Promise<StoredKey[]> {
  return Promise.all(Object.values(DEMO_KEYS).map(async (d: DemoKeyDef) => {
    const ages = d.versionAges
    const key = newKey({
      identity: d.identity, name: d.slug, keyType: d.keyType, createdAt: now - ages[0] * DAY, material: await generateMaterial(d.keyType),
      projectIdentity: d.project === undefined ? undefined : DEMO.projects[d.project].identity, labels: d.labels, description: d.description,
    })
    for (const age of ages.slice(1)) key.versions.push({version: key.versions.length + 1, createdAt: now - age * DAY, material: await generateMaterial(d.keyType)})
    key.status = d.status
    key.exportAllowed = d.exportAllowed ?? false
    key.keyRotationEnabled = d.rotationDays !== undefined
    key.rotationPeriodInDays = d.rotationDays
    key.updatedAt = now - ages[ages.length - 1] * DAY
    if (d.status === 'pending_deletion') key.deletionScheduledAt = now - 18 * DAY + DELETION_WINDOW_MS
    if (d.status === 'disabled') key.updatedAt = now - 6 * DAY
    return key
  }))
}

/** A week of history: routine use, a decrypt burst, failed decrypts by a stranger, an approved export. */
function demoAudit(now: number, keys: StoredKey[]): AuditEvent[] {
  const byId = (id: string) => keys.find((k) => k.identity === id) as StoredKey
  const events: AuditEvent[] = []
  const add = (at: number, subject: string, action: string, keyId: string, status: number, payloadSize?: number) => {
    const key = byId(keyId)
    const verb = action.replace(/^kms\.(key\.)?/, '').replace('_', '-')
    events.push({
      eventID: randomUUID(), createdAt: at, orgIdentity: DEMO.org.identity, projectIdentity: key.projectIdentity, subject, action,
      description: `${action} on key ${key.slug}`, resourceType: 'kms_key', resourceIdentity: key.identity,
      context: {
        method: 'POST', path: `/v1/kms/${key.regionSlug}/keys/${key.identity}/${verb}`, status,
        region: key.regionSlug, keySlug: key.slug, keyType: key.keyType, keyVersion: String(key.versions.length),
        ...(payloadSize === undefined ? {} : {payloadSize}), client_ip: '198.51.100.20', user_agent: 'demo-history',
      },
    })
  }
  const {operator} = DEMO.users
  const k = DEMO.keys
  for (let day = 6; day >= 1; day--) {
    add(now - day * DAY + 9 * HOUR, operator.subject, 'kms.encrypt', k.appSecrets.identity, 200, 48)
    add(now - day * DAY + 10 * HOUR, DEMO.client.subject, 'kms.decrypt', k.appSecrets.identity, 200, 76)
    add(now - day * DAY + 15 * HOUR, DEMO.client.subject, 'kms.decrypt', k.paymentsData.identity, 200, 76)
  }
  for (let i = 0; i < 120; i++) add(now - 2 * DAY + i * 30_000, DEMO.client.subject, 'kms.decrypt', k.appSecrets.identity, 200, 76)
  ;[404, 404, 400].forEach((status, i) => add(now - 3 * DAY + i * 5 * MINUTE, DEMO.unknownPrincipal, 'kms.decrypt', k.appSecrets.identity, status, 76))
  add(now - 6 * DAY, operator.subject, 'kms.rotate', k.fleetAlpha.identity, 200)
  add(now - 6 * DAY + HOUR, operator.subject, 'kms.key.disable', k.legacyData.identity, 200)
  add(now - 5 * DAY, operator.subject, 'kms.export', k.escrowKey.identity, 200)
  add(now - 4 * DAY, DEMO.client.subject, 'kms.export', k.escrowKey.identity, 404)
  return events
}

async function demoSeed(now: number): Promise<EmulatorState> {
  const s = scaffolding(now)
  addDemoProjects(s, now)
  s.keys = await demoKeys(now)
  const key = (id: string) => s.keys.find((k) => k.identity === id) as StoredKey
  const {payments, web} = DEMO.projects
  const value = () => randomBytes(24)
  for (const path of DEMO.secrets.org) s.secrets.push(newSecret(path, key(DEMO.keys.appSecrets.identity), value(), undefined, now - 100 * DAY))
  s.secrets.push(
    newSecret(DEMO.secrets.payments[0], key(DEMO.keys.appSecrets.identity), value(), payments.identity, now - 90 * DAY),
    newSecret(DEMO.secrets.payments[1], key(DEMO.keys.paymentsData.identity), value(), payments.identity, now - 90 * DAY),
  )
  const z = DEMO.zones
  const webZone = newZone(z.web.identity, z.web.name, web.identity, now - 200 * DAY)
  webZone.dnssec = {regionSlug: DEMO.regions.available, kmsKeyIdentity: DEMO.keys.zoneSigning.identity, enabledAt: now - 10 * DAY}
  s.zones.push(newZone(z.org.identity, z.org.name, undefined, now - 250 * DAY), webZone, newZone(z.payments.identity, z.payments.name, payments.identity, now - 200 * DAY))
  s.elevations.push({
    identity: DEMO.pastElevation, orgIdentity: DEMO.org.identity, policyIdentity: DEMO.exportPolicy.identity,
    requesterSubject: DEMO.users.operator.subject, status: 'expired', reason: 'escrow copy for the HSM migration',
    requestedExpiresAt: now - 5 * DAY + HOUR, labels: {'kmsguard.io/key': DEMO.keys.escrowKey.identity}, annotations: {},
    reviewerSubject: DEMO.users.approver.subject, reviewNote: 'ok, ticket CHG-1042', reviewedAt: now - 5 * DAY - 30 * MINUTE,
    createdAt: now - 5 * DAY - HOUR, updatedAt: now - 5 * DAY + HOUR, objectVersion: 3,
  })
  s.audit = demoAudit(now, s.keys)
  return s
}

// ---- scale -----------------------------------------------------------------------------------------------------

function checkScale(o: ScaleSeedOptions): void {
  const counts = {projects: o.projects, secrets: o.secrets, zones: o.zones, keys: o.keys, labelledKeys: o.labelledKeys ?? 0}
  for (const [name, n] of Object.entries(counts)) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`scale seed: ${name} must be a non-negative integer`)
  }
  if (!(o.dnssecFraction >= 0 && o.dnssecFraction <= 1)) throw new Error('scale seed: dnssecFraction must be between 0 and 1')
  if ((o.labelledKeys ?? 0) > o.keys) throw new Error('scale seed: labelledKeys cannot exceed keys')
  if (o.secrets > 0 && o.keys === 0) throw new Error('scale seed: secrets need at least one key')
}

async function scaleSeed(o: ScaleSeedOptions, now: number): Promise<EmulatorState> {
  checkScale(o)
  const s = scaffolding(now)
  const at = now - 30 * DAY
  const pad = (n: number) => String(n).padStart(4, '0')
  for (let i = 1; i <= o.projects; i++) s.projects.push(project(`proj-scale-${pad(i)}`, `project-${pad(i)}`, `Project ${pad(i)}`, at))
  const scopes: (string | undefined)[] = [undefined, ...s.projects.map((p) => p.identity)]
  for (let i = 1; i <= o.keys; i++) {
    const labelled = i <= (o.labelledKeys ?? 0)
    s.keys.push(newKey({
      identity: newId('kms'), name: labelled ? `fleet-key-${pad(i)}` : `scale-key-${pad(i)}`, keyType: 'aes256-gcm96', createdAt: at,
      material: randomBytes(32), labels: labelled ? {team: 'fleet'} : {tier: 'scale'},
    }))
  }
  const symmetric = s.keys.slice()
  for (let i = 0; i < o.secrets; i++) {
    s.secrets.push(newSecret(`/scale/group-${i % 100}/secret-${i}`, symmetric[i % symmetric.length], randomBytes(16), scopes[i % scopes.length], at))
  }
  // Zones of one scope share that scope's DNSSEC key, so only a handful of EC keys are generated.
  const dnssecKeys = new Map<string | undefined, StoredKey>()
  const dnssecKeyFor = async (scope: string | undefined) => {
    let key = dnssecKeys.get(scope)
    if (key === undefined) {
      key = newKey({identity: newId('kms'), name: 'dnssec-shared', keyType: 'ecdsa-p256', projectIdentity: scope, createdAt: at, material: await generateMaterial('ecdsa-p256')})
      dnssecKeys.set(scope, key)
      s.keys.push(key)
    }
    return key
  }
  for (let i = 0; i < o.zones; i++) {
    const scope = scopes[i % scopes.length]
    const zone = newZone(newId('dnsz'), `zone-${i}.scale.example`, scope, at)
    if (Math.floor((i + 1) * o.dnssecFraction) > Math.floor(i * o.dnssecFraction)) {
      zone.dnssec = {regionSlug: DEMO.regions.available, kmsKeyIdentity: (await dnssecKeyFor(scope)).identity, enabledAt: at}
    }
    s.zones.push(zone)
  }
  return s
}

/** Builds the initial state for a seed option at clock reading `now`. */
export async function seedState(seed: SeedOption, now: number): Promise<EmulatorState> {
  if (seed === 'demo') return demoSeed(now)
  if (seed === 'empty') {
    const s = scaffolding(now)
    addDemoProjects(s, now)
    return s
  }
  if (typeof seed === 'object' && seed.kind === 'scale') return scaleSeed(seed, now)
  throw new Error(`unknown emulator seed: ${JSON.stringify(seed)}`)
}
