/** The results table (Markdown, also printed) and the machine it was measured on. */
import {cpus, loadavg, totalmem} from 'node:os'

export function machine() {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model?.trim() ?? 'unknown',
    cores: cpu.length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadavg: loadavg().map((l) => l.toFixed(2)).join(' '),
    date: new Date().toISOString(),
  }
}

const fmt = (v, unit) => (v === undefined || Number.isNaN(v) ? '—' : `${Math.round(v)}${unit}`)

/**
 * rows: {name, unit, median, min, max, bound?, boundNote?, target? (the highest passing ratio), strict? (ratio must
 * stay below target), error?}. ratio = median ÷ bound; a row without a bound or a target is information only.
 */
export function table(rows) {
  const lines = [
    '| measurement | median | min | max | bound | ratio | target | result |',
    '|---|---:|---:|---:|---|---:|---:|---|',
  ]
  for (const r of rows) {
    const ratio = r.bound ? r.median / r.bound : undefined
    const pass = r.error ? false : ratio === undefined || r.target === undefined ? undefined : passed(r)
    const result = r.error ? `**ERROR** ${r.error}` : pass === undefined ? 'info' : pass ? 'pass' : '**FAIL**'
    lines.push(`| ${r.name} | ${fmt(r.median, r.unit)} | ${fmt(r.min, r.unit)} | ${fmt(r.max, r.unit)} | ${r.bound ? `${fmt(r.bound, r.unit)}${r.boundNote ? ` (${r.boundNote})` : ''}` : '—'} | ${ratio === undefined ? '—' : ratio.toFixed(3)} | ${r.target === undefined ? '—' : `${r.strict ? '<' : '≤'} ${r.target}`} | ${result} |`)
  }
  return lines.join('\n')
}

/** False only for an error or a ratio beyond its target. */
export const passed = (r) => !r.error && (!r.bound || r.target === undefined || (r.strict ? r.median / r.bound < r.target : r.median / r.bound <= r.target))
