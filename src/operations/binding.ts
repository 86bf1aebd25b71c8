/**
 * The export binding: what an IAM access elevation created by `export:request` is bound to — one key, region,
 * scope (project or organisation), key version, requester and IAM policy — written into the elevation's labels
 * and annotations, and read back (by `approve` and `export`) with every inconsistency named.
 *
 * Annotations carry the exact values plus `kmsguard-binding-digest`, a SHA-256 over a canonical serialisation
 * of every other `kmsguard-*` annotation. Labels carry the same values where they fit conservative label syntax
 * (`[A-Za-z0-9._-]`, at most 63 characters) and a short hash of the value otherwise, so server-side label
 * filters still work. The digest detects a binding whose labels and annotations disagree or that was edited
 * without recomputing it; it is NOT a signature: anyone who can write the annotations can recompute it. The
 * protection comes from the approver reviewing exactly these values and from `export` checking that the export
 * it is about to run is the one they describe.
 */
import {createHash} from 'node:crypto'
import type {Api} from '../api/index.js'
import type {AccessElevation} from '../api/schemas.js'
import {usageError} from '../cli/errors.js'

export interface ExportBinding {
  /** Key identity (kms-…). */
  key: string
  region: string
  scope: 'project' | 'organisation'
  /** Project identity or slug when scope is `project`, else the organisation. */
  project: string
  keyVersion: number
  /** The requester's subject (user.subject of /v1/me/organisation-memberships). */
  requester: string
  /** Identity or slug of the IAM policy the elevation grants. */
  policy: string
}

const BINDING_FORMAT = 'v1'
const OPERATION_KEY = 'kmsguard-operation'
const DIGEST_KEY = 'kmsguard-binding-digest'
const FORMAT_KEY = 'kmsguard-binding'

/** Binding field → label/annotation key. The order is the display order; the digest sorts by key. */
const BINDING_KEYS: Readonly<Record<keyof ExportBinding, string>> = {
  key: 'kmsguard-key',
  region: 'kmsguard-region',
  scope: 'kmsguard-scope',
  project: 'kmsguard-project',
  keyVersion: 'kmsguard-key-version',
  requester: 'kmsguard-requester',
  policy: 'kmsguard-policy',
}

const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

/** A value as a label: itself when it is label-safe, else `h-` and 40 hex digits of its SHA-256. */
export const labelValue = (value: string): string => (LABEL_VALUE.test(value) ? value : `h-${sha256Hex(value).slice(0, 40)}`)

/** `sha256:<hex>` over the sorted [key, value] pairs of the `kmsguard-*` annotations other than the digest. */
export const bindingDigest = (annotations: Record<string, string>): string => {
  const pairs = Object.keys(annotations).filter((k) => k.startsWith('kmsguard-') && k !== DIGEST_KEY).sort().map((k) => [k, annotations[k]])
  return `sha256:${sha256Hex(JSON.stringify(pairs))}`
}

/** Labels and annotations for the elevation request that binds it to `binding`. */
export function bindingMetadata(binding: ExportBinding): {labels: Record<string, string>; annotations: Record<string, string>} {
  const values: Record<string, string> = {[FORMAT_KEY]: BINDING_FORMAT, [OPERATION_KEY]: 'export'}
  for (const [field, key] of Object.entries(BINDING_KEYS)) values[key] = String(binding[field as keyof ExportBinding])
  const labels = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, labelValue(v)]))
  return {labels, annotations: {...values, [DIGEST_KEY]: bindingDigest(values)}}
}

export type BindingRead = {ok: true; binding: ExportBinding} | {ok: false; kind: 'absent' | 'inconsistent'; message: string}

/**
 * Reads and checks the binding of an elevation: it must be a kmsguard export binding of a known format, every
 * field present and well-formed, the digest must match the annotations and the labels must agree with them.
 */
export function readBinding(e: Pick<AccessElevation, 'labels' | 'annotations'>): BindingRead {
  const labels = e.labels ?? {}
  const annotations = e.annotations ?? {}
  if (annotations[OPERATION_KEY] !== 'export' || labels[OPERATION_KEY] !== 'export') {
    return {ok: false, kind: 'absent', message: 'it carries no kmsguard export binding (labels/annotations kmsguard-operation=export are missing): it was not created by `kmsguard export:request`'}
  }
  if (annotations[FORMAT_KEY] !== BINDING_FORMAT) return {ok: false, kind: 'inconsistent', message: `its binding format is ${JSON.stringify(annotations[FORMAT_KEY] ?? null)}, not ${BINDING_FORMAT}`}
  const missing = Object.values(BINDING_KEYS).filter((k) => !annotations[k])
  if (missing.length > 0) return {ok: false, kind: 'inconsistent', message: `its binding lacks ${missing.join(', ')}`}
  if (annotations[DIGEST_KEY] !== bindingDigest(annotations)) {
    return {ok: false, kind: 'inconsistent', message: `its binding digest (${DIGEST_KEY}) does not match its annotations: the binding was edited or is damaged`}
  }
  const bound = Object.keys(annotations).filter((k) => k.startsWith('kmsguard-') && k !== DIGEST_KEY)
  const disagree = [...new Set([...bound, ...Object.keys(labels).filter((k) => k.startsWith('kmsguard-'))])].filter((k) => labels[k] !== (annotations[k] === undefined ? undefined : labelValue(annotations[k])))
  if (disagree.length > 0) return {ok: false, kind: 'inconsistent', message: `its labels disagree with its annotations (${disagree.join(', ')}): the binding was edited`}
  const version = annotations[BINDING_KEYS.keyVersion]
  const scope = annotations[BINDING_KEYS.scope]
  if (!/^[1-9]\d{0,8}$/.test(version)) return {ok: false, kind: 'inconsistent', message: `its bound key version "${version}" is not a version number`}
  if (scope !== 'project' && scope !== 'organisation') return {ok: false, kind: 'inconsistent', message: `its bound scope "${scope}" is neither project nor organisation`}
  return {ok: true, binding: {
    key: annotations[BINDING_KEYS.key], region: annotations[BINDING_KEYS.region], scope, project: annotations[BINDING_KEYS.project],
    keyVersion: Number(version), requester: annotations[BINDING_KEYS.requester], policy: annotations[BINDING_KEYS.policy],
  }}
}

const ELEVATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

/** An access elevation identity as typed (ELEVATION argument, --approval); `what` names it in the message. */
export function validateElevationId(id: string, what: string): string {
  const v = id.replace(/^ +| +$/g, '') // spaces only: a tab or newline makes it invalid, never silently dropped
  if (!ELEVATION_ID.test(v)) throw usageError(`${what} ${JSON.stringify(id.length > 32 ? `${id.slice(0, 32)}…` : id)} is not an access elevation identity`, 'Use the identity kmsguard export:request printed.')
  return v
}

/** The scope this API client works in, as the binding records it. */
export function currentScope(api: Api): Pick<ExportBinding, 'scope' | 'project'> {
  if (api.transport.project) return {scope: 'project', project: api.transport.project}
  if (api.transport.organisation) return {scope: 'organisation', project: api.transport.organisation}
  throw usageError('an export needs an organisation', 'Pass --org ORG, set THALASSA_ORGANISATION_ID, or select a tcloud context with an organisation.', 'ORGANISATION_REQUIRED')
}

/** Binding fields that differ between what an elevation is bound to and what is about to happen. */
export function bindingDifferences(bound: ExportBinding, actual: Partial<ExportBinding>): Array<{field: keyof ExportBinding; bound: string; actual: string}> {
  const diffs: Array<{field: keyof ExportBinding; bound: string; actual: string}> = []
  for (const field of Object.keys(BINDING_KEYS) as Array<keyof ExportBinding>) {
    const want = actual[field]
    if (want === undefined) continue
    const same = field === 'region' ? String(want).toLowerCase() === bound.region.toLowerCase() : String(want) === String(bound[field])
    if (!same) diffs.push({field, bound: String(bound[field]), actual: String(want)})
  }
  return diffs
}

/** A command line for a human to copy: plain words as they are, anything else single-quoted. */
export function shellCommand(words: Array<string | number>): string {
  return words.map((w) => {
    const s = String(w)
    return /^[A-Za-z0-9._:/@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`
  }).join(' ')
}

/** `--org`/`--project` words that make a printed command run in this scope whatever the reader's defaults. */
export function scopeFlags(api: Api): string[] {
  return [...(api.transport.organisation ? ['--org', api.transport.organisation] : []), ...(api.transport.project ? ['--project', api.transport.project] : [])]
}
