/**
 * Credentials: personal access tokens (`Authorization: Token tc_pat_…`), bearer access tokens issued by
 * /oidc/token (`Authorization: Bearer …`), and service clients. Only SHA-256 hashes of secrets are stored.
 */
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import {unauthorized} from './http.js'
import type {EmulatorState, Principal} from './state.js'

export const ACCESS_TOKEN_TTL_SECONDS = 3600

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex')

const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/**
 * The principal behind an Authorization header, or a 401. Read-only: safe to call for faulted requests too.
 */
export function authenticate(state: EmulatorState, header: string | undefined, now: number): Principal {
  const m = /^(Token|Bearer) (\S+)$/i.exec(header ?? '')
  if (m === null) throw unauthorized('missing or malformed Authorization header (use "Token <pat>" or "Bearer <access token>")')
  const scheme = m[1].toLowerCase()
  const hash = hashSecret(m[2])
  let subject: string | undefined
  if (scheme === 'token') {
    subject = state.personalAccessTokens.find((t) => sameHash(t.tokenHash, hash))?.subject
  } else {
    subject = state.accessTokens.find((t) => sameHash(t.tokenHash, hash) && t.expiresAt > now)?.subject
  }
  const principal = state.principals.find((p) => p.subject === subject)
  if (principal === undefined) {
    throw unauthorized(scheme === 'token' ? 'invalid personal access token' : 'invalid or expired access token')
  }
  return principal
}

/** Checks a service client's secret; returns its subject. */
export function authenticateClient(state: EmulatorState, clientId: string, secret: string): string {
  const client = state.serviceClients.find((c) => c.clientId === clientId)
  if (client === undefined || !sameHash(client.secretHash, hashSecret(secret))) throw unauthorized('invalid client credentials')
  return client.subject
}

/** Issues a bearer token for `subject` valid for ACCESS_TOKEN_TTL_SECONDS (and drops expired ones). */
export function issueAccessToken(state: EmulatorState, subject: string, now: number): string {
  const token = `tc_at_${randomBytes(24).toString('base64url')}`
  state.accessTokens = state.accessTokens.filter((t) => t.expiresAt > now)
  state.accessTokens.push({tokenHash: hashSecret(token), subject, expiresAt: now + ACCESS_TOKEN_TTL_SECONDS * 1000})
  return token
}
