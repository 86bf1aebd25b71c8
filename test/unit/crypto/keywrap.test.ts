import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {ExitCode, KmsGuardError} from '../../../src/cli/errors.js'
import {aesKeyUnwrapPad, aesKeyWrapPad} from '../../../src/crypto/keywrap.js'
import {thrown} from './helpers.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

// RFC 5649 §6, "Padded Key Wrap Examples" (both use the same 192-bit KEK).
const RFC_KEK = hex('5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8')
const RFC_VECTORS = [
  {name: '20-octet key', key: hex('c37b7e6492584340 bed1220780894115 5068f738'), wrapped: hex('138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a')},
  {name: '7-octet key', key: hex('466f7250617369'), wrapped: hex('afbeb0f07dfbf541 9200f2ccb50bb24f')},
]

describe('RFC 5649 test vectors', () => {
  for (const v of RFC_VECTORS) {
    it(`wraps the ${v.name} to the published output`, () => {
      expect(aesKeyWrapPad(RFC_KEK, v.key).equals(v.wrapped)).toBe(true)
    })
    it(`unwraps the published ${v.name} output`, () => {
      expect(aesKeyUnwrapPad(RFC_KEK, v.wrapped).equals(v.key)).toBe(true)
    })
  }
})

describe('aesKeyWrapPad / aesKeyUnwrapPad', () => {
  const sizes = [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 1217, 2400]
  for (const kekBytes of [16, 24, 32]) {
    it(`round-trips every size class under a ${kekBytes * 8}-bit KEK with length 8·⌈n/8⌉+8`, () => {
      const kek = randomBytes(kekBytes)
      for (const n of sizes) {
        const material = randomBytes(n)
        const wrapped = aesKeyWrapPad(kek, material)
        expect(wrapped.length).toBe(8 * Math.ceil(n / 8) + 8)
        expect(aesKeyUnwrapPad(kek, wrapped).equals(material)).toBe(true)
      }
    })
  }

  it('rejects a wrong KEK, a flipped bit and a truncation as an integrity failure (exit 2)', async () => {
    const kek = randomBytes(32)
    const wrapped = aesKeyWrapPad(kek, randomBytes(40))
    const flipped = Buffer.from(wrapped)
    flipped[flipped.length - 1] ^= 1
    for (const [key, data] of [[randomBytes(32), wrapped], [kek, flipped], [kek, wrapped.subarray(0, wrapped.length - 8)]] as const) {
      const err = await thrown(() => aesKeyUnwrapPad(key, data))
      expect(err).toBeInstanceOf(KmsGuardError)
      expect((err as KmsGuardError).exitCode).toBe(ExitCode.USAGE)
      expect((err as KmsGuardError).code).toBe('KEY_UNWRAP_FAILED')
    }
  })

  it('rejects wrapped input that is not a multiple of 8 bytes or shorter than 16', async () => {
    const kek = randomBytes(32)
    for (const len of [0, 8, 17, 23]) {
      const err = await thrown(() => aesKeyUnwrapPad(kek, randomBytes(len)))
      expect((err as KmsGuardError).code).toBe('KEY_UNWRAP_FAILED')
      expect((err as KmsGuardError).message).toContain(`${len} bytes`)
    }
  })

  it('refuses KEKs that are not 128, 192 or 256 bits, and empty material', () => {
    expect(() => aesKeyWrapPad(randomBytes(20), randomBytes(16))).toThrow(/160 bits/)
    expect(() => aesKeyUnwrapPad(randomBytes(64), randomBytes(24))).toThrow(/512 bits/)
    expect(() => aesKeyWrapPad(randomBytes(32), Buffer.alloc(0))).toThrow(/empty/)
  })
})
