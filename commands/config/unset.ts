import {Args} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {isSettingName, SETTINGS, writeSetting} from '../../src/config/settings.js'
import {usageError} from '../../src/cli/errors.js'

export default class ConfigUnset extends BaseCommand<{name: string}> {
  static override summary = "Remove one of kmsguard's own settings"
  static override args = {name: Args.string({description: `one of: ${Object.keys(SETTINGS).join(', ')}`, required: true})}

  protected async execute(): Promise<Outcome<{name: string}>> {
    const name = this.flagsOf.name as string
    if (!isSettingName(name)) throw usageError(`unknown setting "${name}"`, `Settings: ${Object.keys(SETTINGS).join(', ')}`)
    await writeSetting(name, undefined)
    return {result: {name}}
  }

  protected renderHuman({result}: Outcome<{name: string}>): void {
    this.log(`${result.name} unset`)
  }
}
