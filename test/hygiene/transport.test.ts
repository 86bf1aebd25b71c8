/**
 * Transport security (issue 8.4): tokens and key material never cross the network unprotected. Plain http:// is
 * refused unless the host is loopback (look-alike host names are not loopback), and NODE_TLS_REJECT_UNAUTHORIZED=0
 * is refused unless the endpoint is loopback — both with exit 2 before any connection is attempted (the
 * refusal codes INSECURE_ENDPOINT / TLS_VERIFICATION_DISABLED are raised while the client is being built).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {startE2E, type E2E} from '../e2e/harness.js'

let e: E2E
let dir: string
beforeAll(async () => {
  e = await startE2E()
  dir = mkdtempSync(join(tmpdir(), 'kmsguard-transport-'))
})
afterAll(async () => {
  await e?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const R = ['-r', DEMO.regions.available]
/** An https endpoint that does not exist: any attempt to reach it would be a network error (exit 6), not exit 2. */
const NOWHERE = 'https://kms.kmsguard-test.invalid'

describe('plain http:// is refused for every host that is not loopback', () => {
  for (const endpoint of ['http://10.1.2.3', 'http://api.thalassa.cloud', 'http://127.0.0.1.kmsguard-test.invalid', 'http://localhost.kmsguard-test.invalid', 'http://[fe80::1]:8200']) {
    it(endpoint, async () => {
      const r = await e.run(['summary', '--json'], {env: {THALASSA_API_ENDPOINT: endpoint}})
      expect(r.code).toBe(2)
      expect(r.json.error.code).toBe('INSECURE_ENDPOINT')
      expect(r.json.error.message).toMatch(/refusing plain http:\/\//)
    })
  }

  it('also when the endpoint comes from the tcloud context (the message names the file)', async () => {
    const file = join(dir, 'tcloud-http.yaml')
    writeFileSync(file, 'current-context: c\ncontexts:\n  - name: c\n    context: {api: s, organisation: demo}\nservers:\n  - name: s\n    api: {server: "http://kms.kmsguard-test.invalid"}\n')
    const r = await e.run(['list', ...R, '--json'], {env: {THALASSA_API_ENDPOINT: undefined, THALASSA_CONFIG: file}})
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('INSECURE_ENDPOINT')
    expect(r.json.error.message).toContain(file)
  })

  it('plain http to the loopback emulator is allowed', async () => {
    expect(e.emu.url).toMatch(/^http:\/\/127\.0\.0\.1:/)
    expect((await e.run(['summary'])).code).toBe(0)
  })
})

describe('NODE_TLS_REJECT_UNAUTHORIZED=0 is refused unless the endpoint is loopback', () => {
  const commands = [['summary'], ['whoami'], ['list', ...R], ['delete', DEMO.keys.legacyData.slug, ...R, '--dry-run'], ['export:request', DEMO.keys.escrowKey.slug, ...R, '--reason', 'x', '--policy', 'kms-export', '--yes']]
  for (const args of commands) {
    it(`${args[0]}: exit 2 TLS_VERIFICATION_DISABLED before any network attempt, with a hint`, async () => {
      const r = await e.run([...args, '--json'], {env: {THALASSA_API_ENDPOINT: NOWHERE, NODE_TLS_REJECT_UNAUTHORIZED: '0'}})
      expect(r.code).toBe(2)
      expect(r.json.error.code).toBe('TLS_VERIFICATION_DISABLED')
      expect(r.json.error.message).toMatch(/NODE_TLS_REJECT_UNAUTHORIZED=0/)
      expect(r.json.error.hint).toMatch(/NODE_EXTRA_CA_CERTS/)
    })
  }

  it('with client credentials the token exchange is not attempted either', async () => {
    const r = await e.run(['summary', '--json'], {as: 'none', env: {THALASSA_API_ENDPOINT: NOWHERE, NODE_TLS_REJECT_UNAUTHORIZED: '0', THALASSA_CLIENT_ID: DEMO.client.id, THALASSA_CLIENT_SECRET: DEMO.client.secret}})
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('TLS_VERIFICATION_DISABLED')
  })

  it('the human message is clear and carries no stack trace', async () => {
    const r = await e.run(['summary'], {env: {THALASSA_API_ENDPOINT: NOWHERE, NODE_TLS_REJECT_UNAUTHORIZED: '0'}})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^Error: NODE_TLS_REJECT_UNAUTHORIZED=0 is set/m)
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
  })

  it('against the loopback emulator it is allowed (nothing to verify there)', async () => {
    const r = await e.run(['summary', '--json'], {env: {NODE_TLS_REJECT_UNAUTHORIZED: '0'}})
    expect(r.code).toBe(0)
  })
})
