/**
 * JSON views: turn stored records into the API objects of the fact sheet (KmsKey, Secret, DnsZone, Project,
 * OrganisationMember, AppUser, access-elevation requests, AuditLog). Timestamps become RFC 3339 strings.
 * No view ever includes key material or secret values.
 */
import type {
  AuditEvent, EmulatorState, Membership, Org, Principal, Project, Region, StoredElevation, StoredKey, StoredSecret,
  StoredZone,
} from './state.js'

export const iso = (ms: number): string => new Date(ms).toISOString()
const isoOpt = (ms: number | undefined) => (ms === undefined ? undefined : iso(ms))

const orgView = (o: Org) => ({
  identity: o.identity, name: o.name, slug: o.slug, description: o.description, createdAt: iso(o.createdAt), objectVersion: 1,
})

const regionView = (r: Region) => ({identity: r.identity, name: r.name, slug: r.slug})

const userView = (p: Principal) => ({subject: p.subject, name: p.name, email: p.email, createdAt: iso(p.createdAt)})

export const projectView = (p: Project) => ({
  identity: p.identity, name: p.name, slug: p.slug, description: p.description, labels: p.labels, annotations: p.annotations,
  createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt), objectVersion: p.objectVersion,
})

export const membershipView = (m: Membership, org: Org, user: Principal) => ({
  identity: m.identity, createdAt: iso(m.createdAt), organisation: orgView(org), user: userView(user), role: m.role,
})

export function keyView(state: EmulatorState, k: StoredKey) {
  const org = state.orgs.find((o) => o.identity === k.orgIdentity)
  return {
    identity: k.identity,
    name: k.name,
    slug: k.slug,
    description: k.description,
    labels: k.labels,
    annotations: k.annotations,
    projectId: k.projectIdentity,
    keyType: k.keyType,
    status: k.status,
    exportAllowed: k.exportAllowed,
    imported: k.imported,
    keyRotationEnabled: k.keyRotationEnabled,
    rotationPeriodInDays: k.rotationPeriodInDays ?? null,
    latestVersion: k.versions.length,
    minDecryptionVersion: 1,
    versions: k.versions.map((v) => ({version: v.version, status: 'active', createdAt: iso(v.createdAt)})),
    deletionScheduledAt: isoOpt(k.deletionScheduledAt),
    createdAt: iso(k.createdAt),
    updatedAt: iso(k.updatedAt),
    objectVersion: k.objectVersion,
    organisation: org === undefined ? undefined : orgView(org),
  }
}

export function secretView(state: EmulatorState, s: StoredSecret, includeVersions = false) {
  const key = state.keys.find((k) => k.identity === s.kmsKeyIdentity)
  const region = state.regions.find((r) => r.slug === s.regionSlug)
  return {
    path: s.path,
    description: s.description,
    labels: s.labels,
    annotations: s.annotations,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    kmsKey: key === undefined ? undefined : keyView(state, key),
    currentVersion: s.currentVersion,
    objectVersion: s.objectVersion,
    lastAccessedAt: isoOpt(s.lastAccessedAt),
    region: region === undefined ? undefined : regionView(region),
    projectId: s.projectIdentity,
    versions: includeVersions
      ? s.versions.map((v) => ({version: v.version, status: v.version === s.currentVersion ? 'current' : 'enabled', createdAt: iso(v.createdAt)}))
      : undefined,
  }
}

export const zoneView = (z: StoredZone) => ({
  identity: z.identity, name: z.name, slug: z.slug, description: z.description, labels: z.labels, annotations: z.annotations,
  projectId: z.projectIdentity, createdAt: iso(z.createdAt), updatedAt: iso(z.updatedAt), objectVersion: z.objectVersion,
})

export function elevationView(state: EmulatorState, e: StoredElevation) {
  const org = state.orgs.find((o) => o.identity === e.orgIdentity)
  const project = state.projects.find((p) => p.identity === e.projectIdentity)
  const policy = state.iamPolicies.find((p) => p.identity === e.policyIdentity)
  const requester = state.principals.find((p) => p.subject === e.requesterSubject)
  const reviewer = state.principals.find((p) => p.subject === e.reviewerSubject)
  return {
    identity: e.identity,
    labels: e.labels,
    annotations: e.annotations,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
    objectVersion: e.objectVersion,
    organisation: org === undefined ? undefined : orgView(org),
    projectId: e.projectIdentity,
    project: project === undefined ? undefined : projectView(project),
    iamPolicy: policy === undefined ? undefined : {identity: policy.identity, name: policy.name, slug: policy.slug, description: policy.description},
    requester: requester === undefined ? undefined : userView(requester),
    status: e.status,
    reason: e.reason,
    requestedExpiresAt: iso(e.requestedExpiresAt),
    reviewedAt: isoOpt(e.reviewedAt),
    reviewedBy: reviewer === undefined ? undefined : userView(reviewer),
    reviewNote: e.reviewNote,
  }
}

export function auditView(state: EmulatorState, e: AuditEvent) {
  const org = state.orgs.find((o) => o.identity === e.orgIdentity)
  const principal = state.principals.find((p) => p.subject === e.subject)
  const isServiceAccount = principal?.kind === 'service-account'
  return {
    createdAt: iso(e.createdAt),
    eventID: e.eventID,
    userIdentity: e.subject,
    user: principal !== undefined ? userView(principal) : e.subject === undefined ? undefined : {subject: e.subject, name: e.subject, email: '', createdAt: iso(e.createdAt)},
    serviceAccountIdentity: isServiceAccount ? principal.subject : undefined,
    serviceAccount: isServiceAccount
      ? {identity: principal.subject, name: principal.name, slug: principal.name, createdAt: iso(principal.createdAt)}
      : undefined,
    organizationIdentity: e.orgIdentity,
    organization: org === undefined ? undefined : orgView(org),
    projectId: e.projectIdentity,
    action: e.action,
    description: e.description,
    resourceType: e.resourceType,
    resourceIdentity: e.resourceIdentity,
    context: e.context,
  }
}
