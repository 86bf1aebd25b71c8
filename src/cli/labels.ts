/** KEY=VALUE labels from the command line (no oclif here, so operations can validate too). */
import {usageError} from './errors.js'

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62}[A-Za-z0-9])?$/

/** KEY=VALUE labels; the value may be empty, the key may not. */
export function parseLabels(values: string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const raw of values ?? []) {
    const eq = raw.indexOf('=')
    const key = eq < 0 ? '' : raw.slice(0, eq)
    if (eq < 0 || !LABEL_KEY.test(key) || raw.length - eq - 1 > 253) {
      throw usageError(`--label "${raw}" is not KEY=VALUE (key: letters, digits, . _ - /, at most 64 characters; value at most 253)`)
    }
    labels[key] = raw.slice(eq + 1)
  }
  return labels
}
