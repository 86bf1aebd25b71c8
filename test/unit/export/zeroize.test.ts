/**
 * Buffers that held raw key material are wiped: the material read for import once it is wrapped, and the
 * exported material (and the bytes written) once the file is written. The file layer is spied on to get hold
 * of the very buffers the operations used.
 */
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import nock from 'nock'
import {afterEach, describe, expect, it, vi} from 'vitest'
import * as files from '../../../src/crypto/files.js'
import {exportKeyMaterial} from '../../../src/operations/export.js'
import {importKey} from '../../../src/operations/import.js'
import {AES_KEY, REGION, REQUESTER, as, ctxFor, elevation, mockPreflight, mockSummary, rsaKeyPair, useNockAndTempDir, } from './helpers.js'

vi.mock('../../../src/crypto/files.js', async (original) => {
  const real = await original<typeof import('../../../src/crypto/files.js')>()
  const written: Buffer[] = []
  const reserveSecretFile = vi.fn(async (path: string) => {
    const file = await real.reserveSecretFile(path)
    return {...file, path: file.path, abandon: file.abandon, write: async (data: Buffer) => {
      written.push(data)
      await file.write(data)
    }}
  })
  return {...real, readSecretFile: vi.fn(real.readSecretFile), reserveSecretFile, written}
})

const wrapping = rsaKeyPair(2048)
const tmp = useNockAndTempDir()
afterEach(() => {
  vi.clearAllMocks()
})

const allZero = (b: Buffer) => b.length > 0 && b.every((x) => x === 0)

describe('zeroize', () => {
  it('import wipes the material it read once it is wrapped', async () => {
    const held = randomBytes(32)
    vi.mocked(files.readSecretFile).mockResolvedValueOnce(held)
    mockSummary()
    nock('https://api.kmsguard.test').get(`/v1/kms/${REGION}/wrapping-key`).reply(200, {publicKey: wrapping.publicPem, algorithm: 'RSA_AES_KEY_WRAP_SHA_256'})
    nock('https://api.kmsguard.test').post(`/v1/kms/${REGION}/keys`).reply(201, {identity: 'kms-i', name: 'n', slug: 'n', keyType: 'aes256-gcm96', status: 'active'})
    await importKey(ctxFor(REQUESTER, tmp.dir), {region: REGION, name: 'n', type: 'aes256-gcm96', material: '/unused', yes: true, dryRun: false})
    expect(allZero(held)).toBe(true)
  })

  it('import wipes the material when the region guard refuses', async () => {
    const held = randomBytes(32)
    vi.mocked(files.readSecretFile).mockResolvedValueOnce(held)
    nock('https://api.kmsguard.test').get('/v1/kms/summary').reply(200, {featureEnabled: false, regions: []})
    await expect(importKey(ctxFor(REQUESTER, tmp.dir), {region: REGION, name: 'n', type: 'aes256-gcm96', material: '/unused', yes: true, dryRun: false})).rejects.toMatchObject({exitCode: 3})
    expect(allZero(held)).toBe(true)
  })

  it('export wipes the material after writing it', async () => {
    mockPreflight(REQUESTER)
    as(REQUESTER).get('/v1/projects/iam/my-access-elevations/iamae-1').reply(200, elevation())
    as(REQUESTER).post(`/v1/kms/${REGION}/keys/${AES_KEY.identity}/export`).reply(200, {keyMaterial: randomBytes(32).toString('base64')})
    await exportKeyMaterial(ctxFor(REQUESTER, tmp.dir), {region: REGION, key: AES_KEY.slug, approval: 'iamae-1', out: join(tmp.dir, 'k'), plaintext: true, confirm: AES_KEY.slug, dryRun: false})
    const {written} = files as unknown as {written: Buffer[]}
    expect(written).toHaveLength(1)
    expect(allZero(written[0])).toBe(true)
  })
})
