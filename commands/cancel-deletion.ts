import {Args} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {dryRunFlag, regionFlag, yesFlag} from '../src/cli/flags.js'
import type {CancelDeletionResult} from '../src/operations/cancel-deletion.js'
import {renderPlanned} from '../src/ui/render.js'

export default class CancelDeletion extends BaseCommand<CancelDeletionResult> {
  static override summary = 'Cancel a scheduled deletion (the key leaves pending_deletion)'
  static override mutating = true
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name', required: true})}
  static override flags = {...regionFlag, ...dryRunFlag, ...yesFlag}
  static override examples = ['<%= config.bin %> cancel-deletion legacy-data -r nl-01', '<%= config.bin %> cancel-deletion legacy-data -r nl-01 --yes --json']

  protected async execute(): Promise<Outcome<CancelDeletionResult>> {
    const {cancelDeletion} = await import('../src/operations/cancel-deletion.js')
    const f = this.flagsOf
    return cancelDeletion(await this.operationContext(), {region: await this.region(), key: f.key as string, dryRun: Boolean(f['dry-run']), yes: Boolean(f.yes)})
  }

  protected renderHuman(outcome: Outcome<CancelDeletionResult>): void {
    const k = outcome.result.key
    const headline = outcome.dryRun
      ? `Dry run: the deletion of ${k.slug} would be cancelled.`
      : `Cancelled the deletion of ${k.slug} (${k.identity}); ${outcome.result.verified ? `status now ${k.status}` : 'status not re-read'}.`
    this.log(renderPlanned(outcome, headline))
  }
}
