/** Builds the API clients around one transport. */
import {Transport, type TransportOptions} from './transport.js'
import {KmsClient} from './kms.js'
import {AuditClient, DnsClient, ElevationsClient, IdentityClient, ProjectsClient, SecretsClient} from './services.js'

export interface Api {
  transport: Transport
  kms: KmsClient
  identity: IdentityClient
  projects: ProjectsClient
  secrets: SecretsClient
  dns: DnsClient
  elevations: ElevationsClient
  audit: AuditClient
}

export function createApi(opts: TransportOptions | Transport): Api {
  const transport = opts instanceof Transport ? opts : new Transport(opts)
  return {
    transport,
    kms: new KmsClient(transport),
    identity: new IdentityClient(transport),
    projects: new ProjectsClient(transport),
    secrets: new SecretsClient(transport),
    dns: new DnsClient(transport),
    elevations: new ElevationsClient(transport),
    audit: new AuditClient(transport),
  }
}

export {Transport} from './transport.js'
export type {TransportOptions} from './transport.js'
