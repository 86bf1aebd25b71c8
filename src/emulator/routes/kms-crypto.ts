/**
 * KMS cryptographic routes: encrypt, decrypt, sign, verify, hmac, verify-hmac and export. Each one writes a
 * `kms.*` audit event with its final status (failures too). Export is also subject to the organisation's
 * server-side dual control: without an approved elevation to the export policy the key is "not found".
 */
import type {KeyEventDetails} from '../audit.js'
import {
  canEncrypt, canHmac, canSign, decryptBytes, encryptBytes, formatVersioned, hmacBytes, hmacMatches, maxPlaintext,
  parseVersioned, signBytes, verifyBytes,
} from '../crypto-engine.js'
import {badRequest, notFound, ok, type Reply} from '../http.js'
import {orgRoute, type Route, type ScopedContext} from '../router.js'
import type {KeyType, KeyVersion, StoredKey} from '../state.js'
import {optBool, optString, optVersion, reqBase64, reqString, type Body} from '../validate.js'
import {audited, keyVersion, pathKey, requireActive} from './kms-common.js'
import {holdsApprovedElevation} from './iam.js'

const MAX_PAYLOAD = 65535
const MAX_TOKEN_CHARS = 200_000

type Capability = (t: KeyType) => boolean

interface CryptoCall {
  body: Body
  key: StoredKey
  details: KeyEventDetails
}

/**
 * A crypto route: resolves the key, then (audited) checks it is active and supports the operation, and runs `op`.
 */
function cryptoRoute(action: string, opName: string, capable: Capability, op: (call: CryptoCall) => Reply) {
  return (ctx: ScopedContext): Promise<Reply> => {
    const {key} = pathKey(ctx)
    return audited(ctx, action, key, (details) => {
      requireActive(key)
      if (!capable(key.keyType)) throw badRequest(`operation ${opName} is not supported for key type ${key.keyType}`)
      return op({body: ctx.body(), key, details})
    })
  }
}

/** Base64 `field` of 1..65535 bytes; its size goes into the audit details. */
function payload(call: CryptoCall, field: string): Buffer {
  const data = reqBase64(call.body, field)
  if (data.length < 1 || data.length > MAX_PAYLOAD) throw badRequest(`${field} must decode to 1..${MAX_PAYLOAD} bytes`)
  call.details.payloadSize = data.length
  return data
}

/** The version selected by the request's keyVersion (latest by default). */
function requestedVersion(call: CryptoCall): KeyVersion {
  const v = keyVersion(call.key, optVersion(call.body))
  call.details.keyVersion = v.version
  return v
}

/** The version named by a `thalassa:v<N>:` value, and its payload bytes. */
function versionedInput(call: CryptoCall, field: string): {version: KeyVersion; data: Buffer} {
  const parsed = parseVersioned(reqString(call.body, field, MAX_TOKEN_CHARS), field)
  call.details.keyVersion = parsed.version
  call.details.payloadSize ??= parsed.data.length
  return {version: keyVersion(call.key, parsed.version), data: parsed.data}
}

const encrypt = cryptoRoute('kms.encrypt', 'encrypt', canEncrypt, (call) => {
  const plaintext = payload(call, 'plaintext')
  const v = requestedVersion(call)
  const max = maxPlaintext(call.key.keyType, v.material)
  if (plaintext.length > max) throw badRequest(`plaintext too large for ${call.key.keyType} (max ${max} bytes)`)
  const blob = encryptBytes(call.key.keyType, v.material, plaintext)
  return ok({ciphertext: formatVersioned(v.version, blob), keyVersion: String(v.version)})
})

const decrypt = cryptoRoute('kms.decrypt', 'decrypt', canEncrypt, (call) => {
  const {version, data} = versionedInput(call, 'ciphertext')
  const plaintext = decryptBytes(call.key.keyType, version.material, data)
  return ok({plaintext: plaintext.toString('base64'), keyVersion: String(version.version)})
})

const sign = cryptoRoute('kms.sign', 'sign', canSign, (call) => {
  const input = payload(call, 'input')
  if (optBool(call.body, 'prehashed') === true) throw badRequest('prehashed input is not supported by this emulator; send the message')
  if ((optString(call.body, 'context', 255) ?? '') !== '') throw badRequest('a signing context is not supported by this emulator')
  const v = requestedVersion(call)
  const signature = signBytes(call.key.keyType, v.material, input, optString(call.body, 'hashAlgorithm', 32))
  return ok({signature: formatVersioned(v.version, signature), keyVersion: String(v.version)})
})

const verify = cryptoRoute('kms.verify', 'verify', canSign, (call) => {
  const input = payload(call, 'input')
  const {version, data} = versionedInput(call, 'signature')
  const valid = verifyBytes(call.key.keyType, version.material, input, data, optString(call.body, 'hashAlgorithm', 32))
  return ok({valid, keyVersion: String(version.version)})
})

const hmac = cryptoRoute('kms.hmac', 'hmac', canHmac, (call) => {
  const input = payload(call, 'input')
  const v = requestedVersion(call)
  const mac = hmacBytes(call.key.keyType, v.material, input, optString(call.body, 'algorithm', 32))
  return ok({hmac: formatVersioned(v.version, mac), keyVersion: String(v.version)})
})

const verifyHmac = cryptoRoute('kms.verify_hmac', 'verify-hmac', canHmac, (call) => {
  const input = payload(call, 'input')
  const {version, data} = versionedInput(call, 'hmac')
  const valid = hmacMatches(call.key.keyType, version.material, input, data, optString(call.body, 'hashAlgorithm', 32))
  return ok({valid, keyVersion: String(version.version)})
})

function exportKey(ctx: ScopedContext): Promise<Reply> {
  const {key} = pathKey(ctx)
  return audited(ctx, 'kms.export', key, (details) => {
    const settings = ctx.org.settings
    if (settings.exportRequiresElevation &&
      !holdsApprovedElevation(ctx.state, ctx.org.identity, ctx.principal.subject, settings.exportPolicyIdentity, key.projectIdentity, ctx.now)) {
      throw notFound('key not found')
    }
    if (!key.exportAllowed) throw badRequest('export not allowed for this key')
    requireActive(key)
    const v = keyVersion(key, optVersion(ctx.body()))
    details.keyVersion = v.version
    return ok({keyMaterial: v.material.toString('base64'), keyVersion: String(v.version)})
  })
}

const K = '/v1/kms/:region/keys/:id'

export const kmsCryptoRoutes: Route[] = [
  orgRoute('POST', `${K}/encrypt`, encrypt),
  orgRoute('POST', `${K}/decrypt`, decrypt),
  orgRoute('POST', `${K}/sign`, sign),
  orgRoute('POST', `${K}/verify`, verify),
  orgRoute('POST', `${K}/hmac`, hmac),
  orgRoute('POST', `${K}/verify-hmac`, verifyHmac),
  orgRoute('POST', `${K}/export`, exportKey),
]
