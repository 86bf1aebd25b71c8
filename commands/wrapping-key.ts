import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {regionFlag} from '../src/cli/flags.js'

interface WrappingKeyResult {
  region: string
  algorithm: string | null
  publicKey: string
  fingerprint: string
  out?: string
}

export default class WrappingKey extends BaseCommand<WrappingKeyResult> {
  static override summary = "The region's BYOK wrapping public key (PEM) and the wrapping algorithm it announces"
  static override flags = {...regionFlag, out: Flags.string({description: 'write the PEM to this new file (refuses to overwrite)'})}
  static override examples = ['<%= config.bin %> wrapping-key -r nl-01 --out wrapping.pem']

  protected async execute(): Promise<Outcome<WrappingKeyResult>> {
    const region = await this.region()
    const wk = await (await this.api()).kms.wrappingKey(region)
    const {fingerprint} = await import('../src/crypto/fingerprint.js')
    const out = this.flagsOf.out as string | undefined
    if (out) {
      const {writePublicFile} = await import('../src/crypto/files.js')
      await writePublicFile(out, Buffer.from(wk.publicKey.endsWith('\n') ? wk.publicKey : `${wk.publicKey}\n`))
    }
    return {result: {region, algorithm: wk.algorithm ?? null, publicKey: wk.publicKey, fingerprint: fingerprint(Buffer.from(wk.publicKey)), out}}
  }

  protected renderHuman({result: r}: Outcome<WrappingKeyResult>): void {
    this.log(`Region:      ${r.region}`)
    this.log(`Algorithm:   ${r.algorithm ?? '(not announced: kmsguard import will refuse to guess)'}`)
    this.log(`Fingerprint: ${r.fingerprint}`)
    if (r.out) this.log(`Written to:  ${r.out}`)
    else this.log(`\n${r.publicKey.trimEnd()}`)
  }
}
