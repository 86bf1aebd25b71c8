/** Plain aligned tables and guard lines for human output. No colour unless useColour() says so. */
import type {GuardResult} from '../guards/types.js'

export function table(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null ? '-' : String(c))))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

export function keyValues(pairs: Array<[string, string | number | boolean | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length))
  return pairs.filter(([, v]) => v !== undefined).map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${String(v)}`).join('\n')
}

const MARK: Record<GuardResult['outcome'], string> = {pass: '✔', fail: '✖', warn: '!', skip: '-'}
const COLOUR: Record<GuardResult['outcome'], string> = {pass: '\u001B[32m', fail: '\u001B[31m', warn: '\u001B[33m', skip: '\u001B[2m'}

export function guardLines(guards: GuardResult[], colour: boolean): string {
  return guards.map((g) => {
    const mark = colour ? `${COLOUR[g.outcome]}${MARK[g.outcome]}\u001B[0m` : MARK[g.outcome]
    return `${mark} ${g.guard.padEnd(10)} ${g.message}`
  }).join('\n')
}
