/**
 * Audit-log events as the API (`GET /v1/audit`) and `tcloud audit export` files carry them. The schema names
 * only what the analysis reads and tolerates every other field; `parseAuditFile` accepts both tcloud file
 * shapes (a bare array, or the export object with `logs`).
 */
import {z} from 'zod'
import {usageError} from '../cli/errors.js'

const optionalText = z.string().nullish()

export const AuditEventSchema = z.looseObject({
  createdAt: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'not a timestamp'),
  eventID: z.string(),
  action: z.string(),
  resourceType: optionalText,
  resourceIdentity: optionalText,
  userIdentity: optionalText,
  user: z.looseObject({subject: optionalText, name: optionalText, email: optionalText}).nullish(),
  serviceAccountIdentity: optionalText,
  serviceAccount: z.looseObject({identity: optionalText, name: optionalText, slug: optionalText}).nullish(),
  impersonatorIdentity: optionalText,
  context: z.record(z.string(), z.unknown()).nullish(),
})
export type AuditEvent = z.infer<typeof AuditEventSchema>

const present = (values: Array<string | null | undefined>): string[] =>
  values.filter((value): value is string => typeof value === 'string' && value !== '')

/** The acting principal: user subject, else user email, user identity, service-account identity, else 'unknown'. */
export const principalOf = (event: AuditEvent): string =>
  present([event.user?.subject, event.user?.email, event.userIdentity, event.serviceAccount?.identity, event.serviceAccountIdentity])[0] ?? 'unknown'

/** Every name the principal goes by, so filters and expected-principal lists may use any of them. */
export const principalNamesOf = (event: AuditEvent): string[] =>
  present([principalOf(event), event.user?.email, event.user?.name, event.userIdentity, event.serviceAccount?.identity,
    event.serviceAccount?.slug, event.serviceAccount?.name, event.serviceAccountIdentity])

/** A human label for the principal: email, name or slug when known, else the principal id. */
export const principalLabelOf = (event: AuditEvent): string =>
  present([event.user?.email, event.user?.name, event.serviceAccount?.slug, event.serviceAccount?.name])[0] ?? principalOf(event)

/** The value of the first of `names` present in the event's free-form context. */
export const contextValue = (event: AuditEvent, ...names: string[]): unknown =>
  names.map((name) => event.context?.[name]).find((value) => value !== undefined && value !== null)

const TcloudExportSchema = z.looseObject({logs: z.array(z.unknown())})

/** Events from a tcloud audit export file (JSON array or `{exportedAt, timeRange, totalLogs, logs}`). */
export const parseAuditFile = (text: string, fileName: string): AuditEvent[] => {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw usageError(`${fileName}: not valid JSON`, 'pass a file written by `tcloud audit export`')
  }
  const isArray = Array.isArray(document)
  const wrapped = TcloudExportSchema.safeParse(document)
  const items = isArray ? (document as unknown[]) : wrapped.success ? wrapped.data.logs : undefined
  if (items === undefined) {
    throw usageError(`${fileName}: not an audit export: expected a JSON array of audit logs or an object with a "logs" array`,
      'pass a file written by `tcloud audit export`')
  }
  const label = (index: number) => (isArray ? `item ${index}` : `logs[${index}]`)
  return items.map((item, index) => {
    const parsed = AuditEventSchema.safeParse(item)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw usageError(`${fileName}: ${label(index)} is not an audit log (${issue.path.join('.') || 'item'}: ${issue.message})`)
    }
    return parsed.data
  })
}
