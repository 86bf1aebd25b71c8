/**
 * The mutation half of the fault matrix (issue 8.1), in-process against the emulator: every mutating request
 * (create, rotate, disable, enable, delete, cancel-deletion, export, PATCH rotation) × every fault kind. A fault
 * on a mutation may hide whether it happened, so it is never retried: the server receives it exactly once, the
 * command ends with exit 6 naming the endpoint, and (the emulator never runs the handler of a faulted request)
 * nothing changed. The one exception is a refused connection — proof that the request never left — which is
 * retried: persisting, the server receives nothing; once, the server receives exactly one request.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {countInjected, countMutationUnderFault, printTally, tally} from './tally.js'
import {MATRIX_KINDS, MUTATIONS, faultsFor, hits, openCell, outExists, refusedAttempts, retriedLabels, settle, warmUp, type Cell, type MutationCall} from './world.js'

const RETRIES = 3

/** Pulls the plug at the confirmation, i.e. after every read and just before the mutation; `once` puts it back at the first refusal. */
function refusingCell(m: MutationCall, once: boolean): Promise<Cell> {
  let restored = false
  return openCell({
    approval: m.needsApproval, plug: true, retryBaseMs: 50,
    onConfirm: async (c) => {
      c.plug!.pull()
      // let the client see its keep-alive connections close, so the mutation has to open a new one
      await new Promise((resolve) => setTimeout(resolve, 50))
    },
    onTrace: (line, c) => {
      if (once && !restored && refusedAttempts([line], m.label) > 0) {
        restored = true
        void c.plug!.restore()
      }
    },
  })
}

beforeAll(warmUp)

afterAll(() => {
  printTally('mutations')
  expect(tally.mutationsAfterRefusal).toBe(0)
})

for (const m of MUTATIONS) {
  describe.concurrent(`${m.name} (${m.label})`, () => {
    for (const kind of MATRIX_KINDS) {
      if (kind === 'connect-refused') continue
      it(`${kind}: sent exactly once, never retried, exit 6 naming the endpoint, nothing changed`, async ({expect}) => {
        const cell = await openCell({approval: m.needsApproval, shortTimeouts: kind === 'timeout'})
        try {
          cell.emu.setFaults(faultsFor(kind, m.route, 'persistent'))
          const r = await settle(m.run(cell))
          const sent = hits(cell.emu, m.route)
          countInjected(kind, sent)
          countMutationUnderFault()
          expect(sent).toBe(1)
          expect(retriedLabels(cell.trace)).not.toContain(m.label)
          expect(r.ok, 'a mutation that did not happen must not be reported as done').toBe(false)
          if (!r.ok) {
            expect(r.error.exitCode).toBe(6)
            expect(r.error.message).toContain(m.label)
          }
          expect(m.happened(cell)).toBe(false)
          if (m.name === 'export') expect(outExists(cell)).toBe(false)
        } finally {
          await cell.close()
        }
      })
    }

    it(`connect-refused on every attempt: retried (it never left), ${1 + RETRIES} refusals, the server receives nothing, exit 6`, async ({expect}) => {
      const cell = await refusingCell(m, false)
      try {
        const r = await settle(m.run(cell))
        expect(r.ok).toBe(false)
        if (!r.ok) {
          expect(r.error.exitCode).toBe(6)
          expect(r.error.code).toBe('NETWORK_ERROR')
          expect(r.error.message).toContain(m.label)
          expect(r.error.message).toMatch(/connection refused/)
        }
        const refused = refusedAttempts(cell.trace, m.label)
        countInjected('connect-refused', refused)
        countMutationUnderFault()
        expect(refused).toBe(1 + RETRIES)
        expect(hits(cell.emu, m.route)).toBe(0)
        expect(m.happened(cell)).toBe(false)
        if (m.name === 'export') expect(outExists(cell)).toBe(false)
      } finally {
        await cell.close()
      }
    })

    it('connect-refused once: the retry goes through and the server receives exactly one request', async ({expect}) => {
      const cell = await refusingCell(m, true)
      try {
        const r = await settle(m.run(cell))
        expect(r.ok, r.ok ? '' : `${r.error.code}: ${r.error.message}`).toBe(true)
        const refused = refusedAttempts(cell.trace, m.label)
        countInjected('connect-refused', refused)
        countMutationUnderFault()
        expect(refused).toBeGreaterThanOrEqual(1)
        expect(hits(cell.emu, m.route)).toBe(1)
        expect(m.happened(cell)).toBe(true)
      } finally {
        await cell.close()
      }
    })
  })
}
