/** Audit review: pure analysis of `kms.*` audit events; the `audit` command pages the API and renders. */
export {parseDuration} from './duration.js'
export {AuditEventSchema, contextValue, parseAuditFile, principalLabelOf, principalNamesOf, principalOf, type AuditEvent} from './events.js'
export {isNewestFirst, pageIsPastWindow} from './window.js'
export {
  analyseAudit, AuditAccumulator, CRYPTO_ACTIONS, DECRYPT_ANOMALY_RULE,
  type AuditOptions, type AuditReport, type DecryptAnomaly, type ExportFinding, type FailedCryptoFinding, type KeyInfo, type KeyLabel, type RotationFinding,
} from './analyse.js'
