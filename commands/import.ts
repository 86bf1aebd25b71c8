import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {dryRunFlag, parseLabels, regionFlag, yesFlag} from '../src/cli/flags.js'
import type {ImportResult} from '../src/operations/import.js'
import {renderPlanned} from '../src/ui/render.js'
import {keyValues} from '../src/ui/table.js'

export default class Import extends BaseCommand<ImportResult> {
  static override summary = 'Bring your own key (BYOK): import key material, wrapped for the region'
  static override description = 'With --material FILE kmsguard reads the raw material (32 raw bytes for symmetric keys, an unencrypted PKCS#8 private key for asymmetric ones; the file must be private to you), checks it against --type, wraps it under the region\'s wrapping key with the algorithm the region announces (it refuses unknown algorithms rather than guess) and wipes it from memory. With --wrapped-material FILE (binary or base64) the blob is sent as is. HMAC keys cannot be imported.'
  static override mutating = true
  static override flags = {
    ...regionFlag,
    name: Flags.string({description: 'name of the new key (immutable)', required: true}),
    type: Flags.string({description: 'key type, e.g. aes256-gcm96, rsa-3072, ecdsa-p256, ed25519 (not HMAC)', required: true}),
    material: Flags.string({description: 'file with the raw key material (never pass material on the command line)', exclusive: ['wrapped-material']}),
    'wrapped-material': Flags.string({description: 'file with material already wrapped for this region (binary or base64)', exclusive: ['material']}),
    'hash-function': Flags.string({description: 'hash function of the wrapping, sent with --wrapped-material (default sha256)'}),
    'allow-rotation': Flags.boolean({description: 'allow rotating the imported key later. Only settable now: without it the imported key can never be rotated, manually or automatically'}),
    label: Flags.string({description: 'label KEY=VALUE (repeatable; immutable)', multiple: true}),
    description: Flags.string({description: 'description (immutable)'}),
    'force-perms': Flags.boolean({description: 'read --material even if group or others can read the file'}),
    ...yesFlag,
    ...dryRunFlag,
  }

  static override examples = [
    '<%= config.bin %> import -r nl-01 --name legacy-aes --type aes256-gcm96 --material ./aes.key --allow-rotation',
    '<%= config.bin %> import -r nl-01 --name hsm-rsa --type rsa-3072 --wrapped-material ./rsa.wrapped.b64 --yes --json',
  ]

  protected async execute(): Promise<Outcome<ImportResult>> {
    const f = this.flagsOf
    const labels = parseLabels(f.label as string[] | undefined)
    const {importKey} = await import('../src/operations/import.js')
    return importKey(await this.operationContext(), {
      region: await this.region(), name: f.name as string, type: f.type as string, material: f.material as string | undefined,
      wrappedMaterial: f['wrapped-material'] as string | undefined, hashFunction: f['hash-function'] as string | undefined, allowRotation: Boolean(f['allow-rotation']),
      labels, description: f.description as string | undefined, forcePerms: Boolean(f['force-perms']), yes: Boolean(f.yes), dryRun: Boolean(f['dry-run']),
    })
  }

  protected renderHuman(outcome: Outcome<ImportResult>): void {
    const r = outcome.result
    const headline = outcome.dryRun || !r.key ? `Dry run: ${r.keyType} key "${r.name}" would be imported into ${r.region}.` : `Imported ${r.keyType} key ${r.key.slug} (${r.key.identity}) into ${r.region}.`
    this.log(renderPlanned(outcome, headline))
    this.log(keyValues([
      ['Material', r.materialDescription], ['Material fingerprint', r.fingerprint],
      ['Wrapping', r.wrapping.algorithm ? `${r.wrapping.algorithm} (${r.wrapping.scheme})` : r.wrapping.scheme], ['Hash function', r.hashFunction],
      ['Rotation', r.allowRotation ? 'allowed' : 'never (imported without --allow-rotation)'],
    ]))
  }
}
