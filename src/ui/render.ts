/** Human rendering shared by the mutating commands: guard verdicts, the planned calls of a dry run, the headline. */
import type {GuardResult} from '../guards/types.js'
import type {PlannedCall} from '../operations/common.js'
import {useColour} from './interactive.js'
import {guardLines} from './table.js'

export function renderPlanned(outcome: {guards?: GuardResult[]; dryRun?: boolean; result: {planned?: PlannedCall[]}}, headline: string): string {
  const parts: string[] = []
  if (outcome.guards && outcome.guards.length > 0) parts.push(guardLines(outcome.guards, useColour()))
  if (outcome.dryRun && outcome.result.planned) {
    parts.push(outcome.result.planned.length > 0 ? `Planned API calls (none sent):\n${outcome.result.planned.map((c) => `  ${c.method} ${c.path}${c.body ? ` ${JSON.stringify(c.body)}` : ''}`).join('\n')}` : 'No API call would be sent.')
  }
  parts.push(headline)
  return parts.join('\n')
}
