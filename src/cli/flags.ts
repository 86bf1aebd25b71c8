/** Flags shared by many commands, defined once. */
import {Flags} from '@oclif/core'

export const connectionFlags = {
  'non-interactive': Flags.boolean({description: 'never prompt; missing confirmations are errors (also when CI is set or stdin/stdout is not a TTY)', helpGroup: 'GLOBAL'}),
  endpoint: Flags.string({description: 'API endpoint (else THALASSA_API_ENDPOINT, tcloud context, https://api.thalassa.cloud)', helpGroup: 'GLOBAL'}),
  org: Flags.string({char: 'O', description: 'organisation identity or slug (else THALASSA_ORGANISATION_ID, THALASSA_ORGANISATION, tcloud context)', helpGroup: 'GLOBAL'}),
  project: Flags.string({description: 'project identity or slug: the scope of keys (else THALASSA_PROJECT_ID; default organisation scope)', helpGroup: 'GLOBAL'}),
  context: Flags.string({description: 'tcloud context to use instead of current-context', helpGroup: 'GLOBAL'}),
  'token-file': Flags.string({description: 'read the API token from this file (never pass a token on the command line)', helpGroup: 'GLOBAL'}),
  debug: Flags.boolean({description: 'trace HTTP requests to stderr (Authorization redacted) and show stack traces', helpGroup: 'GLOBAL'}),
}

export const regionFlag = {
  region: Flags.string({char: 'r', description: 'region slug or identity, e.g. nl-01 (else KMSGUARD_REGION, kmsguard config region)'}),
}

export const dryRunFlag = {
  'dry-run': Flags.boolean({description: 'run every preflight guard and show the planned API calls; change nothing'}),
}

export const concurrencyFlag = {
  concurrency: Flags.integer({description: 'parallel requests (default 16; KMSGUARD_CONCURRENCY, kmsguard config)', min: 1, max: 64}),
}

export const yesFlag = {
  yes: Flags.boolean({char: 'y', description: 'confirm without a prompt (required in non-interactive mode)'}),
}

export const confirmFlag = {
  confirm: Flags.string({description: 'non-interactive typed confirmation: the key slug or identity'}),
}

export {parseLabels} from './labels.js'

/** Flags present on the command line, as `--name`, from a list of names. */
export const given = (flags: Record<string, unknown>, names: string[]) => names.filter((n) => flags[n] !== undefined && flags[n] !== false).map((n) => `--${n}`)
