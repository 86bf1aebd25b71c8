/**
 * Saving and loading the emulator state (`dataFile`). The file is the state as JSON (with `kind` and
 * `schemaVersion` markers), written atomically (temp file in the same directory, fsync, rename) with mode 0600,
 * debounced after mutations and flushed on close. A file that is not valid JSON or not ours is never
 * overwritten: loading throws an Error naming it.
 *
 * Key material is sealed at rest with AES-256-GCM under a local master key kept next to the data file in
 * `<dataFile>.key` (created new, 0600). THIS IS FOR REHEARSAL ONLY: the master key sits beside the data it
 * protects, which keeps material out of casual view (logs, backups of the JSON, diffs) but is no real
 * protection. Never put production key material into the emulator.
 */
import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {
  SCHEMA_VERSION, STATE_KIND, type EmulatorState, type KeyVersion, type Region, type StoredKey,
} from './state.js'

const MASTER_KEY_BYTES = 32
/** Saves wait at least this long after a change, and longer for big states (5× the last save's duration). */
const MIN_SAVE_DELAY_MS = 25
const SEAL_PREFIX = 'aes256gcm:'

type Sealed = string
type PersistedKey = Omit<StoredKey, 'versions'> & {versions: (Omit<KeyVersion, 'material'> & {material: Sealed})[]}
type PersistedRegion = Omit<Region, 'wrappingKey'> & {wrappingKey?: {material: Sealed; createdAt: number}}
type PersistedState = Omit<EmulatorState, 'keys' | 'regions'> & {keys: PersistedKey[]; regions: PersistedRegion[]}

const ARRAY_FIELDS = [
  'regions', 'orgs', 'principals', 'memberships', 'personalAccessTokens', 'accessTokens', 'serviceClients', 'projects',
  'iamPolicies', 'keys', 'secrets', 'zones', 'elevations', 'audit',
] as const

// ---- sealing ---------------------------------------------------------------------------------------------------

const sealCache = new WeakMap<Buffer, {aad: string; sealed: Sealed}>()

function seal(masterKey: Buffer, material: Buffer, aad: string): Sealed {
  const cached = sealCache.get(material)
  if (cached?.aad === aad) return cached.sealed
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', masterKey, iv)
  c.setAAD(Buffer.from(aad))
  const body = Buffer.concat([c.update(material), c.final()])
  const sealed = SEAL_PREFIX + Buffer.concat([iv, body, c.getAuthTag()]).toString('base64')
  sealCache.set(material, {aad, sealed})
  return sealed
}

function unseal(masterKey: Buffer, sealed: unknown, aad: string): Buffer {
  if (typeof sealed !== 'string' || !sealed.startsWith(SEAL_PREFIX)) throw new Error(`sealed material for ${aad} is malformed`)
  const blob = Buffer.from(sealed.slice(SEAL_PREFIX.length), 'base64')
  const d = createDecipheriv('aes-256-gcm', masterKey, blob.subarray(0, 12))
  d.setAAD(Buffer.from(aad))
  d.setAuthTag(blob.subarray(blob.length - 16))
  const material = Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()])
  sealCache.set(material, {aad, sealed})
  return material
}

const versionAad = (k: {identity: string}, v: {version: number}) => `key:${k.identity}:v${v.version}`
const wrappingAad = (r: {slug: string}) => `wrapping-key:${r.slug}`

function serializeState(state: EmulatorState, masterKey: Buffer): string {
  const persisted: PersistedState = {
    ...state,
    keys: state.keys.map((k) => ({...k, versions: k.versions.map((v) => ({...v, material: seal(masterKey, v.material, versionAad(k, v))}))})),
    regions: state.regions.map((r) => ({
      ...r,
      wrappingKey: r.wrappingKey === undefined ? undefined
        : {createdAt: r.wrappingKey.createdAt, material: seal(masterKey, r.wrappingKey.material, wrappingAad(r))},
    })),
  }
  return JSON.stringify(persisted)
}

/** Parses and checks the file's markers and shape; throws (naming the file) for anything not ours. */
function parseStateFile(file: string, text: string): PersistedState {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`emulator state file ${file} is not valid JSON (corrupt?); refusing to use or overwrite it`)
  }
  const p = parsed as Partial<PersistedState> | null
  if (p === null || typeof p !== 'object' || p.kind !== STATE_KIND || p.schemaVersion !== SCHEMA_VERSION) {
    throw new Error(`${file} is not a kmsguard emulator state file of schemaVersion ${SCHEMA_VERSION}; refusing to use or overwrite it`)
  }
  const missing = ARRAY_FIELDS.filter((f) => !Array.isArray(p[f]))
  if (missing.length > 0) throw new Error(`emulator state file ${file} is incomplete (missing ${missing.join(', ')}); refusing to use or overwrite it`)
  return p as PersistedState
}

function unsealState(state: PersistedState, key: Buffer): EmulatorState {
  return {
    ...state,
    keys: state.keys.map((k) => ({...k, versions: k.versions.map((v) => ({...v, material: unseal(key, v.material, versionAad(k, v))}))})),
    regions: state.regions.map((r) => ({
      ...r,
      wrappingKey: r.wrappingKey === undefined ? undefined
        : {createdAt: r.wrappingKey.createdAt, material: unseal(key, r.wrappingKey.material, wrappingAad(r))},
    })),
  }
}

/** Reads an existing state file and its master key. */
function loadStateFile(file: string, keyFile: string): {state: EmulatorState; masterKey: Buffer} {
  const persisted = parseStateFile(file, readFileSync(file, 'utf8'))
  if (!existsSync(keyFile)) throw new Error(`emulator master key ${keyFile} is missing; cannot read ${file}`)
  const masterKey = readMasterKey(keyFile)
  try {
    return {state: unsealState(persisted, masterKey), masterKey}
  } catch (e) {
    throw new Error(`cannot decrypt key material in ${file} with ${keyFile} (${(e as Error).message}); refusing to use or overwrite it`)
  }
}

// ---- files -----------------------------------------------------------------------------------------------------

/** Writes `data` to `file` atomically: new temp file (0600) in the same directory, fsync, rename. */
function writeFileAtomic(file: string, data: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    writeSync(fd, data)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    unlinkSync(tmp)
    throw e
  }
  closeSync(fd)
  renameSync(tmp, file)
}

function readMasterKey(keyFile: string): Buffer {
  const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')
  if (key.length !== MASTER_KEY_BYTES) throw new Error(`${keyFile} is not an emulator master key (expected ${MASTER_KEY_BYTES} bytes, base64)`)
  return key
}

/** Loads the master key, or creates it (O_EXCL, 0600) when absent. */
function ensureMasterKey(keyFile: string): Buffer {
  if (existsSync(keyFile)) return readMasterKey(keyFile)
  const key = randomBytes(MASTER_KEY_BYTES)
  const fd = openSync(keyFile, 'wx', 0o600)
  try {
    writeSync(fd, key.toString('base64') + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return key
}

export interface Persister {
  /** Schedules a (debounced) save. */
  markDirty(): void
  /** Saves now if anything changed since the last save. */
  flush(): void
}

/**
 * Opens `dataFile`: loads it when present (throwing, without touching it, if it is corrupt or foreign), otherwise
 * seeds a new state and writes it. Returns the state and a persister bound to it.
 */
export async function openStateFile(
  dataFile: string, seed: () => Promise<EmulatorState>, onError: (message: string) => void,
): Promise<{state: EmulatorState; persister: Persister}> {
  const keyFile = `${dataFile}.key`
  let state: EmulatorState
  let masterKey: Buffer
  if (existsSync(dataFile)) {
    ({state, masterKey} = loadStateFile(dataFile, keyFile))
  } else {
    state = await seed()
    masterKey = ensureMasterKey(keyFile)
    writeFileAtomic(dataFile, serializeState(state, masterKey))
  }
  return {state, persister: createPersister(dataFile, () => state, masterKey, onError)}
}

function createPersister(dataFile: string, current: () => EmulatorState, masterKey: Buffer, onError: (m: string) => void): Persister {
  let dirty = false
  let timer: NodeJS.Timeout | undefined
  let lastSaveMs = 0
  const save = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (!dirty) return
    dirty = false
    const started = Date.now()
    writeFileAtomic(dataFile, serializeState(current(), masterKey))
    lastSaveMs = Date.now() - started
  }
  return {
    markDirty() {
      dirty = true
      timer ??= setTimeout(() => {
        try {
          save()
        } catch (e) {
          onError(`failed to save emulator state to ${dataFile}: ${(e as Error).message}`)
        }
      }, Math.max(MIN_SAVE_DELAY_MS, 5 * lastSaveMs))
    },
    flush: save,
  }
}
