/**
 * Last line of defence against journaling a secret. Operations build journal records from flags and API
 * metadata only; if a token, key material or ciphertext ever reaches a record, that is a bug, and this check
 * throws before the line is written. Messages name the field and the pattern, never the value.
 */

/** `sha256:<hex>` fingerprints of exported material are journaled on purpose and are not secret. */
const FINGERPRINT = /sha256:[0-9a-f]{64}/g

/**
 * A run of 40+ base64 characters that mixes upper case, lower case and digits: what encoded random bytes look
 * like (40 random base64 characters lack one of the three classes with a probability below 1e-6), and what a
 * file path such as /home/operator/exports/escrow-2026 does not.
 */
const BASE64_RUN = /[A-Za-z0-9+/]{40,}={0,2}/g
const HEX_RUN = /(?<![0-9a-f])[0-9a-f]{40,}(?![0-9a-f])/gi
const mixed = (run: string) => /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run)
const base64Blob = (s: string): boolean => (s.match(BASE64_RUN) ?? []).some(mixed)

const PATTERNS: ReadonlyArray<{name: string; test: {test(s: string): boolean}}> = [
  {name: 'personal access token', test: /tc_pat_/},
  {name: 'authorization header value', test: /\b(?:Bearer|Token) +[A-Za-z0-9._~+/-]{16,}/i},
  {name: 'PEM block', test: /-----BEGIN/},
  {name: 'Thalassa ciphertext', test: /thalassa:v\d+:/},
  {name: 'base64 blob', test: {test: base64Blob}},
  {name: 'hex blob', test: {test: (s: string) => (s.match(HEX_RUN) ?? []).length > 0}},
]

/** Fields whose values are ours, not the caller's, and legitimately look like hex blobs. */
const EXEMPT_FIELDS = new Set(['prev'])

const check = (value: string, field: string): void => {
  const scrubbed = value.replace(FINGERPRINT, 'sha256:fingerprint')
  for (const {name, test} of PATTERNS) {
    if (test.test(scrubbed)) {
      throw new Error(`refusing to journal ${field}: its value looks like secret material (${name})`)
    }
  }
}

const walk = (value: unknown, field: string): void => {
  if (typeof value === 'string') {
    check(value, field)
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${field}[${index}]`))
  } else if (value !== null && typeof value === 'object') {
    for (const [name, child] of Object.entries(value)) {
      const path = field === '' ? name : `${field}.${name}`
      check(name, `the key of ${path}`)
      if (!(field === '' && EXEMPT_FIELDS.has(name))) walk(child, path)
    }
  }
}

/** Throws when any string (or object key) of `entry`, other than the chain hash `prev`, looks like a secret. */
export const assertNoSecretMaterial = (entry: unknown): void => walk(entry, '')

/**
 * Replaces what the blob rules above would refuse with `[withheld]`, keeping fingerprints. For free text that
 * may echo operator input (error messages), so an odd argument cannot make the journal refuse a whole line.
 */
export const withholdSecretLike = (text: string): string => {
  const keep: string[] = []
  const masked = text.replace(FINGERPRINT, (fp) => `\u0000${keep.push(fp) - 1}\u0000`)
  // eslint-disable-next-line no-control-regex
  return masked.replace(BASE64_RUN, (run) => (mixed(run) ? '[withheld]' : run)).replace(HEX_RUN, '[withheld]').replace(/\u0000(\d+)\u0000/g, (_, i: string) => keep[Number(i)])
}
