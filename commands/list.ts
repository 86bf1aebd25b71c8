import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {parseLabels, regionFlag} from '../src/cli/flags.js'
import type {KmsKey} from '../src/api/schemas.js'
import {table} from '../src/ui/table.js'

interface ListResult {
  keys: Array<KmsKey & {region: string}>
  regions: string[]
}

export default class List extends BaseCommand<ListResult> {
  static override summary = 'List keys in a region (or every KMS region)'
  static override examples = ['<%= config.bin %> list -r nl-01', '<%= config.bin %> list -r nl-01 --status disabled --label team=payments', '<%= config.bin %> list --all-regions --json']
  static override flags = {
    ...regionFlag,
    status: Flags.string({description: 'only keys in this state', options: ['active', 'disabled', 'pending_deletion']}),
    label: Flags.string({description: 'only keys with this label KEY=VALUE (repeatable; all must match)', multiple: true}),
    'all-regions': Flags.boolean({description: 'every region where KMS is available (from the summary)', exclusive: ['region']}),
  }

  protected async execute(): Promise<Outcome<ListResult>> {
    const f = this.flagsOf as {status?: string; label?: string[]; 'all-regions'?: boolean}
    const labels = parseLabels(f.label)
    const api = await this.api()
    const regions = f['all-regions'] ? (await api.kms.summary()).regions.filter((r) => r.kmsAvailable).map((r) => r.slug) : [await this.region()]
    const lists = await Promise.all(regions.map(async (region) => (await api.kms.listKeys(region)).map((k) => ({...k, region}))))
    const keys = lists.flat().filter((k) => (!f.status || k.status === f.status) && Object.entries(labels).every(([lk, lv]) => k.labels?.[lk] === lv))
    return {result: {keys, regions}}
  }

  protected renderHuman({result}: Outcome<ListResult>): void {
    if (result.keys.length === 0) {
      this.log(`No keys in ${result.regions.join(', ') || 'any region'}.`)
      return
    }
    const multi = result.regions.length > 1
    this.log(table([...(multi ? ['REGION'] : []), 'IDENTITY', 'SLUG', 'NAME', 'TYPE', 'STATUS', 'VER', 'ROTATION', 'EXPORT'], result.keys.map((k) => [
      ...(multi ? [k.region] : []), k.identity, k.slug, k.name, k.keyType, k.status, k.latestVersion, k.keyRotationEnabled ? `${k.rotationPeriodInDays ?? '?'}d` : 'off', k.exportAllowed ? 'allowed' : 'no',
    ])))
  }
}
