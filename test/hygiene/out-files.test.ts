/**
 * Output files, proved end to end: key material goes only to a NEW file (O_EXCL) of mode 0600 whatever the
 * umask; an existing file, a symlink (to a file, or dangling) or anything else at --out is refused before any
 * request and left exactly as it was; and a symlink planted at --out after the up-front checks — while the
 * export's reads are in flight — is refused at creation, before the approval is used or the material fetched.
 */
import {generateKeyPairSync} from 'node:crypto'
import {existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {startE2E, type E2E} from '../e2e/harness.js'

let e: E2E
let dir: string
let recipient: string
let counter = 0
const fresh = (name = 'out') => join(dir, `${name}-${++counter}.bin`)
const R = ['-r', DEMO.regions.available]
const ESCROW = DEMO.keys.escrowKey.slug
const KEEP = 'precious data that must survive'

beforeAll(async () => {
  e = await startE2E()
  dir = mkdtempSync(join(tmpdir(), 'kmsguard-out-'))
  recipient = join(dir, 'recipient.pem')
  writeFileSync(recipient, generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'pem'}))
})
afterAll(async () => {
  await e?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** An approved export of escrow-key: requested by the operator, approved by the approver. */
async function approvedElevation(): Promise<string> {
  const req = await e.run(['export:request', ESCROW, ...R, '--policy', DEMO.exportPolicy.slug, '--reason', 'out-file tests', '--yes', '--json'])
  expect(req.code).toBe(0)
  const id = req.json.result.elevation.identity as string
  expect((await e.run(['approve', id, '--yes'], {as: 'approver'})).code).toBe(0)
  return id
}

const exportArgs = (approval: string, out: string, how: string[] = ['--recipient', recipient]) => ['export', ESCROW, ...R, '--approval', approval, ...how, '--out', out, '--confirm', ESCROW, '--json']
const sent = () => e.emu.requests.map((r) => `${r.method} ${r.path}`)
const exportSent = () => sent().some((s) => s.startsWith('POST ') && s.endsWith('/export'))
const escrowMaterial = () => e.emu.state.keys.find((k) => k.slug === ESCROW)!.versions.at(-1)!.material

describe('export --out: only a new file, never an existing one or a symlink', () => {
  const target = () => {
    const path = fresh('target')
    writeFileSync(path, KEEP, {mode: 0o600})
    return path
  }
  const cases: Array<{title: string; make: () => {out: string; check: () => void}}> = [
    {title: 'an existing regular file', make: () => {
      const out = target()
      return {out, check: () => expect(readFileSync(out, 'utf8')).toBe(KEEP)}
    }},
    {title: 'a symlink to an existing file', make: () => {
      const t = target()
      const out = fresh('link')
      symlinkSync(t, out)
      return {out, check: () => {
        expect(readlinkSync(out)).toBe(t)
        expect(readFileSync(t, 'utf8')).toBe(KEEP)
      }}
    }},
    {title: 'a dangling symlink (its target is not created)', make: () => {
      const t = fresh('missing-target')
      const out = fresh('dangling')
      symlinkSync(t, out)
      return {out, check: () => {
        expect(lstatSync(out).isSymbolicLink()).toBe(true)
        expect(existsSync(t)).toBe(false)
      }}
    }},
    {title: 'a symlink to /dev/null (a character device)', make: () => {
      const out = fresh('devnull')
      symlinkSync('/dev/null', out)
      return {out, check: () => expect(readlinkSync(out)).toBe('/dev/null')}
    }},
  ]
  for (const c of cases) {
    for (const how of [['--recipient', recipient], ['--plaintext']]) {
      it(`refuses ${c.title} with ${how[0]} (exit 2, nothing exported, left untouched)`, async () => {
        const {out, check} = c.make()
        e.emu.clearRequests()
        const r = await e.run(exportArgs('iamae-not-needed-yet', out, how))
        expect(r.code).toBe(2)
        expect(r.json.error.code).toBe('OUTPUT_EXISTS')
        expect(r.json.error.message).toContain(out)
        expect(sent().filter((s) => s !== 'GET /v1/me/organisation-memberships')).toEqual([])
        check()
      })
    }
  }
})

describe('public files (--out of wrapping-key and public-key) are refused over existing paths too', () => {
  for (const command of [['wrapping-key', ...R], ['public-key', DEMO.keys.zoneSigning.slug, ...R]]) {
    it(`${command[0]} --out over an existing file and over a symlink: exit 2, untouched`, async () => {
      const existing = fresh('pub')
      writeFileSync(existing, KEEP)
      const r1 = await e.run([...command, '--out', existing, '--json'])
      expect(r1.code).toBe(2)
      expect(r1.json.error.code).toBe('OUTPUT_EXISTS')
      expect(readFileSync(existing, 'utf8')).toBe(KEEP)
      const link = fresh('publink')
      symlinkSync(existing, link)
      const r2 = await e.run([...command, '--out', link, '--json'])
      expect(r2.code).toBe(2)
      expect(readFileSync(existing, 'utf8')).toBe(KEEP)
    })
  }
})

describe('the material file', () => {
  it('is created 0600 even when the umask would allow more (umask 000), and holds exactly the material', async () => {
    const approval = await approvedElevation()
    const out = fresh('plain')
    const previous = process.umask(0)
    let r
    try {
      r = await e.run(exportArgs(approval, out, ['--plaintext']))
    } finally {
      process.umask(previous)
    }
    expect(r.code).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(readFileSync(out).equals(escrowMaterial())).toBe(true)
    expect(r.stdout).not.toContain(escrowMaterial().toString('base64'))
    expect(r.json.result.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/)
  })

  it('a symlink planted at --out after the checks, while the reads are in flight, is refused at creation: nothing exported, approval not used', async () => {
    const approval = await approvedElevation()
    const out = fresh('race')
    const t = fresh('race-target')
    writeFileSync(t, KEEP, {mode: 0o600})
    e.emu.clearRequests()
    e.emu.setLatency(250)
    let r
    try {
      const running = e.run(exportArgs(approval, out))
      // The first request is recorded as it arrives: by then --out has been checked and found free.
      while (e.emu.requests.length === 0) await new Promise((done) => setTimeout(done, 5))
      symlinkSync(t, out)
      r = await running
    } finally {
      e.emu.setLatency(0)
    }
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('OUTPUT_EXISTS')
    expect(exportSent()).toBe(false)
    expect(readFileSync(t, 'utf8')).toBe(KEEP)
    expect(readlinkSync(out)).toBe(t)
    // The approval was not used up: the same export to a free path succeeds.
    const again = await e.run(exportArgs(approval, fresh('after-race')))
    expect(again.code).toBe(0)
  })
})
