/**
 * The read half of the fault matrix (issue 8.1), in-process against the emulator: every read kmsguard's guards
 * depend on × every fault kind (the emulator's ten, with the three wrong-shape bodies apart, plus a refused
 * connection). For each cell:
 * - the read itself is retried with bounded backoff (3 retries; none for a body of the wrong shape) and then
 *   fails with exit 6 naming the endpoint;
 * - the command whose guard depends on it refuses (fail closed) and the server receives no mutation;
 * - the same fault once (only the first matching request) is absorbed by a retry and the command succeeds —
 *   except a wrong shape, which is never retried and still refuses.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Unread} from '../../src/guards/references.js'
import {DEMO} from '../../src/emulator/index.js'
import {mutations} from '../e2e/harness.js'
import {countGuard, countInjected, printTally, tally} from './tally.js'
import {
  GUARDED, MATRIX_KINDS, READS, faultsFor, hits, isShape, openCell, outExists, retriedLabels, settle, warmUp, storedKey,
  type Cell, type MatrixKind, type ReadCall,
} from './world.js'

const RETRIES = 3
const refused = (trace: string[]) => trace.filter((l) => l.includes(' -> network error ECONNREFUSED')).length
const retriedOn = (cell: Cell, read: ReadCall) => retriedLabels(cell.trace).filter((l) => new RegExp(read.route).test(l)).length

/**
 * A cell with `kind` on `read`. A refused connection is made by pulling the plug once `read.pullAfter` has been
 * seen (or at once); `transient` puts it back at the first refusal.
 */
async function readCell(read: ReadCall, kind: MatrixKind, mode: 'persistent' | 'transient', direct = false): Promise<Cell> {
  const approval = read.guarded === 'export'
  if (kind !== 'connect-refused') {
    const cell = await openCell({approval, shortTimeouts: kind === 'timeout'})
    cell.emu.setFaults(faultsFor(kind, read.route, mode))
    return cell
  }
  const pullAfter = direct ? 'start' : read.pullAfter
  let pulled = false
  let restored = false
  const cell = await openCell({
    approval, plug: true, retryBaseMs: 50,
    onTrace: (line, c) => {
      if (!pulled && pullAfter !== 'start' && pullAfter.test(line)) {
        pulled = true
        c.plug!.pull()
      }
      if (mode === 'transient' && !restored && line.includes(' -> network error ECONNREFUSED')) {
        restored = true
        void c.plug!.restore()
      }
    },
  })
  if (pullAfter === 'start') cell.plug!.pull()
  return cell
}

const injectedBy = (cell: Cell, read: ReadCall, kind: MatrixKind) => (kind === 'connect-refused' ? refused(cell.trace) : hits(cell.emu, read.route))

beforeAll(warmUp)

afterAll(() => {
  printTally('reads')
  expect(tally.mutationsAfterRefusal).toBe(0)
})

for (const read of READS) {
  describe.concurrent(`${read.name} (${read.route})`, () => {
    for (const kind of MATRIX_KINDS) {
      const attempts = isShape(kind) ? 1 : 1 + RETRIES

      it(`${kind}: the read is tried ${attempts} time(s), then fails with exit 6 naming the endpoint`, async ({expect}) => {
        const cell = await readCell(read, kind, 'persistent', true)
        try {
          const r = await settle(read.direct(cell))
          const injected = injectedBy(cell, read, kind)
          countInjected(kind, injected)
          expect(r.ok, 'the read must fail').toBe(false)
          if (r.ok) return
          expect(r.error.exitCode).toBe(6)
          expect(r.error.message).toMatch(read.endpoint)
          expect(injected).toBe(attempts)
          if (kind === 'connect-refused') expect(cell.emu.requests).toHaveLength(0)
          if (kind === '429') {
            // Retry-After: 1 is honoured: no retry comes sooner than a second after the 429 before it
            const at = cell.emu.requests.map((q) => q.at)
            for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(950)
          }
        } finally {
          await cell.close()
        }
      })

      it(`${kind} on every attempt: ${read.guarded} refuses (exit ${read.refusal.exitCode}) and no mutation is sent`, async ({expect}) => {
        const cell = await readCell(read, kind, 'persistent')
        try {
          const r = await settle(GUARDED[read.guarded](cell))
          const sent = mutations(cell.emu).length
          countInjected(kind, injectedBy(cell, read, kind))
          if (read.guarded !== 'audit') countGuard(!r.ok, sent)
          expect(sent).toBe(0)
          expect(r.ok, `${read.guarded} must refuse`).toBe(false)
          if (r.ok) return
          expect(r.error.exitCode).toBe(read.refusal.exitCode)
          if (read.refusal.code) expect(r.error.code).toBe(read.refusal.code)
          if (read.refusal.exitCode === 6) expect(r.error.message).toMatch(read.endpoint)
          else {
            const unread = (r.error.details as {unread: Unread[]}).unread
            expect(unread.some((u) => read.endpoint.test(u.error)), JSON.stringify(unread)).toBe(true)
          }
          if (read.guarded === 'export') expect(outExists(cell)).toBe(false)
          if (read.guarded === 'delete') expect(storedKey(cell.emu, DEMO.keys.legacyData.identity).status).toBe('disabled')
        } finally {
          await cell.close()
        }
      })

      const once = isShape(kind) ? `${read.guarded} still refuses: a body of the wrong shape is never retried` : `a retry absorbs it and ${read.guarded} succeeds`
      it(`${kind} once: ${once}`, async ({expect}) => {
        const cell = await readCell(read, kind, 'transient')
        try {
          const r = await settle(GUARDED[read.guarded](cell))
          countInjected(kind, kind === 'connect-refused' ? refused(cell.trace) : 1)
          if (isShape(kind)) {
            const sent = mutations(cell.emu).length
            if (read.guarded !== 'audit') countGuard(!r.ok, sent)
            expect(sent).toBe(0)
            expect(r.ok, `${read.guarded} must refuse`).toBe(false)
            if (!r.ok) expect(r.error.exitCode).toBe(read.refusal.exitCode)
            expect(retriedOn(cell, read)).toBe(0)
          } else {
            expect(r.ok, r.ok ? '' : `${r.error.code}: ${r.error.message}`).toBe(true)
            expect(retriedOn(cell, read)).toBeGreaterThanOrEqual(1)
            if (read.guarded === 'delete') {
              expect(mutations(cell.emu).map((q) => `${q.method} ${q.path}`)).toEqual([`DELETE /v1/kms/nl-01/keys/${DEMO.keys.legacyData.identity}`])
              expect(storedKey(cell.emu, DEMO.keys.legacyData.identity).status).toBe('pending_deletion')
            }
            if (read.guarded === 'export') expect(outExists(cell)).toBe(true)
          }
        } finally {
          await cell.close()
        }
      })
    }
  })
}
