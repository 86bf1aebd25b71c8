import {Args} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {regionFlag} from '../src/cli/flags.js'
import type {KmsKey} from '../src/api/schemas.js'
import {keyValues, table} from '../src/ui/table.js'

export default class Get extends BaseCommand<KmsKey> {
  static override summary = 'Show one key, with its versions'
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name', required: true})}
  static override flags = {...regionFlag}
  static override examples = ['<%= config.bin %> get app-secrets -r nl-01']

  protected async execute(): Promise<Outcome<KmsKey>> {
    const {resolveKey} = await import('../src/guards/key.js')
    const region = await this.region()
    return {result: await resolveKey(await this.api(), region, this.flagsOf.key as string)}
  }

  protected renderHuman({result: k}: Outcome<KmsKey>): void {
    this.log(keyValues([
      ['Identity', k.identity], ['Name', k.name], ['Slug', k.slug], ['Description', k.description], ['Type', k.keyType], ['Status', k.status],
      ['Project', k.projectId ?? 'organisation scope'], ['Latest version', k.latestVersion],
      ['Rotation', k.keyRotationEnabled ? `every ${k.rotationPeriodInDays ?? '?'} days` : 'manual only'],
      ['Export', k.exportAllowed ? 'allowed (break-glass, two-person)' : 'not allowed'], ['Imported', k.imported ? 'yes (BYOK)' : undefined],
      ['Labels', k.labels && Object.keys(k.labels).length > 0 ? Object.entries(k.labels).map(([a, b]) => `${a}=${b}`).join(', ') : undefined],
      ['Deletion at', k.deletionScheduledAt], ['Created', k.createdAt],
    ]))
    if (k.versions && k.versions.length > 0) {
      this.log('')
      this.log(table(['VERSION', 'STATUS', 'CREATED'], k.versions.map((v) => [v.version, v.status, v.createdAt])))
    }
  }
}
