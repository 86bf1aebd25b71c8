import {Args, Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {dryRunFlag, regionFlag, yesFlag} from '../../src/cli/flags.js'
import type {ExportRequestResult} from '../../src/operations/export-request.js'
import {renderPlanned} from '../../src/ui/render.js'

export default class ExportRequest extends BaseCommand<ExportRequestResult> {
  static override summary = 'Ask a second person to approve exporting a key (an IAM access elevation bound to this one export)'
  static override description = 'Creates an access elevation request for the export IAM policy whose labels and annotations bind it to this key, region, scope, key version and requester. An approver reviews it with `kmsguard approve`; you then run `kmsguard export` once.'
  static override mutating = true
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name', required: true})}
  static override flags = {
    ...regionFlag,
    policy: Flags.string({description: 'IAM policy (identity or slug) that grants KMS export (default: `kmsguard config set exportPolicy …`)'}),
    reason: Flags.string({description: 'why the material must leave KMS (the approver sees it; the audit log keeps it)'}),
    duration: Flags.string({description: 'how long the approval lasts: 30m, 1h, 2h, 1h30m … at most 24h (default 1h)'}),
    'key-version': Flags.integer({description: 'the version to export (default: the latest)', min: 1}),
    ...yesFlag,
    ...dryRunFlag,
  }

  static override examples = [
    '<%= config.bin %> export:request payments-key -r nl-01 --reason "HSM migration CHG-1234"',
    '<%= config.bin %> export:request payments-key -r nl-01 --policy kms-export --duration 2h --key-version 3 --reason "escrow" --yes --json',
  ]

  protected async execute(): Promise<Outcome<ExportRequestResult>> {
    const {requestExport} = await import('../../src/operations/export-request.js')
    const f = this.flagsOf
    return requestExport(await this.operationContext(), {
      region: await this.region(), key: f.key as string, policy: f.policy as string | undefined, reason: f.reason as string | undefined,
      duration: f.duration as string | undefined, keyVersion: f['key-version'] as number | undefined, yes: Boolean(f.yes), dryRun: Boolean(f['dry-run']),
    })
  }

  protected renderHuman(outcome: Outcome<ExportRequestResult>): void {
    const r = outcome.result
    const what = `${r.key.slug} (${r.key.identity}) version ${r.keyVersion} in ${r.region}, policy ${r.policy}, for ${r.duration}`
    if (outcome.dryRun || !r.elevation) {
      this.log(renderPlanned(outcome, `Dry run: would request approval to export ${what}.`))
      return
    }
    this.log(renderPlanned(outcome, `Requested approval ${r.elevation.identity} (${r.elevation.status}) to export ${what}.`))
    this.log(`Binding digest: ${r.annotations['kmsguard-binding-digest']}`)
    this.log('')
    this.log('Next steps:')
    this.log('  1. A second person (an approver, not you) runs:')
    this.log(`       ${r.approveCommand}`)
    this.log('  2. Once it is approved, you run (once; the approval is single use):')
    this.log(`       ${r.exportCommand}`)
  }
}
