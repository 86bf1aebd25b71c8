/**
 * Ctrl-C (issue 8.5), through the built CLI: SIGINT while the reference scan is running, while the export POST
 * is in flight (after the confirmation, with the --out file already reserved), and during a retry's backoff.
 * Each time the command stops by its own clean path — exit 130 and the "interrupted" error, not the 3-second
 * fallback exit that prints nothing — leaves no partial output, sends nothing more, and leaves a journal whose
 * lines are whole and whose chain `journal verify` accepts.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {mutations, type E2E} from '../e2e/harness.js'
import {approvedExport, journalLines, requestSeen, startCli, withE2E} from './child.js'
import {countGuard, countInjected, printTally, tally} from './tally.js'
import {faultsFor} from './world.js'

const R = DEMO.regions.available
const K = DEMO.keys
const isScanRead = (path: string) => path === '/v1/projects' || path.startsWith('/v1/secrets/') || path.startsWith('/v1/dns/')

async function journalIntact(e: E2E): Promise<void> {
  for (const line of journalLines(e)) expect(() => JSON.parse(line)).not.toThrow()
  const verify = await e.run(['journal', 'verify', '--json'])
  expect(verify.code, verify.stdout).toBe(0)
}

afterAll(() => {
  printTally('interrupts')
  expect(tally.mutationsAfterRefusal).toBe(0)
})

describe.concurrent('SIGINT', () => {
  it('during the reference scan of a delete: exit 130 at once, nothing on stdout, no DELETE, journal intact', () => withE2E(async (e) => {
    const run = startCli(e, ['delete', K.legacyData.slug, '-r', R, '--confirm', K.legacyData.slug])
    await requestSeen(e, (q) => isScanRead(q.path))
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.signal).toBeNull()
    expect(r.code).toBe(130)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/Error: interrupted \(SIGINT\)/)
    const sent = mutations(e.emu).length
    countGuard(r.code !== 0, sent)
    expect(sent).toBe(0)
    expect(journalLines(e)).toHaveLength(1)
    expect(JSON.parse(journalLines(e)[0]).result).toMatchObject({status: 'error', exitCode: 130})
    await journalIntact(e)
  }, {latencyMs: 200}))

  it('during the scan of `references --json`: exit 130 and stdout is one whole JSON error document', () => withE2E(async (e) => {
    const run = startCli(e, ['references', K.appSecrets.slug, '-r', R, '--json'])
    await requestSeen(e, (q) => isScanRead(q.path))
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.code).toBe(130)
    expect(JSON.parse(r.stdout)).toMatchObject({status: 'error', command: 'references', error: {code: 'INTERRUPTED', exitCode: 130}})
  }, {latencyMs: 200}))

  it('after the confirmation, with the export POST in flight: exit 130, the reserved --out file is removed, journal intact', () => withE2E(async (e) => {
    const approval = await approvedExport(e)
    const exportRoute = `^POST /v1/kms/${R}/keys/${K.escrowKey.identity}/export$`
    // the export route answers nothing: the request is held in flight until the operator gives up
    e.emu.setFaults(faultsFor('timeout', exportRoute, 'persistent'))
    const out = join(e.home, 'escrow.bin')
    const run = startCli(e, ['export', K.escrowKey.slug, '-r', R, '--approval', approval, '--out', out, '--plaintext', '--confirm', K.escrowKey.slug])
    await requestSeen(e, (q) => q.method === 'POST' && q.path.endsWith('/export'))
    countInjected('timeout', 1)
    expect(existsSync(out), 'the --out file is reserved before the POST').toBe(true)
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.signal).toBeNull()
    expect(r.code).toBe(130)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/interrupted/)
    expect(existsSync(out)).toBe(false)
    // the approval was recorded as used before the POST, and the interrupted export after it
    const lines = journalLines(e).map((l) => JSON.parse(l))
    const [reserved, interrupted] = lines.slice(-2).map((l) => ({command: l.command, ...l.result}))
    expect(reserved).toMatchObject({command: 'export', status: 'ok', summary: expect.stringMatching(/approval reserved/)})
    expect(interrupted).toMatchObject({command: 'export', status: 'error', exitCode: 130})
    await journalIntact(e)
    // the server may have released the material before the interrupt: the approval is spent all the same
    e.emu.setFaults(undefined)
    e.emu.clearRequests()
    const again = await e.run(['export', K.escrowKey.slug, '-r', R, '--approval', approval, '--out', out, '--plaintext', '--confirm', K.escrowKey.slug, '--json'])
    expect(again.code).toBe(5)
    expect(again.json.error.code).toBe('APPROVAL_USED')
    const sent = mutations(e.emu).length
    countGuard(r.code !== 0, sent)
    expect(sent).toBe(0)
  }))

  it('during the backoff of a rate-limited read: exit 130 without waiting out Retry-After', () => withE2E(async (e) => {
    e.emu.setFaults(faultsFor('429', '^GET /v1/kms/summary$', 'persistent'))
    const run = startCli(e, ['summary'])
    await requestSeen(e, (q) => q.path === '/v1/kms/summary' && q.status === 429)
    run.child.kill('SIGINT')
    const r = await run.done
    countInjected('429', e.emu.requests.filter((q) => q.status === 429).length)
    expect(r.code).toBe(130)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/Error: interrupted \(SIGINT\)/)
    expect(e.emu.requests.filter((q) => q.path === '/v1/kms/summary')).toHaveLength(1)
  }))
})
