import {BaseCommand, type Outcome} from '../src/cli/base.js'
import type {KmsSummary} from '../src/api/schemas.js'
import {table} from '../src/ui/table.js'

export default class Summary extends BaseCommand<KmsSummary> {
  static override summary = 'KMS feature status and per-region availability and key counts'
  static override examples = ['<%= config.bin %> summary', '<%= config.bin %> summary --json']

  protected async execute(): Promise<Outcome<KmsSummary>> {
    const api = await this.api()
    return {result: await api.kms.summary()}
  }

  protected renderHuman({result}: Outcome<KmsSummary>): void {
    this.log(`KMS feature: ${result.featureEnabled ? 'enabled' : 'NOT enabled for this organisation'}`)
    if (result.regions.length === 0) return
    this.log('')
    this.log(table(['REGION', 'KMS', 'KEYS', 'ACTIVE', 'DISABLED', 'PENDING DELETION'], result.regions.map((r) => [r.slug, r.kmsAvailable ? 'available' : 'unavailable', r.totalKeys, r.activeKeys, r.disabledKeys, r.pendingDeletionKeys])))
  }
}
