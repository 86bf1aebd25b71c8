import {Args} from '@oclif/core'
import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {isSettingName, readSettings, SETTINGS} from '../../src/config/settings.js'
import {usageError} from '../../src/cli/errors.js'

export default class ConfigGet extends BaseCommand<{name: string; value: string | number | null}> {
  static override summary = "Show one of kmsguard's own settings"
  static override args = {name: Args.string({description: `one of: ${Object.keys(SETTINGS).join(', ')}`, required: true})}

  protected async execute(): Promise<Outcome<{name: string; value: string | number | null}>> {
    const name = this.flagsOf.name as string
    if (!isSettingName(name)) throw usageError(`unknown setting "${name}"`, `Settings: ${Object.keys(SETTINGS).join(', ')}`)
    const value = (await readSettings())[name] ?? null
    return {result: {name, value}}
  }

  protected renderHuman({result}: Outcome<{name: string; value: string | number | null}>): void {
    this.log(result.value === null ? '(unset)' : String(result.value))
  }
}
