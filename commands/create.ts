import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {dryRunFlag, parseLabels, regionFlag, yesFlag} from '../src/cli/flags.js'
import type {CreateResult} from '../src/operations/create.js'
import {renderPlanned} from '../src/ui/render.js'

export default class Create extends BaseCommand<CreateResult> {
  static override summary = 'Create a key, under kmsguard\'s policy (automatic rotation for symmetric keys, export only as a recorded break-glass choice)'
  static override description = `Policy: symmetric keys rotate automatically (every --rotation-period days; default from \`kmsguard config set rotationPeriodDays\`, else 90); --no-rotation needs --reason. Asymmetric and HMAC keys may rotate automatically too (the API allows it), but only on request. --allow-export is break-glass: exportAllowed can be chosen only now and never changed afterwards, so it needs --reason and an extra confirmation. A key without a purpose label gets a warning.
Key types: aes128-gcm96, aes256-gcm96 (recommended), chacha20-poly1305, rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519, hmac, hmac-sha256, hmac-sha512.`
  static override mutating = true
  static override flags = {
    ...regionFlag, ...dryRunFlag, ...yesFlag,
    name: Flags.string({description: 'key name, 1–255 characters (immutable; the slug is derived from it)'}),
    type: Flags.string({description: 'key type, e.g. aes256-gcm96 (immutable; see the list above)'}),
    description: Flags.string({description: 'free text, at most 1024 characters (immutable)'}),
    label: Flags.string({description: 'label KEY=VALUE (repeatable; immutable). Add purpose=… to say what the key is for', multiple: true}),
    'rotation-period': Flags.string({description: 'automatic rotation every DAYS days (1–3650)', helpValue: 'DAYS', exclusive: ['no-rotation']}),
    'no-rotation': Flags.boolean({description: 'no automatic rotation (for a symmetric key an override: needs --reason)', exclusive: ['rotation-period']}),
    'allow-export': Flags.boolean({description: 'break-glass: allow exporting the key material (permanent; needs --reason and an extra confirmation)'}),
    reason: Flags.string({description: 'why --allow-export or --no-rotation is used (recorded in the journal)'}),
  }
  static override examples = [
    '<%= config.bin %> create -r nl-01 --name app-secrets --type aes256-gcm96 --label purpose=secrets-manager --label team=payments',
    '<%= config.bin %> create -r nl-01 --name zone-signing --type ecdsa-p256 --label purpose=dnssec --yes',
    '<%= config.bin %> create -r nl-01 --name escrowed --type aes256-gcm96 --allow-export --reason "escrow for DR, CHG-1234" --yes',
  ]

  protected async execute(): Promise<Outcome<CreateResult>> {
    const f = this.flagsOf as {name?: string; type?: string; description?: string; label?: string[]; 'rotation-period'?: string; 'no-rotation'?: boolean; 'allow-export'?: boolean; reason?: string; yes?: boolean; 'dry-run'?: boolean}
    const labels = parseLabels(f.label)
    const {createKey} = await import('../src/operations/create.js')
    return createKey(await this.operationContext(), {
      region: await this.region(), name: f.name, keyType: f.type, description: f.description, labels, rotationPeriod: f['rotation-period'],
      noRotation: f['no-rotation'], allowExport: f['allow-export'], reason: f.reason, yes: f.yes, dryRun: Boolean(f['dry-run']),
    })
  }

  protected renderHuman(outcome: Outcome<CreateResult>): void {
    const {key, request, slug} = outcome.result
    const rotation = request.keyRotationEnabled ? `rotates every ${request.rotationPeriodInDays} days` : 'no automatic rotation'
    const exportable = request.exportAllowed ? 'export allowed (break-glass)' : 'export not allowed'
    const headline = outcome.dryRun || !key
      ? `Dry run: ${request.keyType} key "${request.name}" (slug ${slug}) would be created; ${rotation}; ${exportable}.`
      : `Created ${key.slug} (${key.identity}): ${key.keyType}, ${key.status}, version ${key.latestVersion ?? '?'}; ${rotation}; ${exportable}.`
    this.log(renderPlanned(outcome, headline))
  }
}
