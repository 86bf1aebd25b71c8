/**
 * Bad input files (issue 8.2), end to end: BYOK material (missing, empty, a directory, unreadable, too large,
 * the wrong size or kind of key, malformed PEM/PKCS#8, a symlink, a FIFO, a device, group-readable without
 * --force-perms), pre-wrapped material, --recipient keys (private, EC, too small, not PEM), token files,
 * unusable --out paths and a journal that is a directory. Every refusal is exit 2 naming the file, before any
 * request that matters (import and export read their files before the region guard).
 */
import {execFileSync} from 'node:child_process'
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {chmodSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {checkRefusal, checkSent, inWorld, runUnprivileged, sentBy, type Expectation, type InputWorld} from './helpers.js'

let n = 0
const R = ['-r', DEMO.regions.available]
const ESCROW = DEMO.keys.escrowKey.slug
const pem = (kind: 'rsa' | 'ec', opts: object, which: 'public' | 'private') => {
  const pair = generateKeyPairSync(kind as 'rsa', opts as {modulusLength: number})
  return which === 'public' ? pair.publicKey.export({type: 'spki', format: 'pem'}).toString() : pair.privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
}

/** What a case needs in its own world: files in its scratch directory, and the refusal check. */
function kit(w: InputWorld) {
  /** A new file with `content` and exactly `mode`. */
  const file = (content: string | Buffer, mode = 0o600): string => {
    const path = join(w.dir, `f${++n}`)
    writeFileSync(path, content, {mode})
    chmodSync(path, mode)
    return path
  }
  const fresh = () => join(w.dir, `new${++n}`)
  const exporting = (recipient: string) => ['export', ESCROW, ...R, '--approval', 'iamae-1', '--recipient', recipient, '--out', fresh(), '--confirm', ESCROW]
  const refuse = (args: string[], message: RegExp, extra: Partial<Expectation> = {}) => w.refused({args}, {message, sends: 'nothing', ...extra})
  return {file, fresh, exporting, refuse}
}

const importing = (type: string, flag: '--material' | '--wrapped-material', path: string, extra: string[] = []) => ['import', ...R, '--name', `bad-file-${++n}`, '--type', type, flag, path, '--yes', ...extra]
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** A message that names `path` and says `what`. */
const named = (path: string, what: RegExp) => new RegExp(`^(?=.*${escape(path)})(?=.*(?:${what.source}))`)

describe.concurrent('--material (BYOK raw material)', () => {
  it('a file that does not exist', () => inWorld(async (w) => {
    const {fresh, refuse} = kit(w)
    const path = fresh()
    await refuse(importing('aes256-gcm96', '--material', path), named(path, /does not exist/))
  }))

  it('an empty file', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    const path = file('')
    await refuse(importing('aes256-gcm96', '--material', path), named(path, /is empty/))
  }))

  it('a directory', () => inWorld(async (w) => {
    const {fresh, refuse} = kit(w)
    const path = fresh()
    mkdirSync(path, {mode: 0o700})
    await refuse(importing('aes256-gcm96', '--material', path), named(path, /is a directory, not a file/))
  }))

  it('an unreadable file (mode 000; the CLI runs as an unprivileged user when the tests run as root)', () => inWorld(async (w) => {
    const {file} = kit(w)
    const path = file(randomBytes(32), 0o000)
    const r = await runUnprivileged(w, importing('aes256-gcm96', '--material', path))
    checkRefusal(r, {message: named(path, /permission denied/), sends: 'nothing'})
    checkSent(sentBy(w.e.emu), 'nothing')
  }))

  it('a file too large to be key material (64 KiB + 1)', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    const path = file(Buffer.alloc(64 * 1024 + 1, 7))
    await refuse(importing('aes256-gcm96', '--material', path), named(path, /is 65537 bytes; at most 65536 bytes are expected/))
  }))

  it('16 bytes for an aes256-gcm96 key (the wrong size for the type)', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse([...importing('aes256-gcm96', '--material', file(randomBytes(16))), '--json'], /aes256-gcm96 needs 32 raw bytes .*; the material is 16 bytes/, {code: 'INVALID_KEY_MATERIAL'})
  }))

  it('hex text instead of raw bytes (64 characters for a 32-byte key)', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    const r = await refuse(importing('aes256-gcm96', '--material', file(randomBytes(32).toString('hex'))), /needs 32 raw bytes .*; the material is 64 bytes/)
    expect(r.stderr).toMatch(/Hint: The material looks like text/)
  }))

  it('a malformed PEM for an rsa-2048 key', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse(importing('rsa-2048', '--material', file('-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n')), /not a readable PKCS#8 PEM private key/)
  }))

  it('a PKCS#1 "RSA PRIVATE KEY" block where PKCS#8 is expected', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    const pkcs1 = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs1', format: 'pem'}).toString()
    await refuse(importing('rsa-2048', '--material', file(pkcs1)), /is a "RSA PRIVATE KEY" PEM block; an unencrypted PKCS#8 "PRIVATE KEY" is expected/)
  }))

  it('an EC P-256 private key for an rsa-2048 key', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse(importing('rsa-2048', '--material', file(pem('ec', {namedCurve: 'prime256v1'}, 'private'))), /rsa-2048 needs an RSA-2048 private key; the material is an EC P-256 private key/)
  }))

  it('an RSA-3072 private key for an rsa-2048 key', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse(importing('rsa-2048', '--material', file(pem('rsa', {modulusLength: 3072}, 'private'))), /needs an RSA-2048 private key; the material is an RSA-3072 private key/)
  }))

  it('DER bytes that are not PKCS#8 for an ecdsa-p256 key', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse(importing('ecdsa-p256', '--material', file(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]))), /not a PKCS#8 private key/)
  }))

  it('a symlink to a good material file', () => inWorld(async (w) => {
    const {file, fresh, refuse} = kit(w)
    const link = fresh()
    symlinkSync(file(randomBytes(32)), link)
    await refuse(importing('aes256-gcm96', '--material', link), named(link, /is a symbolic link; refusing to follow it/))
  }))

  it('a FIFO (refused without waiting for a writer)', () => inWorld(async (w) => {
    const {fresh, refuse} = kit(w)
    const fifo = fresh()
    execFileSync('mkfifo', ['-m', '600', fifo])
    await refuse(importing('aes256-gcm96', '--material', fifo), named(fifo, /is a FIFO \(named pipe\), not a regular file/))
  }))

  it('a character device (/dev/zero)', () => inWorld(async (w) => {
    const {refuse} = kit(w)
    await refuse(importing('aes256-gcm96', '--material', '/dev/zero'), /\/dev\/zero is a character device, not a regular file/)
  }))

  it('a group/other-readable (0644) file without --force-perms; with it the same file passes (dry run)', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    const path = file(randomBytes(32), 0o644)
    const r = await refuse([...importing('aes256-gcm96', '--material', path), '--json'], named(path, /accessible by group or others \(mode 0644\); refusing to read key material from it without --force-perms/), {code: 'INSECURE_PERMISSIONS'})
    expect(r.json.error.hint).toContain(`chmod 600 ${path}`)
    const forced = await w.e.run([...importing('aes256-gcm96', '--material', path, ['--force-perms', '--dry-run'])])
    expect(forced.code).toBe(0)
  }))

  it('material for an HMAC key type (not importable)', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse([...importing('hmac-sha256', '--material', file(randomBytes(32))), '--json'], /hmac-sha256 keys cannot be imported/, {code: 'KEY_TYPE_NOT_IMPORTABLE'})
  }))
})

describe.concurrent('--wrapped-material', () => {
  it('hex text', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse(importing('aes256-gcm96', '--wrapped-material', file(randomBytes(300).toString('hex'))), /looks like hex text; give the wrapped bytes as binary or base64/)
  }))

  it('a PEM document', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse(importing('rsa-2048', '--wrapped-material', file(pem('rsa', {modulusLength: 2048}, 'public'))), /is a PEM document, not wrapped key material/)
  }))

  it('too short to be wrapped under an RSA key', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    await refuse(importing('aes256-gcm96', '--wrapped-material', file(randomBytes(32))), /holds only 32 bytes: too short to be material wrapped under an RSA wrapping key/)
  }))

  it('an unwrapped PKCS#8 private key (DER) passed off as wrapped', () => inWorld(async (w) => {
    const {file, refuse} = kit(w)
    const der = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs8', format: 'der'})
    await refuse(importing('rsa-2048', '--wrapped-material', file(der)), /is an unwrapped PKCS#8 private key; refusing to send it/)
  }))
})

describe.concurrent('--recipient (export)', () => {
  it('a private key', () => inWorld(async (w) => {
    const {file, exporting, refuse} = kit(w)
    await refuse([...exporting(file(pem('rsa', {modulusLength: 2048}, 'private'))), '--json'], /contains a private key; give the public key/, {code: 'INVALID_RECIPIENT_KEY'})
  }))

  it('an EC public key', () => inWorld(async (w) => {
    const {file, exporting, refuse} = kit(w)
    await refuse(exporting(file(pem('ec', {namedCurve: 'prime256v1'}, 'public'))), /is not an RSA key \(it is EC\); an RSA public key is required/)
  }))

  it('an RSA-1024 public key (too small)', () => inWorld(async (w) => {
    const {file, exporting, refuse} = kit(w)
    await refuse(exporting(file(pem('rsa', {modulusLength: 1024}, 'public'))), /is RSA-1024; at least 2048 bits are required/)
  }))

  it('a file that is not PEM', () => inWorld(async (w) => {
    const {file, exporting, refuse} = kit(w)
    await refuse(exporting(file(randomBytes(100))), /is not a PEM document/)
  }))

  it('a file that does not exist', () => inWorld(async (w) => {
    const {fresh, exporting, refuse} = kit(w)
    const path = fresh()
    await refuse(exporting(path), named(path, /does not exist/))
  }))
})

describe.concurrent('--out (export)', () => {
  it('a path in a directory that does not exist', () => inWorld(async (w) => {
    const {fresh, refuse} = kit(w)
    const out = join(fresh(), 'key.bin')
    await refuse(['export', ESCROW, ...R, '--approval', 'iamae-1', '--plaintext', '--out', out, '--confirm', ESCROW], /cannot create .*: directory .* does not exist/)
  }))

  it('"-" (stdout)', () => inWorld(async (w) => {
    const {refuse} = kit(w)
    await refuse(['export', ESCROW, ...R, '--approval', 'iamae-1', '--plaintext', '--out', '-', '--confirm', ESCROW, '--json'], /--out must name a new file: key material is never written to stdout/, {code: 'UNSAFE_OUTPUT'})
  }))

  it('/dev/stdout', () => inWorld(async (w) => {
    const {refuse} = kit(w)
    await refuse(['export', ESCROW, ...R, '--approval', 'iamae-1', '--plaintext', '--out', '/dev/stdout', '--confirm', ESCROW], /refusing to write key material to \/dev\/stdout: it is a device or stream/)
  }))
})

describe.concurrent('other files', () => {
  it('--token-file that does not exist', () => inWorld(async (w) => {
    const {fresh} = kit(w)
    const path = fresh()
    await w.refused({args: ['summary', '--token-file', path]}, {message: named(path, /cannot read --token-file/), sends: 'nothing'})
  }))

  it('--token-file that is a directory', () => inWorld(async (w) => {
    await w.refused({args: ['summary', '--token-file', w.dir]}, {message: /is not a regular file/, sends: 'nothing'})
  }))

  it('--token-file that is empty', () => inWorld(async (w) => {
    const {file} = kit(w)
    await w.refused({args: ['summary', '--token-file', file('\n')]}, {message: /must hold exactly one token/, sends: 'nothing'})
  }))

  it('a journal path (KMSGUARD_JOURNAL) that is a directory', () => inWorld(async (w) => {
    await w.refused({args: ['journal', 'verify'], env: {KMSGUARD_JOURNAL: w.dir}}, {message: /cannot read the journal .*: EISDIR/, sends: 'nothing'})
  }))

  it('audit --file that is not JSON', () => inWorld(async (w) => {
    const {file} = kit(w)
    const path = file('{not json')
    await w.refused({args: ['audit', '--file', path]}, {message: named(path, /not valid JSON/), sends: 'nothing'})
  }))

  it('audit --expected-principals that does not exist', () => inWorld(async (w) => {
    const {fresh} = kit(w)
    const path = fresh()
    await w.refused({args: ['audit', '--expected-principals', path, '--since', '1d']}, {message: named(path, /cannot read --expected-principals/), sends: 'nothing'})
  }))
})
