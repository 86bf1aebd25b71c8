/**
 * kmsguard's own settings (not tcloud's): defaults an operator sets once with `kmsguard config set`.
 * Stored with `conf` (atomic writes, schema-validated, mode 0600) under `$KMSGUARD_CONFIG_DIR`, else
 * `$XDG_CONFIG_HOME/kmsguard`, else `~/.config/kmsguard`. conf is imported lazily: it pulls in ajv.
 */
import {homedir} from 'node:os'
import {join} from 'node:path'
import {usageError} from '../cli/errors.js'

export interface SettingSpec {
  description: string
  type: 'string' | 'integer'
  min?: number
  max?: number
  pattern?: RegExp
}

export const SETTINGS = {
  region: {description: 'default region for regional commands (e.g. nl-01)', type: 'string', pattern: /^[a-z0-9][a-z0-9-]{0,62}$/},
  exportPolicy: {description: 'identity or slug of the IAM policy that grants KMS export (used by export:request)', type: 'string', pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/},
  concurrency: {description: 'parallel requests for scans and fleet operations', type: 'integer', min: 1, max: 64},
  journal: {description: 'path of the operator journal file', type: 'string'},
  rotationPeriodDays: {description: 'default automatic rotation period for new symmetric keys', type: 'integer', min: 1, max: 3650},
  timeoutSeconds: {description: 'overall deadline of one command', type: 'integer', min: 5, max: 3600},
  expectedPrincipals: {description: 'file listing the principals expected to use keys (for audit)', type: 'string'},
} as const satisfies Record<string, SettingSpec>

export type SettingName = keyof typeof SETTINGS
export type Settings = Partial<{[K in SettingName]: (typeof SETTINGS)[K]['type'] extends 'integer' ? number : string}>

export function settingsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KMSGUARD_CONFIG_DIR) return env.KMSGUARD_CONFIG_DIR
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'kmsguard')
}

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name)
}

/** Validates and converts a value typed by the operator. */
export function parseSetting(name: SettingName, raw: string): string | number {
  const spec: SettingSpec = SETTINGS[name]
  if (spec.type === 'integer') {
    if (!/^\d+$/.test(raw)) throw usageError(`${name} must be a whole number, got "${raw}"`)
    const n = Number(raw)
    if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) throw usageError(`${name} must be between ${spec.min} and ${spec.max}, got ${n}`)
    return n
  }
  if (raw.length === 0) throw usageError(`${name} must not be empty`)
  if (spec.pattern && !spec.pattern.test(raw)) throw usageError(`${name}: "${raw}" is not a valid value`)
  return raw
}

async function store(env: NodeJS.ProcessEnv) {
  const {default: Conf} = await import('conf')
  const schema = Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.type === 'integer' ? {type: 'integer', minimum: (s as SettingSpec).min, maximum: (s as SettingSpec).max} : {type: 'string'}]))
  try {
    return new Conf<Settings>({cwd: settingsDir(env), configName: 'config', projectName: 'kmsguard', configFileMode: 0o600, schema: schema as never})
  } catch (error) {
    throw usageError(`kmsguard settings in ${settingsDir(env)} are unreadable: ${(error as Error).message}`, 'Fix or remove config.json there.', 'CONFIG_MALFORMED')
  }
}

export async function readSettings(env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const {existsSync} = await import('node:fs')
  if (!existsSync(join(settingsDir(env), 'config.json'))) return {}
  return {...(await store(env)).store}
}

export async function writeSetting(name: SettingName, value: string | number | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const s = await store(env)
  if (value === undefined) s.delete(name)
  else s.set(name, value as never)
  return s.path
}
