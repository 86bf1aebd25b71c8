import {Args, Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {regionFlag} from '../src/cli/flags.js'
import {usageError} from '../src/cli/errors.js'

interface PublicKeyResult {
  key: {identity: string; slug: string; keyType: string}
  region: string
  keys: Record<string, string>
  out?: string
}

export default class PublicKey extends BaseCommand<PublicKeyResult> {
  static override summary = 'Public key of an asymmetric key (public material: no approval needed)'
  static override args = {key: Args.string({description: 'key identity, slug or exact name', required: true})}
  static override flags = {
    ...regionFlag,
    'key-version': Flags.integer({description: 'one version (default: all versions the API returns)', min: 1}),
    out: Flags.string({description: 'write the public key to this new file (needs one version; refuses to overwrite)'}),
  }

  protected async execute(): Promise<Outcome<PublicKeyResult>> {
    const {resolveKey} = await import('../src/guards/key.js')
    const region = await this.region()
    const api = await this.api()
    const key = await resolveKey(api, region, this.flagsOf.key as string)
    const {findKeyType} = await import('../src/crypto/material.js')
    const info = findKeyType(key.keyType)
    if (info && !info.asymmetric) throw usageError(`${key.slug} is a ${key.keyType} key: only asymmetric keys (RSA, ECDSA, Ed25519) have a public key`)
    const version = this.flagsOf['key-version'] as number | undefined
    const {keys} = await api.kms.publicKeys(region, key.identity, version)
    const out = this.flagsOf.out as string | undefined
    if (out) {
      const entries = Object.values(keys)
      if (entries.length !== 1) throw usageError(`--out writes one public key but the API returned ${entries.length}; add --key-version N`)
      const {writePublicFile} = await import('../src/crypto/files.js')
      await writePublicFile(out, Buffer.from(entries[0].endsWith('\n') ? entries[0] : `${entries[0]}\n`))
    }
    return {result: {key: {identity: key.identity, slug: key.slug, keyType: key.keyType}, region, keys, out}}
  }

  protected renderHuman({result: r}: Outcome<PublicKeyResult>): void {
    if (r.out) {
      this.log(`Public key of ${r.key.slug} written to ${r.out}`)
      return
    }
    for (const [version, pem] of Object.entries(r.keys)) {
      this.log(`# ${r.key.slug} (${r.key.keyType}) version ${version}`)
      this.log(pem.trimEnd())
    }
  }
}
