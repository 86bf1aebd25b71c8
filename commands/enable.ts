import {Args} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {dryRunFlag, regionFlag, yesFlag} from '../src/cli/flags.js'
import type {EnableResult} from '../src/operations/enable.js'
import {renderPlanned} from '../src/ui/render.js'

export default class Enable extends BaseCommand<EnableResult> {
  static override summary = 'Enable a disabled key (crypto resumes with its latest version)'
  static override mutating = true
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name', required: true})}
  static override flags = {...regionFlag, ...dryRunFlag, ...yesFlag}
  static override examples = ['<%= config.bin %> enable legacy-data -r nl-01', '<%= config.bin %> enable legacy-data -r nl-01 --yes --json']

  protected async execute(): Promise<Outcome<EnableResult>> {
    const {enableKey} = await import('../src/operations/enable.js')
    const f = this.flagsOf
    return enableKey(await this.operationContext(), {region: await this.region(), key: f.key as string, dryRun: Boolean(f['dry-run']), yes: Boolean(f.yes)})
  }

  protected renderHuman(outcome: Outcome<EnableResult>): void {
    this.log(renderPlanned(outcome, outcome.dryRun ? `Dry run: ${outcome.result.key.slug} would be enabled.` : `Enabled ${outcome.result.key.slug} (${outcome.result.key.identity}); status ${outcome.result.key.status}.`))
  }
}
