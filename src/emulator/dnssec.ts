/**
 * DNSSEC record maths for the emulator: the DNSKEY (KSK) RDATA of a KMS key, its key tag (RFC 4034 App. B) and
 * the SHA-256 DS record (RFC 4509), so the DNSSEC status shows realistic, self-consistent DS values.
 */
import {createHash} from 'node:crypto'
import {publicKeyObject} from './crypto-engine.js'
import type {KeyType} from './state.js'

/** DNSSEC algorithm numbers: RSASHA256 8, ECDSAP256SHA256 13, ECDSAP384SHA384 14. */
const ALGORITHMS: Partial<Record<KeyType, number>> = {
  'rsa-2048': 8, 'rsa-3072': 8, 'rsa-4096': 8, 'ecdsa-p256': 13, 'ecdsa-p384': 14,
}

const KSK_FLAGS = 257
const PROTOCOL = 3
const SHA256_DIGEST_TYPE = 2

interface DsRecord {
  record: string
  digestTypeName: string
  keyTag: number
  algorithm: number
  keyRole: 'KSK'
  publicKey: string
}

/** DNSKEY public key field: ECDSA x||y (RFC 6605), RSA exponent-length||exponent||modulus (RFC 3110). */
function dnskeyPublicKey(material: Buffer): Buffer {
  const jwk = publicKeyObject(material).export({format: 'jwk'})
  const b = (s: string | undefined) => Buffer.from(s ?? '', 'base64url')
  if (jwk.kty === 'EC') return Buffer.concat([b(jwk.x), b(jwk.y)])
  const e = b(jwk.e)
  return Buffer.concat([Buffer.from([e.length]), e, b(jwk.n)])
}

export function keyTag(rdata: Buffer): number {
  let ac = 0
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8
  ac += (ac >> 16) & 0xffff
  return ac & 0xffff
}

/** Owner name in canonical wire format (lower-case labels, length-prefixed, root terminator). */
function wireName(zone: string): Buffer {
  const labels = zone.toLowerCase().replace(/\.$/, '').split('.').filter((l) => l !== '')
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])])
}

/** The SHA-256 DS record for `zone` signed by a KMS key of `keyType` with `material` (PKCS#8). */
export function dsRecord(zone: string, keyType: KeyType, material: Buffer): DsRecord {
  const algorithm = ALGORITHMS[keyType]
  if (algorithm === undefined) throw new Error(`key type ${keyType} cannot sign DNSSEC zones`)
  const pub = dnskeyPublicKey(material)
  const rdata = Buffer.concat([Buffer.from([KSK_FLAGS >> 8, KSK_FLAGS & 0xff, PROTOCOL, algorithm]), pub])
  const tag = keyTag(rdata)
  const digest = createHash('sha256').update(wireName(zone)).update(rdata).digest('hex')
  return {
    record: `${tag} ${algorithm} ${SHA256_DIGEST_TYPE} ${digest}`,
    digestTypeName: 'SHA-256',
    keyTag: tag,
    algorithm,
    keyRole: 'KSK',
    publicKey: pub.toString('base64'),
  }
}
