/**
 * Test-only helpers for the crypto tests: key generation, an independent RSA-OAEP decoder (raw RSA + RFC 8017
 * EME-OAEP decoding with SHA-256 and MGF1-SHA-256) to prove the exact padding parameters, and a minimal X.509
 * certificate builder so certificate input can be tested without fixtures or the openssl binary.
 */
import {constants, createHash, generateKeyPair, privateDecrypt, sign, type KeyObject} from 'node:crypto'
import {promisify} from 'node:util'

const generate = promisify(generateKeyPair)

export interface Pair {publicKey: KeyObject; privateKey: KeyObject; publicPem: string; privatePem: string}

const toPair = ({publicKey, privateKey}: {publicKey: KeyObject; privateKey: KeyObject}): Pair => ({
  publicKey,
  privateKey,
  publicPem: publicKey.export({type: 'spki', format: 'pem'}).toString(),
  privatePem: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
})

export const rsaPair = async (modulusLength: number): Promise<Pair> => toPair(await generate('rsa', {modulusLength}))
export const ecPair = async (namedCurve: string): Promise<Pair> => toPair(await generate('ec', {namedCurve}))
export const ed25519Pair = async (): Promise<Pair> => toPair(await generate('ed25519', undefined))

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest()

const mgf1Sha256 = (seed: Buffer, length: number): Buffer => {
  const blocks: Buffer[] = []
  for (let counter = 0; blocks.length * 32 < length; counter++) {
    const c = Buffer.alloc(4)
    c.writeUInt32BE(counter)
    blocks.push(sha256(Buffer.concat([seed, c])))
  }
  return Buffer.concat(blocks).subarray(0, length)
}

const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i]))

/** RFC 8017 §7.1.2 decoding with SHA-256, MGF1-SHA-256 and the empty label; throws on any mismatch. */
export const oaepSha256DecodeManually = (privateKey: KeyObject, ciphertext: Buffer): Buffer => {
  const em = privateDecrypt({key: privateKey, padding: constants.RSA_NO_PADDING}, ciphertext)
  const hLen = 32
  if (em[0] !== 0) throw new Error('EM does not start with 0x00')
  const maskedSeed = em.subarray(1, 1 + hLen)
  const maskedDb = em.subarray(1 + hLen)
  const seed = xor(maskedSeed, mgf1Sha256(maskedDb, hLen))
  const db = xor(maskedDb, mgf1Sha256(seed, maskedDb.length))
  if (!db.subarray(0, hLen).equals(sha256(Buffer.alloc(0)))) throw new Error('label hash mismatch')
  const one = db.indexOf(1, hLen)
  if (one < 0 || db.subarray(hLen, one).some((b) => b !== 0)) throw new Error('bad OAEP padding string')
  return db.subarray(one + 1)
}

const derLength = (n: number) => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]))
const tlv = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts)
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body])
}
const seq = (...parts: Buffer[]) => tlv(0x30, ...parts)

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`

/** A self-issued X.509 v3 certificate for `subjectKey`, signed (sha256WithRSAEncryption) by `signerKey`. */
export const certificatePem = (subjectKey: KeyObject, signerKey: KeyObject): string => {
  const sha256WithRsa = seq(Buffer.from('06092a864886f70d01010b', 'hex'), Buffer.from('0500', 'hex'))
  const name = seq(tlv(0x31, seq(Buffer.from('0603550403', 'hex'), tlv(0x0c, Buffer.from('kmsguard test recipient')))))
  const validity = seq(tlv(0x17, Buffer.from('250101000000Z')), tlv(0x17, Buffer.from('350101000000Z')))
  const spki = subjectKey.export({type: 'spki', format: 'der'})
  const tbs = seq(tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([1])), sha256WithRsa, name, validity, name, spki)
  const cert = seq(tbs, sha256WithRsa, tlv(0x03, Buffer.from([0]), sign('sha256', tbs, signerKey)))
  return pem('CERTIFICATE', cert)
}

/** The same RSA public key re-labelled as an RSASSA-PSS-only SPKI (algorithm OID 1.2.840.113549.1.1.10). */
export const rsaPssSpkiPem = (rsaPublicKey: KeyObject): string =>
  pem('PUBLIC KEY', seq(seq(Buffer.from('06092a864886f70d01010a', 'hex')), tlv(0x03, Buffer.from([0]), rsaPublicKey.export({type: 'pkcs1', format: 'der'}))))

/** Run `fn` and return what it threw (failing the test when it does not throw). */
export const thrown = async (fn: () => unknown): Promise<unknown> => {
  try {
    await fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw, got none')
}
