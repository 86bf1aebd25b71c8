/**
 * Last line of defence against journaling a secret. Operations build journal records from flags and API
 * metadata only; if a token, key material or ciphertext ever reaches a record, that is a bug, and this check
 * throws before the line is written. Messages name the field and the pattern, never the value.
 */

/** `sha256:<hex>` fingerprints of exported material are journaled on purpose and are not secret. */
const FINGERPRINT = /sha256:[0-9a-f]{64}/g

const PATTERNS: ReadonlyArray<{name: string; test: RegExp}> = [
  {name: 'personal access token', test: /tc_pat_/},
  {name: 'authorization header value', test: /\b(?:Bearer|Token) +[A-Za-z0-9._~+/-]{16,}/i},
  {name: 'PEM block', test: /-----BEGIN/},
  {name: 'Thalassa ciphertext', test: /thalassa:v\d+:/},
  {name: 'base64 blob', test: /[A-Za-z0-9+/]{40,}={0,2}/},
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
