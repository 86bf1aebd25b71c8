import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {keyValues} from '../src/ui/table.js'

interface WhoAmI {
  endpoint: {value: string; source: string}
  organisation?: {value: string; source: string}
  project?: {value: string; source: string}
  region?: {value: string; source: string}
  auth: {method: string; source: string} | null
  identity?: {subject?: string; name?: string; email?: string}
  organisations: Array<{identity: string; slug?: string; name?: string; role?: string}>
}

const METHOD = {pat: 'personal access token (Authorization: Token)', bearer: 'access token (Authorization: Bearer)', 'client-credentials': 'OIDC client credentials (Bearer from /oidc/token)'}

export default class WhoAmI_ extends BaseCommand<WhoAmI> {
  static override summary = 'Show the resolved endpoint, organisation, project, auth method, where each came from, and who you are'
  static override description = 'Never shows a secret: only which credential kind was used and where it was found.'

  protected async execute(): Promise<Outcome<WhoAmI>> {
    const cfg = await this.resolved()
    const base: WhoAmI = {
      endpoint: cfg.endpoint,
      organisation: cfg.organisation,
      project: cfg.project,
      region: cfg.region,
      auth: cfg.credentials ? {method: cfg.credentials.value.kind, source: cfg.credentials.source} : null,
      organisations: [],
    }
    if (!cfg.credentials) {
      const {KmsGuardError, ExitCode} = await import('../src/cli/errors.js')
      throw new KmsGuardError('NO_CREDENTIALS', ExitCode.API, 'no credentials found', {hint: 'Set THALASSA_PERSONAL_ACCESS_TOKEN (tc_pat_…), THALASSA_ACCESS_TOKEN, or THALASSA_CLIENT_ID + THALASSA_CLIENT_SECRET, pass --token-file, or log in with tcloud.', details: {endpoint: cfg.endpoint.value}})
    }
    const members = await (await this.api()).identity.memberships()
    const user = members.find((m) => m.user)?.user
    return {result: {...base, identity: user ? {subject: user.subject, name: user.name, email: user.email} : undefined, organisations: members.filter((m) => m.organisation).map((m) => ({identity: m.organisation!.identity, slug: m.organisation!.slug, name: m.organisation!.name, role: m.role}))}}
  }

  protected renderHuman({result: r}: Outcome<WhoAmI>): void {
    const src = (s?: {value: string; source: string}) => (s ? `${s.value}  (${s.source})` : undefined)
    this.log(keyValues([
      ['User', r.identity ? `${r.identity.name ?? ''} <${r.identity.email ?? '?'}> subject ${r.identity.subject ?? '?'}`.trim() : 'unknown'],
      ['Endpoint', src(r.endpoint)],
      ['Organisation', src(r.organisation) ?? 'not set'],
      ['Project', src(r.project) ?? 'none (organisation scope)'],
      ['Region', src(r.region) ?? 'not set'],
      ['Auth', r.auth ? `${METHOD[r.auth.method as keyof typeof METHOD]}  (${r.auth.source})` : 'none'],
      ['Member of', r.organisations.map((o) => `${o.slug ?? o.identity}${o.role ? ` (${o.role})` : ''}`).join(', ') || 'no organisation'],
    ]))
  }
}
