/**
 * The hygiene world: the demo emulator (in this process) with sentinel credentials registered the way the
 * emulator stores credentials — as SHA-256 hashes — so the CLI authenticates with secrets only the test knows:
 * a personal access token for the operator and one for the approver, a bearer access token, and an OIDC
 * client (id + secret) acting as the operator. Each auth kind has the environment a run needs, isolated
 * (own HOME, settings, tcloud file and journal) per scenario directory.
 */
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {hashSecret} from '../../src/emulator/auth.js'
import {DEMO} from '../../src/emulator/index.js'
import {startE2E, type E2E} from '../e2e/harness.js'
import {randomCore, textSentinel, type Sentinel} from './sentinels.js'

export type AuthKind = 'pat' | 'client-credentials' | 'bearer'

export interface Credentials {
  operatorPat: string
  approverPat: string
  bearer: string
  clientId: string
  clientSecret: string
}

export interface World {
  e2e: E2E
  creds: Credentials
  /** Every credential as a sentinel to search for. */
  sentinels: Sentinel[]
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000

export async function startWorld(): Promise<World> {
  const e2e = await startE2E()
  const creds: Credentials = {
    operatorPat: `tc_pat_hygop${randomCore()}`,
    approverPat: `tc_pat_hygap${randomCore()}`,
    bearer: `hygbearer${randomCore(16)}`,
    clientId: `hygclient${randomCore(6)}`,
    clientSecret: `hygsecret${randomCore(16)}`,
  }
  const {state} = e2e.emu
  state.personalAccessTokens.push(
    {tokenHash: hashSecret(creds.operatorPat), subject: DEMO.users.operator.subject},
    {tokenHash: hashSecret(creds.approverPat), subject: DEMO.users.approver.subject},
  )
  state.accessTokens.push({tokenHash: hashSecret(creds.bearer), subject: DEMO.users.operator.subject, expiresAt: Date.now() + TEN_YEARS_MS})
  state.serviceClients.push({clientId: creds.clientId, secretHash: hashSecret(creds.clientSecret), subject: DEMO.users.operator.subject})
  const sentinels = [
    textSentinel('operator PAT', creds.operatorPat),
    textSentinel('approver PAT', creds.approverPat),
    textSentinel('bearer access token', creds.bearer),
    textSentinel('OIDC client id', creds.clientId),
    textSentinel('OIDC client secret', creds.clientSecret),
    // What HTTP Basic auth carries for the client credentials.
    textSentinel('OIDC client id:secret', `${creds.clientId}:${creds.clientSecret}`),
  ]
  return {e2e, creds, sentinels}
}

/** Environment of one run: isolated directories under `dir`, the emulator, and the credential of `auth`. */
export function scenarioEnv(world: World, dir: string, auth: AuthKind | 'approver'): Record<string, string | undefined> {
  mkdirSync(dir, {recursive: true})
  const {creds} = world
  const credential: Record<AuthKind | 'approver', Record<string, string>> = {
    pat: {THALASSA_PERSONAL_ACCESS_TOKEN: creds.operatorPat},
    approver: {THALASSA_PERSONAL_ACCESS_TOKEN: creds.approverPat},
    bearer: {THALASSA_ACCESS_TOKEN: creds.bearer},
    'client-credentials': {THALASSA_CLIENT_ID: creds.clientId, THALASSA_CLIENT_SECRET: creds.clientSecret},
  }
  return {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state'),
    THALASSA_CONFIG: join(dir, 'tcloud-none.yaml'),
    KMSGUARD_JOURNAL: join(dir, 'journal.jsonl'),
    THALASSA_API_ENDPOINT: world.e2e.emu.url,
    THALASSA_ORGANISATION: DEMO.org.slug,
    CI: 'true',
    NO_COLOR: '1',
    ...credential[auth],
  }
}
