/**
 * End-to-end: two-person export. The operator requests, a second person (the approver) approves, the operator
 * exports; the written file is unwrapped here with the recipient's private key and compared with the key
 * material the emulator really holds. Every refusal is exit 5 (or 6 where the API refuses first) and no
 * POST …/export is ever recorded for it; unsafe --out targets are exit 2 before anything is sent.
 */
import {generateKeyPairSync} from 'node:crypto'
import {existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {unwrapWithPrivateKey} from '../../src/crypto/recipient.js'
import type {RecordedRequest} from '../../src/emulator/index.js'
import {startE2E, type E2E} from './harness.js'

let e: E2E
let recipient: string
let privatePem: string
let outCount = 0

beforeAll(async () => {
  e = await startE2E()
  const pair = generateKeyPairSync('rsa', {modulusLength: 2048})
  recipient = join(e.home, 'recipient.pem')
  writeFileSync(recipient, pair.publicKey.export({type: 'spki', format: 'pem'}), {mode: 0o600, flag: 'wx'})
  privatePem = pair.privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
})
afterAll(async () => e?.close())

const R = ['-r', 'nl-01']
const mark = () => e.mark()
const exports = (reqs: RecordedRequest[]) => reqs.filter((r) => r.method === 'POST' && r.path.endsWith('/export'))
const reviews = (reqs: RecordedRequest[]) => reqs.filter((r) => r.method === 'POST' && /\/access-elevations\/[^/]+\/(approve|reject)$/.test(r.path))
const newOut = () => join(e.home, `export-${++outCount}.bin`)

/** The material the emulator holds for a key version. */
function materialOf(identity: string, version: number): Buffer {
  const key = e.emu.state.keys.find((k) => k.identity === identity)
  const v = key?.versions.find((x) => x.version === version)
  if (!v) throw new Error(`no version ${version} of ${identity} in the emulator`)
  return v.material
}

async function request(key: string, as: 'operator' | 'approver' = 'operator'): Promise<string> {
  const r = await e.run(['export:request', key, ...R, '--policy', 'kms-export', '--reason', 'e2e escrow', '--duration', '1h', '--yes', '--json'], {as})
  expect(r.code, r.stdout + r.stderr).toBe(0)
  expect(r.json.result.elevation.status).toBe('pending')
  return r.json.result.elevation.identity
}

async function approve(id: string): Promise<void> {
  const r = await e.run(['approve', id, '--note', 'ok CHG-1', '--yes', '--json'], {as: 'approver'})
  expect(r.code, r.stdout + r.stderr).toBe(0)
  expect(r.json.result.status).toBe('approved')
}

const exportArgs = (key: string, id: string, out: string, how: string[] = ['--recipient', recipient]) =>
  ['export', key, ...R, '--approval', id, '--out', out, ...how, '--confirm', key, '--json']

async function createExportable(name: string, type: string): Promise<string> {
  const r = await e.run(['create', ...R, '--name', name, '--type', type, '--label', 'purpose=escrow', '--allow-export', '--reason', 'e2e escrow', '--yes', '--json'])
  expect(r.code, r.stdout + r.stderr).toBe(0)
  return r.json.result.key.identity
}

/** Asserts an export refusal: exit 5 with `code`, no POST …/export, no --out file. */
function expectRefused(r: {code: number; json: {error: {code: string}}}, code: string, sentNow: () => RecordedRequest[], out: string): void {
  expect(r.code).toBe(5)
  expect(r.json.error.code).toBe(code)
  expect(exports(sentNow())).toEqual([])
  expect(existsSync(out)).toBe(false)
}

describe('the two-person flow', () => {
  it('request (operator) → approve (approver) → export wrapped to the recipient: the file unwraps to the real material', async () => {
    const id = await request('escrow-key')
    await approve(id)
    const out = newOut()
    const sentNow = mark()
    const r = await e.run(exportArgs('escrow-key', id, out))
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.json.result).toMatchObject({approval: id, out, mode: '0600', format: 'rsa-oaep-sha256'})
    const posted = exports(sentNow())
    expect(posted.map((q) => q.path)).toEqual(['/v1/kms/nl-01/keys/kms-demo-escrow-key/export'])
    expect(posted[0].user).toBe('user-operator')

    expect(statSync(out).mode & 0o777).toBe(0o600)
    const material = materialOf('kms-demo-escrow-key', r.json.result.keyVersion)
    expect(unwrapWithPrivateKey(readFileSync(out), privatePem).equals(material)).toBe(true)
    expect(r.json.result.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/)
    for (const text of [material.toString('hex'), material.toString('base64')]) expect(r.stdout + r.stderr).not.toContain(text)
  })

  it('material larger than 32 bytes (Ed25519 PKCS#8) is RSA-OAEP + AES key wrap and unwraps to the real material', async () => {
    const identity = await createExportable('exp-ed25519', 'ed25519')
    const id = await request('exp-ed25519')
    await approve(id)
    const out = newOut()
    const r = await e.run(exportArgs('exp-ed25519', id, out))
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.json.result.format).toBe('rsa-aes-kwp')
    expect(unwrapWithPrivateKey(readFileSync(out), privatePem).equals(materialOf(identity, 1))).toBe(true)
  })

  it('--plaintext writes the raw material to a new 0600 file', async () => {
    const id = await request('escrow-key')
    await approve(id)
    const out = newOut()
    const r = await e.run(exportArgs('escrow-key', id, out, ['--plaintext']))
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.json.result.format).toBe('raw')
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const material = materialOf('kms-demo-escrow-key', r.json.result.keyVersion)
    expect(readFileSync(out).equals(material)).toBe(true)
    expect(r.stdout + r.stderr).not.toContain(material.toString('hex'))
    expect(r.stdout + r.stderr).not.toContain(material.toString('base64'))
  })
})

describe('key versions and failures', () => {
  it('the approval binds a key version: a later version is refused, the approved one exports that version\'s material', async () => {
    const identity = await createExportable('exp-versions', 'aes256-gcm96')
    expect((await e.run(['rotate', 'exp-versions', ...R, '--yes'])).code).toBe(0)
    const asked = await e.run(['export:request', 'exp-versions', ...R, '--policy', 'kms-export', '--reason', 'old version', '--key-version', '1', '--yes', '--json'])
    expect(asked.code, asked.stdout).toBe(0)
    expect(asked.json.result.keyVersion).toBe(1)
    const id = asked.json.result.elevation.identity
    await approve(id)

    const latest = newOut()
    const sentNow = mark()
    const refused = await e.run(exportArgs('exp-versions', id, latest))
    expectRefused(refused, 'APPROVAL_BINDING_MISMATCH', sentNow, latest)

    const out = newOut()
    const r = await e.run([...exportArgs('exp-versions', id, out), '--key-version', '1'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.json.result.keyVersion).toBe(1)
    const v1 = materialOf(identity, 1)
    expect(v1.equals(materialOf(identity, 2))).toBe(false)
    expect(unwrapWithPrivateKey(readFileSync(out), privatePem).equals(v1)).toBe(true)
  })

  it('--dry-run with a valid approval runs every guard, sends no export and does not use the approval up', async () => {
    const id = await request('escrow-key')
    await approve(id)
    const out = newOut()
    const sentNow = mark()
    const dry = await e.run([...exportArgs('escrow-key', id, out), '--dry-run'])
    expect(dry.code, dry.stdout).toBe(0)
    expect(dry.json.dryRun).toBe(true)
    expect(dry.json.guards).toContainEqual(expect.objectContaining({guard: 'approval', outcome: 'pass'}))
    expect(exports(sentNow())).toEqual([])
    expect(existsSync(out)).toBe(false)
    expect((await e.run(exportArgs('escrow-key', id, out))).code).toBe(0)
    expect(exports(sentNow())).toHaveLength(1)
  })

  it('a failed POST …/export: exit 6, no --out file left behind, and the approval stays used', async () => {
    const id = await request('escrow-key')
    await approve(id)
    const out = newOut()
    e.emu.setFaults({rate: 1, kinds: ['500'], routes: ['POST /v1/kms/nl-01/keys/[^/]+/export'], seed: 3})
    const sentNow = mark()
    try {
      const r = await e.run(exportArgs('escrow-key', id, out))
      expect(r.code, r.stdout).toBe(6)
      expect(exports(sentNow())).toHaveLength(1)
      expect(existsSync(out)).toBe(false)
    } finally {
      e.emu.setFaults(undefined)
    }
    const again = await e.run(exportArgs('escrow-key', id, out))
    expect(again.code).toBe(5)
    expect(again.json.error.code).toBe('APPROVAL_USED')
    expect(exports(sentNow())).toHaveLength(1)
  })
})

describe('refusals: exit 5, and no POST …/export', () => {
  it('the approval is still pending', async () => {
    const id = await request('escrow-key')
    const out = newOut()
    const sentNow = mark()
    const r = await e.run(exportArgs('escrow-key', id, out))
    expectRefused(r, 'APPROVAL_PENDING', sentNow, out)
    expect(r.json.error.hint).toContain(`kmsguard approve ${id}`)
  })

  it('the approver rejected it', async () => {
    const id = await request('escrow-key')
    const rejected = await e.run(['approve', id, '--reject', '--note', 'no ticket', '--yes', '--json'], {as: 'approver'})
    expect(rejected.code).toBe(0)
    expect(rejected.json.result.status).toBe('rejected')
    const out = newOut()
    const sentNow = mark()
    expectRefused(await e.run(exportArgs('escrow-key', id, out)), 'APPROVAL_REJECTED', sentNow, out)
  })

  it('self-approval: a non-approver is refused by the API (403), an approver by kmsguard (exit 5); no review is sent, no export', async () => {
    const own = await request('escrow-key')
    const sentNow = mark()
    const byOperator = await e.run(['approve', own, '--yes', '--json'])
    expect(byOperator.code).toBe(6)
    expect(byOperator.json.error.code).toBe('PERMISSION_DENIED')

    const approversOwn = await request('escrow-key', 'approver')
    const byApprover = await e.run(['approve', approversOwn, '--yes', '--json'], {as: 'approver'})
    expect(byApprover.code).toBe(5)
    expect(byApprover.json.error.code).toBe('APPROVAL_SELF_APPROVED')
    expect(reviews(sentNow())).toEqual([])
    expect(e.emu.state.elevations.find((x) => x.identity === approversOwn)?.status).toBe('pending')

    const out = newOut()
    const r = await e.run(exportArgs('escrow-key', approversOwn, out), {as: 'approver'})
    expectRefused(r, 'APPROVAL_PENDING', sentNow, out)
  })

  it('an approval is used once', async () => {
    const id = await request('escrow-key')
    await approve(id)
    const sentNow = mark()
    expect((await e.run(exportArgs('escrow-key', id, newOut()))).code).toBe(0)
    expect(exports(sentNow())).toHaveLength(1)
    const out = newOut()
    const again = await e.run(exportArgs('escrow-key', id, out))
    expect(again.code).toBe(5)
    expect(again.json.error.code).toBe('APPROVAL_USED')
    expect(exports(sentNow())).toHaveLength(1)
    expect(existsSync(out)).toBe(false)
  })

  it('an approval bound to another key', async () => {
    await createExportable('exp-other', 'aes256-gcm96')
    const id = await request('escrow-key')
    await approve(id)
    const out = newOut()
    const sentNow = mark()
    const r = await e.run(exportArgs('exp-other', id, out))
    expectRefused(r, 'APPROVAL_BINDING_MISMATCH', sentNow, out)
    expect(r.json.error.message).toContain('kms-demo-escrow-key')
  })

  it('an expired approval', async () => {
    const id = await request('escrow-key')
    await approve(id)
    const out = newOut()
    e.emu.clock.advance(2 * 3600_000)
    try {
      const sentNow = mark()
      expectRefused(await e.run(exportArgs('escrow-key', id, out)), 'APPROVAL_EXPIRED', sentNow, out)
    } finally {
      e.emu.clock.advance(-2 * 3600_000)
    }
  })
})

describe('unsafe --out targets and recipient keys: exit 2 before any KMS request', () => {
  it('an existing file, a symbolic link, /dev/stdout, "-", a missing directory; a weak recipient key', async () => {
    const existing = join(e.home, 'already-there.bin')
    writeFileSync(existing, 'keep me', {mode: 0o600})
    const link = join(e.home, 'link.bin')
    symlinkSync(join(e.home, 'link-target.bin'), link)
    for (const out of [existing, link, '/dev/stdout', '-', join(e.home, 'no-such-dir', 'key.bin')]) {
      const sentNow = mark()
      const r = await e.run(exportArgs('escrow-key', 'iamae-000000000000', out))
      expect(r.code, `${out}: ${r.stdout}`).toBe(2)
      expect(['OUTPUT_EXISTS', 'UNSAFE_OUTPUT', 'FILE_REFUSED']).toContain(r.json.error.code)
      // Nothing at all is sent: not even the journal's identity lookup, since the command never reached the API.
      expect(sentNow()).toEqual([])
    }
    const weak = join(e.home, 'weak-recipient.pem')
    writeFileSync(weak, generateKeyPairSync('rsa', {modulusLength: 1024}).publicKey.export({type: 'spki', format: 'pem'}))
    const sentNow = mark()
    const tooSmall = await e.run(exportArgs('escrow-key', 'iamae-000000000000', newOut(), ['--recipient', weak]))
    expect(tooSmall.code).toBe(2)
    expect(tooSmall.json.error.code).toBe('INVALID_RECIPIENT_KEY')
    expect(sentNow()).toEqual([])
    expect(readFileSync(existing, 'utf8')).toBe('keep me')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(existsSync(join(e.home, 'link-target.bin'))).toBe(false)
  })
})
