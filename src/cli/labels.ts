/** KEY=VALUE labels from the command line (no oclif here, so operations can validate too). */
import {usageError} from './errors.js'

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62}[A-Za-z0-9])?$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F]/

/** KEY=VALUE labels; the value may be empty, the key may not. */
export function parseLabels(values: string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const raw of values ?? []) {
    const eq = raw.indexOf('=')
    const key = eq < 0 ? '' : raw.slice(0, eq)
    const value = eq < 0 ? '' : raw.slice(eq + 1)
    if (eq < 0 || !LABEL_KEY.test(key) || value.length > 253 || value.includes('=') || CONTROL.test(value)) {
      throw usageError(`--label ${JSON.stringify(raw.slice(0, 80))} is not KEY=VALUE (key: letters, digits, . _ - /, at most 64 characters; value: at most 253 characters, no "=" and no control characters)`)
    }
    labels[key] = value
  }
  return labels
}
