/**
 * End-to-end: `kmsguard demo`, the narrated rehearsal, runs every guarded command against its own in-process
 * emulator; every step must end with the exit code the rehearsal expects (refusals included).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startE2E, type E2E} from './harness.js'

let e: E2E
beforeAll(async () => {
  e = await startE2E()
})
afterAll(async () => e?.close())

describe('demo', () => {
  it('exits 0 and every step reports ok', async () => {
    const r = await e.run(['demo', '--json'], {timeoutMs: 110_000})
    expect(r.code, r.stdout.slice(0, 2000)).toBe(0)
    expect(r.json).toMatchObject({status: 'ok', command: 'demo'})
    const steps: Array<{title: string; status: string; exitCode?: number; expectExit: number}> = r.json.result.steps
    expect(steps.length).toBeGreaterThanOrEqual(18)
    expect(steps.filter((s) => s.status !== 'ok')).toEqual([])
    expect(steps.every((s) => s.exitCode === s.expectExit)).toBe(true)
    expect(r.json.result).toMatchObject({ran: steps.length, notAvailable: 0})
    // the refusals the rehearsal shows really were refusals
    expect(steps.map((s) => s.expectExit)).toEqual(expect.arrayContaining([4, 5, 8]))
    expect(r.stderr).toMatch(/Two-person|second person/i)
  }, 120_000)
})
