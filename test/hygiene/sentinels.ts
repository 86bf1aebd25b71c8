/**
 * Sentinel secrets and the leak search. A sentinel is a random secret the test controls (a token, a client
 * secret, key material); every place kmsguard writes to is searched for it in each encoding a careless program
 * could print it in — raw, base64 (with and without padding), base64url and hex (both cases). A reported leak
 * names the secret, the encoding and where it was found, never the secret itself.
 */
import {randomBytes} from 'node:crypto'

export interface Sentinel {
  /** What the secret is, for reports, e.g. "operator PAT". */
  name: string
  value: Buffer
}

export interface Haystack {
  /** Where the bytes come from, e.g. "stderr of `whoami --debug`". */
  where: string
  data: Buffer
}

/** A random alphanumeric core, so every encoding of the sentinel is distinctive and URL-safe. */
export const randomCore = (bytes = 12): string => randomBytes(bytes).toString('hex')

export const textSentinel = (name: string, value: string): Sentinel => ({name, value: Buffer.from(value, 'utf8')})

/** The encodings searched for; the raw bytes first. */
export function encodings(value: Buffer): Array<{encoding: string; needle: Buffer}> {
  const base64 = value.toString('base64')
  const forms: Array<[string, string | Buffer]> = [
    ['raw', value],
    ['base64', base64],
    ['base64 without padding', base64.replace(/=+$/, '')],
    ['base64url', value.toString('base64url')],
    ['hex', value.toString('hex')],
    ['HEX', value.toString('hex').toUpperCase()],
  ]
  const seen = new Set<string>()
  return forms
    .map(([encoding, v]) => ({encoding, needle: Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1')}))
    .filter(({needle}) => {
      const key = needle.toString('hex')
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
}

/** Every (secret, encoding, place) where a sentinel shows up; empty when nothing leaked. */
export function findLeaks(haystacks: readonly Haystack[], sentinels: readonly Sentinel[]): string[] {
  const leaks: string[] = []
  for (const s of sentinels) {
    for (const {encoding, needle} of encodings(s.value)) {
      for (const h of haystacks) if (h.data.includes(needle)) leaks.push(`${s.name} (${encoding}) in ${h.where}`)
    }
  }
  return leaks
}

/** Bearer tokens the emulator issues from /oidc/token are random; they are caught by their shape. */
const ISSUED_TOKEN = /tc_at_[A-Za-z0-9_-]{16,}/

export function findIssuedTokens(haystacks: readonly Haystack[]): string[] {
  return haystacks.filter((h) => ISSUED_TOKEN.test(h.data.toString('latin1'))).map((h) => `an issued access token (tc_at_…) in ${h.where}`)
}
