import {randomBytes} from 'node:crypto'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {DEMO, startEmulator} from '../../../src/emulator/index.js'
import {b64, client, KMS, type KeyJson} from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'kmsguard-emu-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const mode = (file: string) => statSync(file).mode & 0o777

describe('persistence', () => {
  it('creates the file and key 0600, seals material, and round-trips state across restarts', async () => {
    const file = join(dir, 'state.json')
    const first = await startEmulator({quiet: true, dataFile: file})
    expect(mode(file)).toBe(0o600)
    expect(mode(`${file}.key`)).toBe(0o600)
    const api = client(first)
    const key = (await api<KeyJson>('POST', `${KMS}/keys`, {name: 'persisted', keyType: 'aes256-gcm96'})).body
    await api('POST', `${KMS}/keys/persisted/rotate`)
    const enc = await api<{ciphertext: string}>('POST', `${KMS}/keys/persisted/encrypt`, {plaintext: b64('kept')})
    await api('POST', '/v1/secrets/nl-01/secrets', {path: '/persist/me', kmsKeyIdentity: key.identity, secretString: b64('secret-across-restarts')})
    const wrapping = (await api<{publicKey: string}>('GET', `${KMS}/wrapping-key`)).body.publicKey
    const materials = first.state.keys.flatMap((k) => k.versions.map((v) => v.material))
    const ownMaterial = first.state.keys.find((k) => k.identity === key.identity)?.versions.map((v) => v.material) ?? []
    expect(ownMaterial).toHaveLength(2)
    await first.close()

    const text = readFileSync(file, 'utf8')
    const parsed = JSON.parse(text) as {kind: string; schemaVersion: number}
    expect(parsed).toMatchObject({kind: 'kmsguard-emulator-state', schemaVersion: 1})
    expect(text).toContain('persisted')
    for (const m of materials) {
      expect(text).not.toContain(m.toString('base64'))
      expect(text).not.toContain(m.toString('hex'))
    }
    expect(text).not.toContain(b64('secret-across-restarts'))
    expect(text).not.toContain('tc_pat_demo')
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])

    const second = await startEmulator({quiet: true, dataFile: file})
    try {
      const api2 = client(second)
      const again = await api2<KeyJson>('GET', `${KMS}/keys/${key.identity}`)
      expect(again.body.latestVersion).toBe(2)
      const dec = await api2<{plaintext: string}>('POST', `${KMS}/keys/persisted/decrypt`, {ciphertext: enc.body.ciphertext})
      expect(Buffer.from(dec.body.plaintext, 'base64').toString()).toBe('kept')
      const value = await api2<{secretString: string}>('POST', '/v1/secrets/nl-01/secret/persist/me/value', {})
      expect(Buffer.from(value.body.secretString, 'base64').toString()).toBe('secret-across-restarts')
      expect((await api2<{publicKey: string}>('GET', `${KMS}/wrapping-key`)).body.publicKey).toBe(wrapping)
      const restored = second.state.keys.find((k) => k.identity === key.identity)?.versions.map((v) => v.material) ?? []
      expect(restored.map((m) => m.toString('hex'))).toEqual(ownMaterial.map((m) => m.toString('hex')))
      expect(second.state.keys.map((k) => k.identity)).toEqual(expect.arrayContaining(Object.values(DEMO.keys).map((k) => k.identity)))
      expect(mode(file)).toBe(0o600)
    } finally {
      await second.close()
    }
  })

  it('saves shortly after a mutation without waiting for close', async () => {
    const file = join(dir, 'debounced.json')
    const emu = await startEmulator({quiet: true, dataFile: file, seed: 'empty'})
    try {
      await client(emu)('POST', `${KMS}/keys`, {name: 'saved-early', keyType: 'hmac-sha512'})
      let text = ''
      for (let i = 0; i < 100 && !text.includes('saved-early'); i++) {
        await new Promise((r) => setTimeout(r, 20))
        text = readFileSync(file, 'utf8')
      }
      expect(text).toContain('saved-early')
    } finally {
      await emu.close()
    }
  })

  it.each([
    ['corrupt JSON', '{"kind": "kmsguard-emulator-state", "schemaVersion": 1, "regions": ['],
    ['foreign JSON', '{"hello": "world"}'],
    ['unknown schema', '{"kind": "kmsguard-emulator-state", "schemaVersion": 99}'],
    ['incomplete state', '{"kind": "kmsguard-emulator-state", "schemaVersion": 1, "keys": []}'],
  ])('refuses %s with an error naming the file and leaves it untouched', async (_name, content) => {
    const file = join(dir, `bad-${randomBytes(4).toString('hex')}.json`)
    writeFileSync(file, content, {mode: 0o644})
    const before = statSync(file)
    await expect(startEmulator({quiet: true, dataFile: file})).rejects.toThrow(file)
    expect(readFileSync(file, 'utf8')).toBe(content)
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs)
    expect(readdirSync(dir).filter((f) => f.startsWith(`${file.split('/').pop()}.key`))).toEqual([])
  })

  it('refuses a state file whose master key is missing or wrong', async () => {
    const file = join(dir, 'keyed.json')
    await (await startEmulator({quiet: true, dataFile: file, seed: 'empty'})).close()
    await (async () => {
      const emu = await startEmulator({quiet: true, dataFile: file})
      await client(emu)('POST', `${KMS}/keys`, {name: 'needs-key', keyType: 'aes128-gcm96'})
      await emu.close()
    })()
    const content = readFileSync(file, 'utf8')
    writeFileSync(`${file}.key`, randomBytes(32).toString('base64'))
    await expect(startEmulator({quiet: true, dataFile: file})).rejects.toThrow(/cannot decrypt key material/)
    rmSync(`${file}.key`)
    await expect(startEmulator({quiet: true, dataFile: file})).rejects.toThrow(`${file}.key`)
    expect(readFileSync(file, 'utf8')).toBe(content)
  })
})
