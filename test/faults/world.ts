/**
 * Scaffolding for the in-process fault matrix: a fresh demo emulator per cell, the real operations with a real
 * API client pointed at it (small retry delays), seeded fault options that fault every matching request or only
 * the first one, a loopback "plug" in front of the emulator that makes new connections be refused on demand,
 * and the catalogue of reads and mutations the matrix exercises.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, connect, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createApi, type Api} from '../../src/api/index.js'
import {KmsGuardError, isKmsGuardError} from '../../src/cli/errors.js'
import {FaultInjector, type FaultKind, type FaultOptions} from '../../src/emulator/faults.js'
import {DEMO, FAULT_KINDS, startEmulator, type EmulatorHandle, type StoredKey} from '../../src/emulator/index.js'
import {reviewExport} from '../../src/operations/approve.js'
import {runAudit} from '../../src/operations/audit.js'
import {cancelDeletion} from '../../src/operations/cancel-deletion.js'
import type {OperationOutcome} from '../../src/operations/common.js'
import type {OperationContext} from '../../src/operations/context.js'
import {createKey} from '../../src/operations/create.js'
import {deleteKey} from '../../src/operations/delete.js'
import {disableKey} from '../../src/operations/disable.js'
import {enableKey} from '../../src/operations/enable.js'
import {exportKeyMaterial} from '../../src/operations/export.js'
import {requestExport} from '../../src/operations/export-request.js'
import {rotateKey, updateRotationSchedule} from '../../src/operations/rotate.js'
import {PromptConfirmer, type Confirmer} from '../../src/ui/confirm.js'
import {testConfig, testContext} from '../helpers/context.js'

export const REGION = DEMO.regions.available
const K = DEMO.keys

// ------------------------------------------------------------------------------------------------ fault kinds

/** The three bodies the emulator's 'wrong-shape' fault chooses from, as separate matrix kinds. */
const SHAPES = {'wrong-shape:object': '{"unexpected":true}', 'wrong-shape:string': '"unexpected"', 'wrong-shape:array': '[1,2,3]'} as const
export type ShapeKind = keyof typeof SHAPES
export type EmulatorKind = Exclude<FaultKind, 'wrong-shape'> | ShapeKind
export type MatrixKind = EmulatorKind | 'connect-refused'

export const MATRIX_KINDS: readonly MatrixKind[] = [
  ...FAULT_KINDS.filter((k): k is Exclude<FaultKind, 'wrong-shape'> => k !== 'wrong-shape'),
  ...(Object.keys(SHAPES) as ShapeKind[]),
  'connect-refused',
]

export const isShape = (kind: MatrixKind): kind is ShapeKind => kind in SHAPES

/** Requests faulted alike in a row (persistent), or left alone after the first (transient), by a chosen seed. */
const SPAN = {persistent: 8, transient: 12}
const seeds = new Map<string, FaultOptions>()

/** What the emulator's injector does to the first `n` matching requests: the fault kind, or the body of a wrong shape. */
function firstFaults(opts: FaultOptions, n: number): Array<string | undefined> {
  const injector = new FaultInjector({...opts, routes: undefined})
  return Array.from({length: n}, () => {
    const kind = injector.pick('GET', '/')
    return kind === 'wrong-shape' ? injector.wrongShape() : kind
  })
}

/**
 * Fault options for `kind` on `route` (a regular expression over "METHOD /path"): `persistent` faults every
 * matching request the same way (rate 1); `transient` uses rate 0.25 with a seed whose first matching request is
 * faulted and the next ones are not, so one retry gets through.
 */
export function faultsFor(kind: EmulatorKind, route: string, mode: 'persistent' | 'transient'): FaultOptions {
  const cacheKey = `${kind} ${mode}`
  const [base, want]: [FaultKind, string] = isShape(kind) ? ['wrong-shape', SHAPES[kind]] : [kind, kind]
  let found = seeds.get(cacheKey)
  for (let seed = 1; found === undefined && seed < 2_000_000; seed++) {
    const opts: FaultOptions = {rate: mode === 'persistent' ? 1 : 0.25, kinds: [base], seed}
    const seq = firstFaults(opts, SPAN[mode])
    const fits = mode === 'persistent' ? seq.every((s) => s === want) : seq[0] === want && seq.slice(1).every((s) => s === undefined)
    if (fits) found = opts
  }
  if (found === undefined) throw new Error(`no seed gives a ${mode} ${kind} fault`)
  seeds.set(cacheKey, found)
  return {...found, routes: [route]}
}

// ------------------------------------------------------------------------------------------------ the plug

/** A TCP forwarder in front of the emulator. pull(): new connections are refused and open ones dropped. */
export interface Plug {
  url: string
  pulled: boolean
  pull(): void
  restore(): Promise<void>
  close(): Promise<void>
}

export async function openPlug(targetPort: number): Promise<Plug> {
  const sockets = new Set<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => s.destroy())
  }
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    track(client)
    track(upstream)
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  await listen(0)
  const port = (server.address() as {port: number}).port
  const plug: Plug = {
    url: `http://127.0.0.1:${port}`,
    pulled: false,
    pull() {
      if (plug.pulled) return
      plug.pulled = true
      server.close()
      for (const s of sockets) s.destroy()
    },
    async restore() {
      if (!plug.pulled) return
      plug.pulled = false
      await listen(port)
    },
    async close() {
      plug.pull()
    },
  }
  return plug
}

// ------------------------------------------------------------------------------------------------ cells

export interface CellOptions {
  /** Short per-attempt timeouts, for the 'timeout' fault (it never answers). */
  shortTimeouts?: boolean
  /** Put the plug between the client and the emulator. */
  plug?: boolean
  /** Create and approve an export request for escrow-key first, before any fault is set. */
  approval?: boolean
  /** Called for every line of the transport's debug trace ("GET /path -> 200 in 3 ms", "retry 1/3 …"). */
  onTrace?: (line: string, cell: Cell) => void
  /** Called right after a confirmation was given, i.e. just before the first mutating request. */
  onConfirm?: (cell: Cell) => Promise<void> | void
  /** Base of the transport's backoff (default 5 ms). */
  retryBaseMs?: number
}

export interface Cell {
  emu: EmulatorHandle
  api: Api
  ctx: OperationContext
  dir: string
  /** --out path for exports (does not exist beforehand). */
  out: string
  /** The approved elevation, when `approval` was asked for. */
  approval?: string
  plug?: Plug
  trace: string[]
  close(): Promise<void>
}

/** Per-attempt header and body timeouts of a 'timeout' cell: short, yet far above what a loaded emulator needs. */
const SHORT_TIMEOUT_MS = 500

/** Calls `hook` after each confirmation the real non-interactive confirmer gives. */
class HookedConfirmer implements Confirmer {
  private readonly inner = new PromptConfirmer(false)
  readonly interactive = false
  constructor(private readonly hook: () => Promise<void> | void) {}
  show() {}
  typed(opts: Parameters<Confirmer['typed']>[0]) {
    return this.after(this.inner.typed(opts))
  }
  yesNo(opts: Parameters<Confirmer['yesNo']>[0]) {
    return this.after(this.inner.yesNo(opts))
  }
  count(opts: Parameters<Confirmer['count']>[0]) {
    return this.after(this.inner.count(opts))
  }
  private async after<T>(p: Promise<T>): Promise<T> {
    const v = await p
    await this.hook()
    return v
  }
}

function contextFor(api: Api, dir: string, token: string, confirm?: Confirmer): OperationContext {
  const base = testConfig()
  return testContext({
    api,
    config: {...base, endpoint: {value: api.transport.endpoint, source: 'test'}, credentials: {value: {kind: 'pat', token}, source: 'test'}, journal: {value: join(dir, 'journal.jsonl'), source: 'test'}, settings: {exportPolicy: DEMO.exportPolicy.slug}},
    now: () => new Date(),
    ...(confirm ? {confirm} : {}),
  })
}

const plainApi = (endpoint: string, token: string) => createApi({endpoint, organisation: DEMO.org.slug, credentials: {kind: 'pat', token}, userAgent: 'kmsguard-fault-suite', maxRetries: 0})

/** The two-person approval the export cells need: requested by the operator, approved by the approver. */
async function approveEscrowExport(emu: EmulatorHandle, dir: string): Promise<string> {
  const requester = contextFor(plainApi(emu.url, DEMO.tokens.operator), dir, DEMO.tokens.operator)
  const approver = contextFor(plainApi(emu.url, DEMO.tokens.approver), dir, DEMO.tokens.approver)
  const requested = await requestExport(requester, {region: REGION, key: K.escrowKey.slug, policy: DEMO.exportPolicy.slug, reason: 'fault suite rehearsal', yes: true, dryRun: false})
  const id = requested.result.elevation!.identity
  await reviewExport(approver, {elevation: id, action: 'approve', confirm: K.escrowKey.slug, dryRun: false})
  await Promise.all([requester.api.transport.close(), approver.api.transport.close()])
  return id
}

/** A fresh demo emulator and an operator context against it (through the plug when asked). */
export async function openCell(opts: CellOptions = {}): Promise<Cell> {
  const emu = await startEmulator({port: 0, seed: 'demo', quiet: true})
  const dir = mkdtempSync(join(tmpdir(), 'kmsguard-faults-'))
  const approval = opts.approval ? await approveEscrowExport(emu, dir) : undefined
  emu.clearRequests()
  const plug = opts.plug ? await openPlug(emu.port) : undefined
  const trace: string[] = []
  const cell = {} as Cell
  const short = opts.shortTimeouts ? SHORT_TIMEOUT_MS : undefined
  const api = createApi({
    endpoint: plug?.url ?? emu.url, organisation: DEMO.org.slug, credentials: {kind: 'pat', token: DEMO.tokens.operator}, userAgent: 'kmsguard-fault-suite',
    maxRetries: 3, retryBaseMs: opts.retryBaseMs ?? 5, retryMaxMs: 40, headersTimeoutMs: short, bodyTimeoutMs: short, deadline: Date.now() + 25_000,
    debug: (line) => {
      trace.push(line)
      opts.onTrace?.(line, cell)
    },
  })
  const confirm = opts.onConfirm ? new HookedConfirmer(() => opts.onConfirm!(cell)) : undefined
  Object.assign(cell, {
    emu, api, dir, approval, plug, trace, out: join(dir, 'exported.bin'),
    ctx: contextFor(api, dir, DEMO.tokens.operator, confirm),
    async close() {
      await plug?.close()
      await emu.close()
      await api.transport.close()
      rmSync(dir, {recursive: true, force: true})
    },
  } satisfies Cell)
  return cell
}

// ------------------------------------------------------------------------------------------------ observing

/** Requests the emulator received on `route` (a regular expression over "METHOD /path"). */
export const hits = (emu: EmulatorHandle, route: string): number => {
  const re = new RegExp(route)
  return emu.requests.filter((r) => re.test(`${r.method} ${r.path}`)).length
}

/** Labels ("METHOD /path") of the retries the transport announced in its trace. */
export const retriedLabels = (trace: string[]): string[] =>
  trace.flatMap((l) => /^retry \d+\/\d+ (\S+ \S+) in /.exec(l)?.[1] ?? [])

/** Attempts the transport made on `label` ("METHOD /path") that ended in a refused connection. */
export const refusedAttempts = (trace: string[], label: string): number =>
  trace.filter((l) => l.startsWith(label) && /^[ ?]/.test(l.slice(label.length)) && l.includes(' -> network error ECONNREFUSED')).length

export type Settled<T> = {ok: true; value: T} | {ok: false; error: KmsGuardError}

/** The operation's outcome or its typed error; anything else (a bug) is rethrown. */
export async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return {ok: true, value: await p}
  } catch (error) {
    if (isKmsGuardError(error)) return {ok: false, error}
    throw error
  }
}

export const storedKey = (emu: EmulatorHandle, identity: string): StoredKey => emu.state.keys.find((k) => k.identity === identity)!

export const outExists = (cell: Cell): boolean => existsSync(cell.out)

// ------------------------------------------------------------------------------------------------ operations

const keyPath = (identity: string, suffix = '') => `/v1/kms/${REGION}/keys/${identity}${suffix}`
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The commands a failed read must stop. */
export const GUARDED: Record<'delete' | 'export' | 'audit', (c: Cell) => Promise<OperationOutcome<unknown>>> = {
  delete: (c: Cell) => deleteKey(c.ctx, {region: REGION, key: K.legacyData.slug, confirm: K.legacyData.slug, dryRun: false}),
  export: (c: Cell) => exportKeyMaterial(c.ctx, {region: REGION, key: K.escrowKey.slug, approval: c.approval!, out: c.out, plaintext: true, confirm: K.escrowKey.slug, dryRun: false}),
  audit: (c: Cell) => runAudit(c.ctx, {since: '7d'}),
}

export interface ReadCall {
  name: string
  /** Fault filter: a regular expression over "METHOD /path". */
  route: string
  /** How error messages name the endpoint. */
  endpoint: RegExp
  /** The call itself. */
  direct(c: Cell): Promise<unknown>
  /** The command whose guard depends on this read, and how it refuses when the read fails. */
  guarded: keyof typeof GUARDED
  refusal: {exitCode: number; code?: string}
  /** For 'connect-refused': the trace line after which the plug is pulled ('start' = before anything is sent). */
  pullAfter: RegExp | 'start'
}

const scanRefusal = {exitCode: 4, code: 'SCAN_INCOMPLETE'}
const afterKeyGet = new RegExp(`^GET ${esc(keyPath(K.legacyData.slug))} -> 200`)

export const READS: readonly ReadCall[] = [
  {name: 'summary', route: '^GET /v1/kms/summary$', endpoint: /GET \/v1\/kms\/summary/, direct: (c) => c.api.kms.summary(), guarded: 'delete', refusal: {exitCode: 6}, pullAfter: 'start'},
  {name: 'key get', route: `^GET ${esc(keyPath(K.legacyData.slug))}$`, endpoint: new RegExp(`GET ${esc(keyPath(K.legacyData.slug))}`), direct: (c) => c.api.kms.getKey(REGION, K.legacyData.slug), guarded: 'delete', refusal: {exitCode: 6}, pullAfter: /^GET \/v1\/kms\/summary -> 200/},
  {name: 'secrets list', route: `^GET /v1/secrets/${REGION}/secrets$`, endpoint: new RegExp(`GET /v1/secrets/${REGION}/secrets`), direct: (c) => c.api.secrets.list(REGION, null), guarded: 'delete', refusal: scanRefusal, pullAfter: afterKeyGet},
  {name: 'zones list', route: '^GET /v1/dns/zones$', endpoint: /GET \/v1\/dns\/zones(?!\/)/, direct: (c) => c.api.dns.zones(null), guarded: 'delete', refusal: scanRefusal, pullAfter: afterKeyGet},
  {name: 'DNSSEC status', route: '^GET /v1/dns/zones/[^/]+/dnssec$', endpoint: /GET \/v1\/dns\/zones\/[^/ ]+\/dnssec/, direct: (c) => c.api.dns.dnssec(DEMO.zones.web.identity, DEMO.projects.web.identity), guarded: 'delete', refusal: scanRefusal, pullAfter: /^GET \/v1\/dns\/zones -> 200/},
  {name: 'elevation get', route: '^GET /v1/projects/iam/my-access-elevations/[^/]+$', endpoint: /GET \/v1\/projects\/iam\/my-access-elevations\/iamae-/, direct: (c) => c.api.elevations.getMine(c.approval!), guarded: 'export', refusal: {exitCode: 6}, pullAfter: /^GET \/v1\/me\/organisation-memberships -> 200/},
  {name: 'audit page', route: '^GET /v1/audit$', endpoint: /GET \/v1\/audit/, direct: (c) => c.api.audit.page({page: 1, limit: 100}), guarded: 'audit', refusal: {exitCode: 6}, pullAfter: 'start'},
]

export interface MutationCall {
  name: string
  /** Fault filter and the label the transport uses ("METHOD /path"). */
  route: string
  label: string
  needsApproval?: boolean
  run(c: Cell): Promise<OperationOutcome<unknown>>
  /** True when the emulator's state shows the mutation happened. */
  happened(c: Cell): boolean
}

const mutation = (name: string, method: string, path: string, rest: Omit<MutationCall, 'name' | 'route' | 'label'>): MutationCall =>
  ({name, route: `^${method} ${esc(path)}$`, label: `${method} ${path}`, ...rest})

const NEW_KEY = 'fault-suite-key'

export const MUTATIONS: readonly MutationCall[] = [
  mutation('create', 'POST', `/v1/kms/${REGION}/keys`, {
    run: (c) => createKey(c.ctx, {region: REGION, name: NEW_KEY, keyType: 'aes256-gcm96', labels: {purpose: 'fault-suite'}, yes: true, dryRun: false}),
    happened: (c) => c.emu.state.keys.some((k) => k.name === NEW_KEY),
  }),
  mutation('rotate', 'POST', keyPath(K.appSecrets.identity, '/rotate'), {
    run: (c) => rotateKey(c.ctx, {region: REGION, key: K.appSecrets.slug, yes: true, dryRun: false}),
    happened: (c) => storedKey(c.emu, K.appSecrets.identity).versions.length > 2,
  }),
  mutation('disable', 'POST', keyPath(K.fleetBeta.identity, '/disable'), {
    run: (c) => disableKey(c.ctx, {region: REGION, key: K.fleetBeta.slug, reason: 'fault suite', confirm: K.fleetBeta.slug, dryRun: false}),
    happened: (c) => storedKey(c.emu, K.fleetBeta.identity).status === 'disabled',
  }),
  mutation('enable', 'POST', keyPath(K.legacyData.identity, '/enable'), {
    run: (c) => enableKey(c.ctx, {region: REGION, key: K.legacyData.slug, yes: true, dryRun: false}),
    happened: (c) => storedKey(c.emu, K.legacyData.identity).status === 'active',
  }),
  mutation('delete', 'DELETE', keyPath(K.legacyData.identity), {
    run: GUARDED.delete,
    happened: (c) => storedKey(c.emu, K.legacyData.identity).status === 'pending_deletion',
  }),
  mutation('cancel-deletion', 'DELETE', keyPath(K.oldHmac.identity, '/cancel-deletion'), {
    run: (c) => cancelDeletion(c.ctx, {region: REGION, key: K.oldHmac.slug, yes: true, dryRun: false}),
    happened: (c) => storedKey(c.emu, K.oldHmac.identity).status !== 'pending_deletion',
  }),
  mutation('export', 'POST', keyPath(K.escrowKey.identity, '/export'), {
    needsApproval: true,
    run: GUARDED.export,
    happened: (c) => outExists(c),
  }),
  mutation('PATCH rotation', 'PATCH', keyPath(K.appSecrets.identity, '/rotation'), {
    run: (c) => updateRotationSchedule(c.ctx, {region: REGION, key: K.appSecrets.slug, schedule: 30, yes: true, dryRun: false}),
    happened: (c) => storedKey(c.emu, K.appSecrets.identity).rotationPeriodInDays === 30,
  }),
]

/**
 * Finds every seed and runs every mutation once without faults, so that first-use costs (seed search, lazy
 * imports, JIT) are paid before the matrix starts and cannot eat into the short timeouts of the 'timeout' cells.
 */
export async function warmUp(): Promise<void> {
  // the seed search is synchronous: done here, it cannot stall the concurrent cells
  for (const kind of MATRIX_KINDS) if (kind !== 'connect-refused') for (const mode of ['persistent', 'transient'] as const) faultsFor(kind, '', mode)
  for (const m of MUTATIONS) {
    const cell = await openCell({approval: m.needsApproval})
    try {
      await m.run(cell)
    } finally {
      await cell.close()
    }
  }
}
