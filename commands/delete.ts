import {Args, Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {concurrencyFlag, confirmFlag, dryRunFlag, regionFlag} from '../src/cli/flags.js'
import type {DeleteResult} from '../src/operations/delete.js'
import {describeUnread} from '../src/guards/references.js'
import {renderPlanned} from '../src/ui/render.js'

export default class Delete extends BaseCommand<DeleteResult> {
  static override summary = 'Schedule a key\'s deletion (30-day window), after the reference scan proves nothing uses it'
  static override description = 'Guards: the key must be disabled first (or --allow-active --reason), and no secret or DNSSEC zone may use it; a scan that cannot read everything refuses too (exit 4) unless --accept-incomplete-scan --reason. Needs a typed confirmation (--confirm SLUG when non-interactive).'
  static override mutating = true
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name', required: true})}
  static override flags = {
    ...regionFlag, ...dryRunFlag, ...confirmFlag, ...concurrencyFlag,
    'allow-active': Flags.boolean({description: 'override: delete a key that is still active (needs --reason)'}),
    'accept-incomplete-scan': Flags.boolean({description: 'override: delete although parts of the reference scan could not be read (needs --reason; never overrides references found)'}),
    reason: Flags.string({description: 'why an override is used (recorded in the journal)'}),
  }
  static override examples = [
    '<%= config.bin %> delete legacy-data -r nl-01 --dry-run',
    '<%= config.bin %> delete legacy-data -r nl-01 --confirm legacy-data',
    '<%= config.bin %> delete legacy-data -r nl-01 --confirm legacy-data --accept-incomplete-scan --reason "DNS API outage, CHG-1234"',
  ]

  protected async execute(): Promise<Outcome<DeleteResult>> {
    const {deleteKey} = await import('../src/operations/delete.js')
    const f = this.flagsOf
    return deleteKey(await this.operationContext(), {
      region: await this.region(), key: f.key as string, dryRun: Boolean(f['dry-run']), confirm: f.confirm as string | undefined,
      allowActive: Boolean(f['allow-active']), acceptIncompleteScan: Boolean(f['accept-incomplete-scan']), reason: f.reason as string | undefined,
    })
  }

  protected renderHuman(outcome: Outcome<DeleteResult>): void {
    const r = outcome.result
    const lines: string[] = []
    if (outcome.dryRun) {
      lines.push(`Dry run: ${r.key.slug} (${r.key.identity}) would be scheduled for deletion (30-day window).`)
    } else {
      lines.push(`Deletion of ${r.key.slug} (${r.key.identity}) scheduled for ${r.deletionScheduledAt}${r.deletionScheduledAtSource === 'estimated' ? ' (estimated: now + 30 days; the API did not say)' : ''}.`)
      lines.push(`To undo before then: ${r.cancelCommand}`)
    }
    for (const o of r.overrides) lines.push(`Override used: ${o.flag} (reason: ${o.reason})`)
    for (const u of r.scan.unread.slice(0, 20)) lines.push(`Not read by the reference scan: ${describeUnread(u)}`)
    if (r.scan.unread.length > 20) lines.push(`… and ${r.scan.unread.length - 20} more not read (see --json)`)
    this.log(renderPlanned(outcome, lines.join('\n')))
  }
}
