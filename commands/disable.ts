import {Args, Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {concurrencyFlag, confirmFlag, dryRunFlag, given, parseLabels, regionFlag} from '../src/cli/flags.js'
import type {DisableResult} from '../src/operations/disable.js'
import type {FleetResult} from '../src/operations/fleet.js'
import {renderFleet, renderPlanned} from '../src/ui/render.js'

type DisableCommandResult = DisableResult | FleetResult

export default class Disable extends BaseCommand<DisableCommandResult> {
  static override summary = 'Disable a key now (suspends all crypto on it; `enable` undoes it) — the incident fast path'
  static override description = `Shows what depends on the key (the reference scan, at most 10 s) but never lets that block: references, an incomplete or a failed scan are warnings. Needs --reason (journaled) and a typed confirmation (--confirm SLUG when non-interactive).
Fleet: --label k=v (repeatable, all must match) instead of KEY disables every matching key after one confirmation of the count (--confirm-count N when non-interactive); the reference scan is skipped per key (run \`kmsguard references\` for each).`
  static override mutating = true
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name (omit with --label)', required: false})}
  static override flags = {
    ...regionFlag, ...dryRunFlag, ...confirmFlag, ...concurrencyFlag,
    reason: Flags.string({description: 'why the key is disabled (required; recorded in the journal)'}),
    label: Flags.string({description: 'fleet: disable every key with this label KEY=VALUE (repeatable; all must match)', multiple: true}),
    'all-regions': Flags.boolean({description: 'fleet: every region where KMS is available', exclusive: ['region']}),
    'confirm-count': Flags.integer({description: 'fleet: the number of matched keys, as confirmation (required when non-interactive)', min: 0}),
  }
  static override examples = [
    '<%= config.bin %> disable app-secrets -r nl-01 --reason "suspected leak, INC-4711"',
    '<%= config.bin %> disable app-secrets -r nl-01 --reason "suspected leak, INC-4711" --confirm app-secrets --json',
    '<%= config.bin %> disable --label team=payments -r nl-01 --reason "INC-4711" --confirm-count 4',
  ]

  protected async execute(): Promise<Outcome<DisableCommandResult>> {
    const f = this.flagsOf as {key?: string; label?: string[]; reason?: string; confirm?: string; 'dry-run'?: boolean; 'all-regions'?: boolean; 'confirm-count'?: number}
    const {selectTarget} = await import('../src/operations/fleet.js')
    const labels = parseLabels(f.label)
    const mode = selectTarget({key: f.key, labels, fleetOnly: given(f, ['all-regions', 'confirm-count']), keyOnly: given(f, ['confirm'])})
    const {disableFleet, disableKey} = await import('../src/operations/disable.js')
    const dryRun = Boolean(f['dry-run'])
    if (mode === 'fleet') {
      const region = f['all-regions'] ? undefined : await this.region()
      return disableFleet(await this.operationContext(), {region, allRegions: f['all-regions'], labels, confirmCount: f['confirm-count'], reason: f.reason, dryRun})
    }
    return disableKey(await this.operationContext(), {region: await this.region(), key: f.key!, reason: f.reason, confirm: f.confirm, dryRun})
  }

  protected renderHuman(outcome: Outcome<DisableCommandResult>): void {
    const r = outcome.result
    if ('results' in r) return this.log(renderFleet({...outcome, result: r}))
    const headline = outcome.dryRun
      ? `Dry run: ${r.key.slug} (${r.key.identity}) would be disabled.`
      : `Disabled ${r.key.slug} (${r.key.identity}): all crypto on it is suspended. Undo with: kmsguard enable ${r.key.slug} -r ${r.region}`
    this.log(renderPlanned(outcome, headline))
  }
}
