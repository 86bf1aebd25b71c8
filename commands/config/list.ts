import {BaseCommand, type Outcome} from '../../src/cli/base.js'
import {SETTINGS, readSettings, settingsDir} from '../../src/config/settings.js'
import {table} from '../../src/ui/table.js'

interface ConfigList {
  file: string
  settings: Array<{name: string; value: string | number | null; description: string}>
}

export default class ConfigList_ extends BaseCommand<ConfigList> {
  static override summary = "List kmsguard's own settings (region, exportPolicy, concurrency, journal, …)"

  protected async execute(): Promise<Outcome<ConfigList>> {
    const current = await readSettings()
    return {result: {file: `${settingsDir()}/config.json`, settings: Object.entries(SETTINGS).map(([name, spec]) => ({name, value: (current as Record<string, string | number>)[name] ?? null, description: spec.description}))}}
  }

  protected renderHuman({result}: Outcome<ConfigList>): void {
    this.log(table(['SETTING', 'VALUE', 'MEANING'], result.settings.map((s) => [s.name, s.value ?? '(unset)', s.description])))
    this.log(`\nFile: ${result.file}`)
  }
}
