/**
 * End-to-end: BYOK import through the built CLI, proven with real cryptography. Material generated here is
 * imported, then used through the emulator's HTTP API (encrypt / sign) and checked locally with node:crypto
 * and the same material, following the layout in src/emulator/crypto-engine.ts: `thalassa:v<N>:` +
 * base64(nonce 12 ‖ ciphertext ‖ tag 16), AES-256-GCM without AAD; Ed25519 signatures are the raw 64 bytes.
 * The raw material must never show up in any output or in the journal.
 */
import {createCipheriv, createDecipheriv, createHash, generateKeyPairSync, randomBytes, verify} from 'node:crypto'
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {DEMO, type RecordedRequest} from '../../src/emulator/index.js'
import {startE2E, type E2E, type RunResult} from './harness.js'

let e: E2E
/** Outputs of the runs of the current test, for the leak check. */
let outputs: string[] = []

beforeAll(async () => {
  e = await startE2E()
})
beforeEach(() => {
  outputs = []
})
afterAll(async () => e?.close())

const R = ['-r', 'nl-01']
const mark = () => e.mark()
const isMutation = (r: RecordedRequest) => r.method !== 'GET' && !r.path.startsWith('/oidc/')

async function run(args: string[]): Promise<RunResult> {
  const r = await e.run(args)
  outputs.push(r.stdout, r.stderr)
  return r
}

function materialFile(name: string, bytes: Buffer, mode = 0o600): string {
  const path = join(e.home, name)
  writeFileSync(path, bytes, {mode, flag: 'wx'})
  chmodSync(path, mode)
  return path
}

/** The material, as hex or base64, appears in no output of this test and nowhere in the journal. */
function expectNotLeaked(...materials: Buffer[]): void {
  const seen = [...outputs, readFileSync(e.journal, 'utf8')].join('\n')
  for (const m of materials) {
    for (const text of [m.toString('hex'), m.toString('base64'), m.toString('base64url')]) expect(seen).not.toContain(text)
  }
}

/** POST to the emulator's KMS API as the operator, as any Thalassa client would. */
async function kms(identity: string, op: string, body: Record<string, string>): Promise<Record<string, string>> {
  const res = await fetch(`${e.emu.url}/v1/kms/nl-01/keys/${identity}/${op}`, {
    method: 'POST',
    headers: {Authorization: `Token ${DEMO.tokens.operator}`, 'X-Organisation-Identity': DEMO.org.slug, 'Content-Type': 'application/json', Accept: 'application/json'},
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, string>
}

/** `thalassa:v<N>:<base64>` → version and bytes. */
function versioned(value: string): {version: number; data: Buffer} {
  const m = /^thalassa:v(\d+):([A-Za-z0-9+/]+={0,2})$/.exec(value)
  expect(m).not.toBeNull()
  return {version: Number(m![1]), data: Buffer.from(m![2], 'base64')}
}

describe('import (BYOK)', () => {
  it('AES-256 material: imported, encrypted by the API, decrypted locally with the same material (and back)', async () => {
    const material = randomBytes(32)
    const file = materialFile('aes.key', material)
    const sentNow = mark()
    const r = await run(['import', ...R, '--name', 'byok-aes', '--type', 'aes256-gcm96', '--material', file, '--label', 'purpose=e2e', '--yes', '--json'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const identity = r.json.result.key.identity
    expect(r.json.result.key).toMatchObject({slug: 'byok-aes', imported: true})
    expect(r.json.result.fingerprint).toBe(`sha256:${createHash('sha256').update(material).digest('hex')}`)
    expect(sentNow().filter(isMutation).map((q) => `${q.method} ${q.path}`)).toEqual(['POST /v1/kms/nl-01/keys'])

    const plaintext = Buffer.from('the quick brown fox, imported')
    const {ciphertext} = await kms(identity, 'encrypt', {plaintext: plaintext.toString('base64')})
    const {version, data} = versioned(ciphertext)
    expect(version).toBe(1)
    const decipher = createDecipheriv('aes-256-gcm', material, data.subarray(0, 12), {authTagLength: 16})
    decipher.setAuthTag(data.subarray(data.length - 16))
    expect(Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).equals(plaintext)).toBe(true)

    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', material, nonce, {authTagLength: 16})
    const local = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
    const back = await kms(identity, 'decrypt', {ciphertext: `thalassa:v1:${local.toString('base64')}`})
    expect(Buffer.from(back.plaintext, 'base64').equals(plaintext)).toBe(true)
    expectNotLeaked(material)
  })

  it('a key imported without --allow-rotation does not rotate: kmsguard warns, the API refuses (exit 6), no new version', async () => {
    // The API's key view does not say whether an imported key allows rotation, so the policy can only warn.
    const material = randomBytes(32)
    const file = materialFile('fixed.key', material)
    const imported = await run(['import', ...R, '--name', 'byok-fixed', '--type', 'aes256-gcm96', '--material', file, '--label', 'purpose=e2e', '--yes', '--json'])
    expect(imported.code, imported.stdout + imported.stderr).toBe(0)
    const r = await run(['rotate', 'byok-fixed', ...R, '--yes', '--json'])
    expect(r.code).toBe(6)
    expect(r.json.error.message).toMatch(/allowRotation/)
    expect(r.json.guards).toContainEqual(expect.objectContaining({guard: 'policy', outcome: 'warn', message: expect.stringMatching(/imported/)}))
    expect(e.emu.state.keys.find((k) => k.identity === imported.json.result.key.identity)?.versions).toHaveLength(1)
    expectNotLeaked(material)
  })

  it('an Ed25519 PKCS#8 key: imported, a signature made by the API verifies locally with the public key', async () => {
    const {privateKey, publicKey} = generateKeyPairSync('ed25519')
    const der = privateKey.export({type: 'pkcs8', format: 'der'})
    const file = materialFile('ed25519.der', der)
    const r = await run(['import', ...R, '--name', 'byok-ed25519', '--type', 'ed25519', '--material', file, '--label', 'purpose=e2e', '--yes', '--json'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const message = Buffer.from('release v1.2.3 manifest')
    const {signature} = await kms(r.json.result.key.identity, 'sign', {input: message.toString('base64')})
    const sig = versioned(signature).data
    expect(sig.length).toBe(64)
    expect(verify(null, message, publicKey, sig)).toBe(true)
    expect(verify(null, Buffer.from('another message'), publicKey, sig)).toBe(false)
    expectNotLeaked(der, der.subarray(der.length - 32)) // the PKCS#8 document and the raw private seed in it
  })

  it('a material file readable by others (0644) is exit 2 without --force-perms, nothing sent', async () => {
    const material = randomBytes(32)
    const file = materialFile('shared.key', material, 0o644)
    const sentNow = mark()
    const r = await run(['import', ...R, '--name', 'byok-shared', '--type', 'aes256-gcm96', '--material', file, '--yes', '--json'])
    expect(r.code).toBe(2)
    expect(r.json.error.hint ?? r.json.error.message).toMatch(/--force-perms|0600|chmod/)
    expect(sentNow().filter((q) => q.path.startsWith('/v1/kms/') || isMutation(q))).toEqual([])
    const forced = await run(['import', ...R, '--name', 'byok-shared', '--type', 'aes256-gcm96', '--material', file, '--force-perms', '--dry-run', '--json'])
    expect(forced.code, forced.stdout + forced.stderr).toBe(0)
    expect(sentNow().filter(isMutation)).toEqual([])
    expectNotLeaked(material)
  })

  it('an HMAC key type is refused (exit 2), nothing sent', async () => {
    const material = randomBytes(32)
    const file = materialFile('hmac.key', material)
    const sentNow = mark()
    const r = await run(['import', ...R, '--name', 'byok-hmac', '--type', 'hmac-sha256', '--material', file, '--yes', '--json'])
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('KEY_TYPE_NOT_IMPORTABLE')
    expect(sentNow().filter((q) => q.path.startsWith('/v1/kms/') || isMutation(q))).toEqual([])
    expectNotLeaked(material)
  })
})
