/**
 * zod schemas for every response kmsguard reads. They accept unknown fields (zod objects strip them) and the
 * documented variants (fact sheet §11): optional doc-only fields, `kmsKey` object or flat `kmsKeyIdentity`,
 * null where Go's omitempty may send null.
 */
import {z} from 'zod'

const str = z.string()
const optStr = z.string().nullish().transform((v) => v ?? undefined)
const stringMap = z.record(z.string(), z.string()).nullish().transform((v) => v ?? undefined)

export const KeyStatus = z.string()
export const KmsKeyVersion = z.object({version: z.number().int(), status: optStr, createdAt: optStr})

export const KmsKey = z.object({
  identity: str,
  name: str,
  slug: str,
  description: optStr,
  labels: stringMap,
  annotations: stringMap,
  projectId: optStr,
  keyType: str,
  status: KeyStatus,
  exportAllowed: z.boolean().nullish().transform((v) => v ?? false),
  imported: z.boolean().nullish().transform((v) => v ?? undefined),
  allowRotation: z.boolean().nullish().transform((v) => v ?? undefined),
  keyRotationEnabled: z.boolean().nullish().transform((v) => v ?? false),
  rotationPeriodInDays: z.number().int().nullish().transform((v) => v ?? undefined),
  latestVersion: z.number().int().nullish().transform((v) => v ?? undefined),
  versions: z.array(KmsKeyVersion).nullish().transform((v) => v ?? undefined),
  minDecryptionVersion: z.number().int().nullish().transform((v) => v ?? undefined),
  deletionScheduledAt: optStr,
  createdAt: optStr,
  updatedAt: optStr,
})
export type KmsKey = z.infer<typeof KmsKey>
export const KmsKeyList = z.array(KmsKey)

export const SummaryRegion = z.object({
  identity: str,
  name: optStr,
  slug: str,
  kmsAvailable: z.boolean(),
  secretsAvailable: z.boolean().optional(),
  totalKeys: z.number().nullish().transform((v) => v ?? 0),
  activeKeys: z.number().nullish().transform((v) => v ?? 0),
  disabledKeys: z.number().nullish().transform((v) => v ?? 0),
  pendingDeletionKeys: z.number().nullish().transform((v) => v ?? 0),
})
export type SummaryRegion = z.infer<typeof SummaryRegion>
export const KmsSummary = z.object({featureEnabled: z.boolean(), regions: z.array(SummaryRegion).nullish().transform((v) => v ?? [])})
export type KmsSummary = z.infer<typeof KmsSummary>

/** DELETE answers 204 or 200 with the key (and deletionScheduledAt); tolerate both and a partial body. */
export const DeleteKeyResponse = z.union([z.undefined(), z.object({deletionScheduledAt: optStr, status: optStr, identity: optStr}).loose()])

export const WrappingKey = z.object({publicKey: str.min(1), algorithm: optStr})
export type WrappingKey = z.infer<typeof WrappingKey>
export const PublicKeys = z.object({keys: z.record(z.string(), z.string())})
export const ExportKeyResponse = z.object({keyMaterial: str.min(1), keyVersion: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? undefined : String(v)))})

const AppUser = z.object({subject: optStr, name: optStr, email: optStr})
export type AppUser = z.infer<typeof AppUser>
const Organisation = z.object({identity: str, name: optStr, slug: optStr})

export const Membership = z.object({identity: optStr, organisation: Organisation.nullish().transform((v) => v ?? undefined), user: AppUser.nullish().transform((v) => v ?? undefined), role: optStr})
export const Memberships = z.array(Membership)
export type Membership = z.infer<typeof Membership>

export const Project = z.object({identity: str, name: optStr, slug: optStr})
export const Projects = z.array(Project)
export type Project = z.infer<typeof Project>

/** A secret as listed. Values are never part of it. The bound key is a nested object, or a flat identity on older servers. */
export const Secret = z.object({
  path: str,
  kmsKey: z.object({identity: optStr, slug: optStr, name: optStr}).nullish().transform((v) => v ?? undefined),
  kmsKeyIdentity: optStr,
  region: z.union([z.string(), z.object({identity: optStr, slug: optStr, name: optStr})]).nullish().transform((v) => v ?? undefined),
})
export type Secret = z.infer<typeof Secret>
export const SecretList = z.array(Secret)

export const DnsZone = z.object({identity: str, name: str, slug: optStr, projectId: optStr})
export type DnsZone = z.infer<typeof DnsZone>
export const DnsZoneList = z.array(DnsZone)
export const DnssecStatus = z.object({enabled: z.boolean(), kmsKeyIdentity: optStr, region: optStr, dsDelegated: z.boolean().optional()})
export type DnssecStatus = z.infer<typeof DnssecStatus>

export const ElevationStatus = z.string()
export const AccessElevation = z.object({
  identity: str,
  labels: stringMap,
  annotations: stringMap,
  createdAt: optStr,
  status: ElevationStatus,
  reason: optStr,
  requestedExpiresAt: optStr,
  reviewedAt: optStr,
  reviewNote: optStr,
  projectId: optStr,
  requester: AppUser.nullish().transform((v) => v ?? undefined),
  reviewedBy: AppUser.nullish().transform((v) => v ?? undefined),
  iamPolicy: z.object({identity: optStr, slug: optStr, name: optStr}).nullish().transform((v) => v ?? undefined),
})
export type AccessElevation = z.infer<typeof AccessElevation>

export const AuditPage = z.object({
  // Required (null allowed): a 200 without `items` is not an empty log, it is a body we do not understand.
  items: z.array(z.record(z.string(), z.unknown())).nullable().transform((v) => v ?? []),
  totalItems: z.number().optional(),
  page: z.number().optional(),
  itemsPerPage: z.number().optional(),
  totalPages: z.number().optional(),
  totalCount: z.number().optional(),
})
export type AuditPage = z.infer<typeof AuditPage>
