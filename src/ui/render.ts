/** Human rendering shared by the mutating commands: guard verdicts, the planned calls of a dry run, the headline. */
import type {GuardResult} from '../guards/types.js'
import type {PlannedCall} from '../operations/common.js'
import type {FleetResult} from '../operations/fleet.js'
import {useColour} from './interactive.js'
import {guardLines, table} from './table.js'

export function renderPlanned(outcome: {guards?: GuardResult[]; dryRun?: boolean; result: {planned?: PlannedCall[]}}, headline: string): string {
  const parts: string[] = []
  if (outcome.guards && outcome.guards.length > 0) parts.push(guardLines(outcome.guards, useColour()))
  if (outcome.dryRun && outcome.result.planned) {
    parts.push(outcome.result.planned.length > 0 ? `Planned API calls (none sent):\n${outcome.result.planned.map((c) => `  ${c.method} ${c.path}${c.body ? ` ${JSON.stringify(c.body)}` : ''}`).join('\n')}` : 'No API call would be sent.')
  }
  parts.push(headline)
  return parts.join('\n')
}

/** Human rendering of a fleet run (rotate or disable --label). */
export function renderFleet(outcome: {guards?: GuardResult[]; dryRun?: boolean; result: FleetResult}): string {
  const r = outcome.result
  const byKey = new Map(r.results.map((x) => [`${x.region}/${x.identity}`, x]))
  const rows = r.matched.map((m) => {
    const done = byKey.get(`${m.region}/${m.identity}`)
    return [m.region, m.slug, m.status, m.latestVersion, done?.outcome ?? (m.refusal ? 'refused' : 'planned'), done?.message ?? m.refusal]
  })
  const c = r.counts
  const headline = outcome.dryRun
    ? `Dry run: ${r.planned.length} of ${c.matched} key(s) matching ${Object.entries(r.selector).map(([k, v]) => `${k}=${v}`).join(',')} would be ${r.action}d.`
    : `${r.action}: ${c.done} done, ${c.refused} refused, ${c.failed} failed, ${c.unknown} unknown (of ${c.matched} matched).`
  return renderPlanned(outcome, `${table(['REGION', 'SLUG', 'STATUS', 'VER', 'OUTCOME', 'DETAIL'], rows)}\n${headline}`)
}
