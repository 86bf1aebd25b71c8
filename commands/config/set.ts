import {Args} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {isSettingName, parseSetting, SETTINGS, writeSetting} from '../../src/config/settings.js'
import {usageError} from '../../src/cli/errors.js'

interface SetResult {
  name: string
  value: string | number
  file: string
}

export default class ConfigSet extends BaseCommand<SetResult> {
  static override summary = "Set one of kmsguard's own settings (never a secret: tokens stay in the environment or tcloud)"
  static override args = {
    name: Args.string({description: `one of: ${Object.keys(SETTINGS).join(', ')}`, required: true}),
    value: Args.string({description: 'the value', required: true}),
  }
  static override examples = ['<%= config.bin %> config set region nl-01', '<%= config.bin %> config set exportPolicy kms-export']

  protected async execute(): Promise<Outcome<SetResult>> {
    const name = this.flagsOf.name as string
    if (!isSettingName(name)) throw usageError(`unknown setting "${name}"`, `Settings: ${Object.keys(SETTINGS).join(', ')}`)
    const value = parseSetting(name, this.flagsOf.value as string)
    const file = await writeSetting(name, value)
    return {result: {name, value, file}}
  }

  protected renderHuman({result}: Outcome<SetResult>): void {
    this.log(`${result.name} = ${result.value}  (${result.file})`)
  }
}
