/** Builders for audit events and keys used by the audit tests. */
import type {KeyInfo} from '../../../src/audit/analyse.js'
import type {AuditEvent} from '../../../src/audit/events.js'

let counter = 0

export interface EventSpec {
  action: string
  at: string | number | Date
  key?: string
  user?: string
  serviceAccount?: string
  status?: number
  context?: Record<string, unknown>
}

/** One audit event; `user` becomes user.subject and user.email `<user>@example.com`. */
export const event = ({action, at, key = 'kms-a', user, serviceAccount, status, context = {}}: EventSpec): AuditEvent => ({
  createdAt: new Date(at).toISOString(),
  eventID: `ev-${++counter}`,
  action,
  resourceType: 'kms_key',
  resourceIdentity: key,
  ...(user === undefined ? {} : {userIdentity: `uid-${user}`, user: {subject: `sub-${user}`, name: user, email: `${user}@example.com`}}),
  ...(serviceAccount === undefined ? {} : {serviceAccountIdentity: `sa-${serviceAccount}`, serviceAccount: {identity: `sa-${serviceAccount}`, slug: serviceAccount}}),
  context: {...(status === undefined ? {} : {status}), ...context},
})

export const key = (overrides: Partial<KeyInfo> & Pick<KeyInfo, 'identity'>): KeyInfo => ({
  slug: `${overrides.identity}-slug`,
  name: `${overrides.identity} name`,
  keyRotationEnabled: true,
  rotationPeriodInDays: 90,
  createdAt: '2026-01-01T00:00:00.000Z',
  status: 'active',
  ...overrides,
})

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
