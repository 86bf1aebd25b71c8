import {describe, expect, it} from 'vitest'
import {fingerprint, zeroize} from '../../../src/crypto/fingerprint.js'

describe('fingerprint', () => {
  it('is sha256:<hex> of the bytes (FIPS 180-2 "abc" vector)', () => {
    expect(fingerprint(Buffer.from('abc'))).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('differs when one bit differs and has the fixed shape', () => {
    const a = Buffer.alloc(32, 7)
    const b = Buffer.from(a)
    b[31] ^= 1
    expect(fingerprint(a)).not.toBe(fingerprint(b))
    expect(fingerprint(a)).toMatch(/^sha256:[0-9a-f]{64}$/)
  })
})

describe('zeroize', () => {
  it('overwrites every byte, also through a view, and leaves bytes outside the view alone', () => {
    const whole = Buffer.from([1, 2, 3, 4, 5, 6])
    zeroize(whole.subarray(1, 4))
    expect([...whole]).toEqual([1, 0, 0, 0, 5, 6])
    zeroize(whole)
    expect(whole.every((b) => b === 0)).toBe(true)
  })
})
