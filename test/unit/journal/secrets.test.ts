import {describe, expect, it} from 'vitest'
import {assertNoSecretMaterial, withholdSecretLike} from '../../../src/journal/secrets.js'
import {sampleRecord} from './helpers.js'

const pem = ['-----BEGIN', 'PRIVATE KEY-----\nMIIE...'].join(' ')

describe('assertNoSecretMaterial', () => {
  it('accepts an ordinary record, including prev and sha256 fingerprints', () => {
    expect(() => assertNoSecretMaterial({
      prev: 'ab'.repeat(32),
      ...sampleRecord({details: {fingerprint: `sha256:${'0f'.repeat(32)}`, out: '/home/ops/export/billing-db.bin', bytes: 32}}),
    })).not.toThrow()
  })

  it.each([
    ['a personal access token', 'tc_pat_demo_operator'],
    ['a Bearer header value', 'Bearer eyJhbGciOiJSUzI1NiJ9.payload'],
    ['a Token header value', 'Authorization: Token abcdefghijklmnopqrstuvwx'],
    ['a PEM private key', pem],
    ['Thalassa ciphertext', 'thalassa:v2:c2VjcmV0'],
    ['a long base64 blob', 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJ+/A='],
  ])('rejects %s wherever it hides, without echoing it', (_label, secret) => {
    const records = [
      sampleRecord({result: {status: 'error', exitCode: 6, summary: secret}}),
      sampleRecord({details: {note: secret}}),
      sampleRecord({guards: [{guard: 'approval', outcome: 'fail', message: `bad: ${secret}`}]}),
      sampleRecord({overrides: [{flag: '--force', reason: secret}]}),
    ]
    for (const record of records) {
      expect(() => assertNoSecretMaterial(record)).toThrow(/looks like secret material/)
      try {
        assertNoSecretMaterial(record)
      } catch (err) {
        expect((err as Error).message).not.toContain(secret)
      }
    }
  })

  it('checks object keys of free-form details too', () => {
    expect(() => assertNoSecretMaterial(sampleRecord({details: {tc_pat_leak: true}}))).toThrow(/key of details/)
  })

  it('does not exempt a field named prev below the top level', () => {
    expect(() => assertNoSecretMaterial({details: {prev: 'tc_pat_x'}})).toThrow(/details\.prev/)
  })

  it('does not mistake prose about tokens or short identifiers for secrets', () => {
    expect(() => assertNoSecretMaterial(sampleRecord({result: {status: 'error', exitCode: 6, summary: 'Token expired; Bearer auth failed'}}))).not.toThrow()
  })
})

describe('what is not a secret', () => {
  it('long file paths and slugs pass; mixed-case base64 and long hex do not', () => {
    expect(() => assertNoSecretMaterial({summary: 'exported escrow-key v1 to /home/operator/secure/exports/2026/escrow.wrapped'})).not.toThrow()
    expect(() => assertNoSecretMaterial({summary: 'no key "averyveryverylongkeynamewithoutanyseparators" in nl-01'})).not.toThrow()
    expect(() => assertNoSecretMaterial({summary: `material ${Buffer.alloc(32, 7).toString('hex')}`})).toThrow(/hex blob/)
    expect(() => assertNoSecretMaterial({summary: 'c3VwZXJzZWNyZXRrZXltYXRlcmlhbDEyMzQ1Njc4OTBBQkNE'})).toThrow(/base64 blob/)
    const fp = `sha256:${'ab'.repeat(32)}`
    expect(withholdSecretLike(`x c3VwZXJzZWNyZXRrZXltYXRlcmlhbDEyMzQ1Njc4OTBBQkNE y ${fp}`)).toBe(`x [withheld] y ${fp}`)
  })
})
