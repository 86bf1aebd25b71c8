/**
 * The small clients around KMS: identity, projects, Secrets Manager and DNS (what the reference scan reads),
 * IAM access elevations (two-person export) and audit. Each is a thin typed wrapper over the transport.
 */
import type {Transport} from './transport.js'
import * as S from './schemas.js'

const seg = encodeURIComponent

export class IdentityClient {
  private cached?: Promise<S.Membership[]>
  constructor(private readonly t: Transport) {}
  /** Who holds the token. Asked once per client: guards, the approval check and the journal share the answer. */
  memberships(): Promise<S.Membership[]> {
    this.cached ??= this.t.request({method: 'GET', path: '/v1/me/organisation-memberships', schema: S.Memberships, noOrganisation: true, project: null}).catch((error: unknown) => {
      this.cached = undefined
      throw error
    })
    return this.cached
  }
}

export class ProjectsClient {
  constructor(private readonly t: Transport) {}
  list(timeoutMs?: number) {
    return this.t.request({method: 'GET', path: '/v1/projects', schema: S.Projects, project: null, timeoutMs})
  }
}

export class SecretsClient {
  constructor(private readonly t: Transport) {}
  /** Flat recursive list in one scope (`project: null` = organisation scope). */
  list(region: string, project: string | null, pathPrefix = '/', timeoutMs?: number) {
    return this.t.request({method: 'GET', path: `/v1/secrets/${seg(region)}/secrets`, query: {pathPrefix}, schema: S.SecretList, project, timeoutMs})
  }
}

export class DnsClient {
  constructor(private readonly t: Transport) {}
  zones(project: string | null, timeoutMs?: number) {
    return this.t.request({method: 'GET', path: '/v1/dns/zones', schema: S.DnsZoneList, project, timeoutMs})
  }
  dnssec(zone: string, project: string | null, timeoutMs?: number) {
    return this.t.request({method: 'GET', path: `/v1/dns/zones/${seg(zone)}/dnssec`, schema: S.DnssecStatus, project, timeoutMs})
  }
}

export interface CreateElevationBody {
  policyIdentity: string
  reason: string
  duration?: string
  expiresAt?: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

export class ElevationsClient {
  constructor(private readonly t: Transport) {}
  create(body: CreateElevationBody) {
    return this.t.request({method: 'POST', path: '/v1/projects/iam/my-access-elevations', body, schema: S.AccessElevation})
  }
  getMine(id: string) {
    return this.t.request({method: 'GET', path: `/v1/projects/iam/my-access-elevations/${seg(id)}`, schema: S.AccessElevation})
  }
  getForReview(id: string) {
    return this.t.request({method: 'GET', path: `/v1/projects/iam/access-elevations/${seg(id)}`, schema: S.AccessElevation})
  }
  review(id: string, action: 'approve' | 'reject' | 'revoke', reviewNote?: string) {
    return this.t.request({method: 'POST', path: `/v1/projects/iam/access-elevations/${seg(id)}/${action}`, body: {reviewNote: reviewNote ?? ''}, schema: S.AccessElevation})
  }
}

export interface AuditQuery {
  page: number
  limit: number
  action?: string
  resourceType?: string
  resourceIdentity?: string
  userIdentity?: string
}

export class AuditClient {
  constructor(private readonly t: Transport) {}
  page(q: AuditQuery) {
    return this.t.request({method: 'GET', path: '/v1/audit', query: {...q}, schema: S.AuditPage})
  }
}
