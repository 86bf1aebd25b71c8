import {Args, Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {confirmFlag, dryRunFlag, regionFlag} from '../../src/cli/flags.js'
import type {ExportResult} from '../../src/operations/export.js'
import {renderPlanned} from '../../src/ui/render.js'
import {keyValues} from '../../src/ui/table.js'

export default class Export extends BaseCommand<ExportResult> {
  static override summary = 'Break-glass export of key material, with an approval from a second person'
  static override description = 'Needs an approved, unexpired, unused approval from `kmsguard export:request` bound to exactly this key, region, scope and version, requested by you and approved by someone else. The material is wrapped to --recipient (an RSA public key: RSA-OAEP-SHA256 for material of at most 32 bytes, else CKM_RSA_AES_KEY_WRAP) unless --plaintext is given, and goes only to a new --out file with mode 0600. Only its SHA-256 fingerprint is shown.'
  static override mutating = true
  static override args = {key: Args.string({description: 'key identity (kms-…), slug, or exact name', required: true})}
  static override flags = {
    ...regionFlag,
    approval: Flags.string({description: 'the approved access elevation (from export:request)', required: true}),
    out: Flags.string({description: 'new file for the material (created with mode 0600; never overwritten; never stdout)', required: true}),
    recipient: Flags.string({description: 'RSA public key PEM (≥ 2048 bits, SPKI or certificate) to wrap the material to (the default way)'}),
    plaintext: Flags.boolean({description: 'write the raw material instead of wrapping it (deliberate choice; the file is still 0600)'}),
    'key-version': Flags.integer({description: 'the version to export (default: the latest; must match the approval)', min: 1}),
    ...confirmFlag,
    ...dryRunFlag,
  }

  static override examples = [
    '<%= config.bin %> export payments-key -r nl-01 --approval iamae-123 --key-version 3 --recipient hsm.pub.pem --out payments.wrapped',
    '<%= config.bin %> export payments-key -r nl-01 --approval iamae-123 --plaintext --out payments.key --confirm payments-key --non-interactive',
  ]

  protected async execute(): Promise<Outcome<ExportResult>> {
    const {exportKeyMaterial} = await import('../../src/operations/export.js')
    const f = this.flagsOf
    return exportKeyMaterial(await this.operationContext(), {
      region: await this.region(), key: f.key as string, approval: f.approval as string, out: f.out as string, recipient: f.recipient as string | undefined,
      plaintext: Boolean(f.plaintext), keyVersion: f['key-version'] as number | undefined, confirm: f.confirm as string | undefined, dryRun: Boolean(f['dry-run']),
    })
  }

  protected renderHuman(outcome: Outcome<ExportResult>): void {
    const r = outcome.result
    if (outcome.dryRun) {
      this.log(renderPlanned(outcome, `Dry run: ${r.key.slug} version ${r.keyVersion} would be exported to ${r.out} with approval ${r.approval}.`))
      return
    }
    this.log(renderPlanned(outcome, `Exported ${r.key.slug} (${r.key.identity}) version ${r.keyVersion}.`))
    this.log(keyValues([['File', r.out], ['Mode', r.mode], ['Format', r.format], ['Material fingerprint', r.fingerprint], ['Approval', `${r.approval} (now used)`]]))
  }
}
