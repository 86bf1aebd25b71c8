import {Args, Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {concurrencyFlag, dryRunFlag, given, parseLabels, regionFlag, yesFlag} from '../src/cli/flags.js'
import type {FleetResult} from '../src/operations/fleet.js'
import type {RotateResult, ScheduleResult} from '../src/operations/rotate.js'
import {renderFleet, renderPlanned} from '../src/ui/render.js'

type RotateCommandResult = RotateResult | ScheduleResult | FleetResult

export default class Rotate extends BaseCommand<RotateCommandResult> {
  static override summary = 'Rotate a key now, change its automatic rotation, or rotate every key with some labels'
  static override description = `Rotate now: a new key version becomes the latest; old versions still decrypt and verify. Each rotation adds a billable key version and is never retried: when an answer is lost, kmsguard reads the key again to tell whether it happened.
--schedule DAYS / --no-schedule change automatic rotation instead (turning it off on a symmetric key needs --reason).
Fleet: --label k=v (repeatable, all must match) instead of KEY rotates every matching key after one confirmation of the count (--confirm-count N when non-interactive).`
  static override mutating = true
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name (omit with --label)', required: false})}
  static override flags = {
    ...regionFlag, ...dryRunFlag, ...yesFlag, ...concurrencyFlag,
    schedule: Flags.string({description: 'instead of rotating now: rotate automatically every DAYS days (1–3650)', helpValue: 'DAYS', exclusive: ['no-schedule']}),
    'no-schedule': Flags.boolean({description: 'instead of rotating now: turn automatic rotation off (symmetric keys: needs --reason)', exclusive: ['schedule']}),
    reason: Flags.string({description: 'why (recorded in the journal); required with --no-schedule on a symmetric key'}),
    label: Flags.string({description: 'fleet: rotate every key with this label KEY=VALUE (repeatable; all must match)', multiple: true}),
    'all-regions': Flags.boolean({description: 'fleet: every region where KMS is available', exclusive: ['region']}),
    'confirm-count': Flags.integer({description: 'fleet: the number of matched keys, as confirmation (required when non-interactive)', min: 0}),
  }
  static override examples = [
    '<%= config.bin %> rotate app-secrets -r nl-01',
    '<%= config.bin %> rotate app-secrets -r nl-01 --schedule 90 --yes',
    '<%= config.bin %> rotate app-secrets -r nl-01 --no-schedule --reason "frozen during migration, CHG-1234" --yes',
    '<%= config.bin %> rotate --label team=payments -r nl-01 --dry-run',
    '<%= config.bin %> rotate --label team=payments --all-regions --confirm-count 12',
  ]

  protected async execute(): Promise<Outcome<RotateCommandResult>> {
    const f = this.flagsOf as {key?: string; label?: string[]; schedule?: string; 'no-schedule'?: boolean; reason?: string; yes?: boolean; 'dry-run'?: boolean; 'all-regions'?: boolean; 'confirm-count'?: number}
    const {selectTarget} = await import('../src/operations/fleet.js')
    const labels = parseLabels(f.label)
    const mode = selectTarget({key: f.key, labels, fleetOnly: given(f, ['all-regions', 'confirm-count']), keyOnly: given(f, ['schedule', 'no-schedule'])})
    const {rotateFleet, rotateKey, updateRotationSchedule} = await import('../src/operations/rotate.js')
    const dryRun = Boolean(f['dry-run'])
    if (mode === 'fleet') {
      const region = f['all-regions'] ? undefined : await this.region()
      return rotateFleet(await this.operationContext(), {region, allRegions: f['all-regions'], labels, confirmCount: f['confirm-count'], reason: f.reason, dryRun})
    }
    const common = {region: await this.region(), key: f.key!, dryRun, yes: f.yes, reason: f.reason}
    if (f.schedule !== undefined || f['no-schedule']) return updateRotationSchedule(await this.operationContext(), {...common, schedule: f['no-schedule'] ? false : f.schedule!})
    return rotateKey(await this.operationContext(), common)
  }

  protected renderHuman(outcome: Outcome<RotateCommandResult>): void {
    const r = outcome.result
    if ('results' in r) return this.log(renderFleet({...outcome, result: r}))
    if ('changed' in r) {
      const to = r.after.keyRotationEnabled ? `every ${r.after.rotationPeriodInDays} days` : 'off'
      const from = r.before.keyRotationEnabled ? `every ${r.before.rotationPeriodInDays} days` : 'off'
      const headline = !r.changed ? `Automatic rotation of ${r.key.slug} is already ${to}; nothing sent.` : outcome.dryRun ? `Dry run: automatic rotation of ${r.key.slug} would change from ${from} to ${to}.` : `Automatic rotation of ${r.key.slug} (${r.key.identity}): ${to} (was ${from}).`
      return this.log(renderPlanned(outcome, `${headline}\nNote: ${r.note}.`))
    }
    const headline = outcome.dryRun
      ? `Dry run: ${r.key.slug} would be rotated from version ${r.previousVersion ?? '?'} to ${r.previousVersion === undefined ? 'a new version' : r.previousVersion + 1}.`
      : `Rotated ${r.key.slug} (${r.key.identity}): version ${r.previousVersion ?? '?'} → ${r.latestVersion ?? '?'}.`
    this.log(renderPlanned(outcome, `${headline}\nNote: ${r.billingNote}.`))
  }
}
