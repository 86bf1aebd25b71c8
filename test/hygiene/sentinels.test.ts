/** The leak search itself: it must find a secret in every encoding it claims to search, and only there. */
import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {encodings, findIssuedTokens, findLeaks, textSentinel} from './sentinels.js'

describe('findLeaks', () => {
  // 0xfbffbf encodes as "+/+/" in base64, so base64 and base64url differ.
  const secret = {name: 'material', value: Buffer.concat([Buffer.from([0xfb, 0xff, 0xbf]), randomBytes(29)])}

  it('finds the secret embedded in output in each encoding, naming the encoding and the place', () => {
    for (const {encoding, needle} of encodings(secret.value)) {
      const data = Buffer.concat([Buffer.from('prefix '), needle, Buffer.from(' suffix')])
      expect(findLeaks([{where: 'stderr', data}], [secret])).toContain(`material (${encoding}) in stderr`)
    }
    expect(encodings(secret.value).map((e) => e.encoding)).toEqual(expect.arrayContaining(['raw', 'base64', 'base64url', 'hex', 'HEX']))
  })

  it('finds nothing when the output holds only other bytes, and never puts the secret in its report', () => {
    const other = randomBytes(64)
    expect(findLeaks([{where: 'stdout', data: other}], [secret])).toEqual([])
    const report = findLeaks([{where: 'stdout', data: Buffer.from(secret.value.toString('hex'))}], [secret]).join('\n')
    expect(report).not.toContain(secret.value.toString('hex'))
  })

  it('text sentinels are searched the same way', () => {
    const s = textSentinel('token', 'tc_pat_abcdef0123456789')
    const leaks = findLeaks([{where: 'journal', data: Buffer.from(`x ${Buffer.from('tc_pat_abcdef0123456789').toString('base64url')} y`)}], [s])
    expect(leaks).toHaveLength(1)
    expect(leaks[0]).toMatch(/^token \(base64.*\) in journal$/)
  })

  it('issued bearer tokens are caught by their shape', () => {
    expect(findIssuedTokens([{where: 'stderr', data: Buffer.from('Bearer tc_at_AbCdEfGhIjKlMnOpQrStUv')}])).toEqual(['an issued access token (tc_at_…) in stderr'])
    expect(findIssuedTokens([{where: 'stderr', data: Buffer.from('Bearer [REDACTED]')}])).toEqual([])
  })
})
