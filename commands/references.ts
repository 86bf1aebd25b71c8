import {Args} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {concurrencyFlag, regionFlag} from '../src/cli/flags.js'
import {describeScanned, type ScanReport} from '../src/guards/references.js'
import {guardLines, table} from '../src/ui/table.js'
import {useColour} from '../src/ui/interactive.js'

export default class References extends BaseCommand<ScanReport> {
  static override summary = 'Scan what depends on a key: Secrets Manager secrets and DNSSEC zones, in the organisation and every project'
  static override description = 'Read-only. Exit 0 when the scan is complete (also when references are found); exit 4 (SCAN_INCOMPLETE) when something could not be read, listing exactly what.'
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name', required: true})}
  static override flags = {...regionFlag, ...concurrencyFlag}
  static override examples = ['<%= config.bin %> references app-secrets -r nl-01', '<%= config.bin %> references app-secrets -r nl-01 --concurrency 32 --json']

  protected async execute(): Promise<Outcome<ScanReport>> {
    const {referencesReport} = await import('../src/operations/references.js')
    return referencesReport(await this.operationContext(), {region: await this.region(), key: this.flagsOf.key as string})
  }

  protected renderHuman(outcome: Outcome<ScanReport>): void {
    const r = outcome.result
    if (outcome.guards && outcome.guards.length > 0) this.log(guardLines(outcome.guards, useColour()))
    this.log('')
    if (r.references.length === 0) {
      this.log(`Nothing in ${r.region} uses ${r.key.slug} (${r.key.identity}).`)
    } else {
      this.log(`${r.references.length} reference(s) to ${r.key.slug} (${r.key.identity}):`)
      this.log(table(['TYPE', 'WHAT', 'IDENTITY', 'REGION', 'PROJECT'], r.references.map((ref) => ref.type === 'secret'
        ? ['secret', ref.path, undefined, ref.region, ref.project ?? 'organisation']
        : ['dnssec-zone', ref.zone, ref.identity, ref.region, ref.project ?? 'organisation'])))
    }
    this.log('')
    this.log(`Scanned ${describeScanned(r.scanned)} in ${r.durationMs} ms.`)
  }
}
