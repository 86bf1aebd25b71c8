// Proves the fresh AES key of the RSA-AES layout is wiped after use, by recording what randomBytes handed out.
import type * as NodeCrypto from 'node:crypto'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {wrapForRecipient} from '../../../src/crypto/recipient.js'
import {rsaPair, type Pair} from './helpers.js'

const handedOut = vi.hoisted(() => [] as Buffer[])
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>()
  const randomBytes = ((size: number) => {
    const buf = actual.randomBytes(size)
    handedOut.push(buf)
    return buf
  }) as typeof actual.randomBytes
  return {...actual, default: {...actual, randomBytes}, randomBytes}
})

let pair: Pair
beforeAll(async () => {
  pair = await rsaPair(2048)
})

describe('AES key hygiene', () => {
  it('zeroes the 32-byte AES key after wrapping material larger than 32 bytes', () => {
    handedOut.length = 0
    wrapForRecipient(Buffer.alloc(64, 0xab), pair.publicPem)
    const aesKeys = handedOut.filter((b) => b.length === 32)
    expect(aesKeys).toHaveLength(1)
    expect(aesKeys[0].every((b) => b === 0)).toBe(true)
  })
})
