import {Args, Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {confirmFlag, dryRunFlag, yesFlag} from '../src/cli/flags.js'
import type {ApproveResult} from '../src/operations/approve.js'
import {renderPlanned} from '../src/ui/render.js'
import {keyValues} from '../src/ui/table.js'

export default class Approve extends BaseCommand<ApproveResult> {
  static override summary = 'Review a key-export request as the second person: approve it, or --reject it'
  static override description = 'Shows what the request would allow (key, region, version, scope, requester, reason, expiry) and refuses (exit 5) requests that are not intact kmsguard export bindings, are your own, are no longer pending, or have expired. Use --dry-run to read a request without deciding.'
  static override mutating = true
  static override args = {elevation: Args.string({description: 'the access elevation identity printed by export:request', required: true})}
  static override flags = {
    reject: Flags.boolean({description: 'reject the request instead of approving it'}),
    note: Flags.string({description: 'review note stored with the decision (the requester sees it)'}),
    ...yesFlag,
    ...confirmFlag,
    ...dryRunFlag,
  }

  static override examples = [
    '<%= config.bin %> approve iamae-123 --dry-run',
    '<%= config.bin %> approve iamae-123 --note "CHG-1234 verified"',
    '<%= config.bin %> approve iamae-123 --reject --note "no change ticket" --yes',
  ]

  protected async execute(): Promise<Outcome<ApproveResult>> {
    const {reviewExport} = await import('../src/operations/approve.js')
    const f = this.flagsOf
    return reviewExport(await this.operationContext(), {
      elevation: f.elevation as string, action: f.reject ? 'reject' : 'approve', note: f.note as string | undefined,
      yes: Boolean(f.yes), confirm: f.confirm as string | undefined, dryRun: Boolean(f['dry-run']),
    })
  }

  protected renderHuman(outcome: Outcome<ApproveResult>): void {
    const r = outcome.result
    const b = r.binding
    const key = r.key ? [r.key.slug, r.key.name && r.key.name !== r.key.slug ? `"${r.key.name}"` : undefined, `(${r.key.identity}${r.key.keyType ? `, ${r.key.keyType}` : ''})`].filter(Boolean).join(' ') : undefined
    const requester = r.requester ? [r.requester.name, r.requester.email ? `<${r.requester.email}>` : undefined, r.requester.subject ? `[${r.requester.subject}]` : undefined].filter(Boolean).join(' ') : undefined
    const verb = r.action === 'approve' ? 'approve' : 'reject'
    const headline = outcome.dryRun ? `Dry run: nothing decided. To ${verb}, run again without --dry-run.` : `${r.action === 'approve' ? 'Approved' : 'Rejected'} ${r.elevation}; status ${r.status}.`
    this.log(renderPlanned(outcome, headline))
    this.log(keyValues([
      ['Export of key', key], ['Key version', b?.keyVersion], ['Region', b?.region], ['Scope', b ? `${b.scope} ${b.project}` : undefined], ['IAM policy', b?.policy],
      ['Requested by', requester], ['Reason', r.reason], ['Valid until', r.expiresAt], ['Review note', r.reviewNote],
    ]))
  }
}
