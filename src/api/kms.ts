/** KMS client: the 19 endpoints of fact sheet §2 that kmsguard uses. Region and key ids are path-encoded. */
import {z} from 'zod'
import type {Transport} from './transport.js'
import * as S from './schemas.js'

const seg = encodeURIComponent

export interface CreateKeyBody {
  name: string
  keyType: string
  description?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  exportAllowed?: boolean
  keyRotationEnabled?: boolean
  rotationPeriodInDays?: number
  importKeyMaterial?: string
  hashFunction?: string
  allowRotation?: boolean
}

export class KmsClient {
  constructor(private readonly t: Transport) {}

  summary() {
    return this.t.request({method: 'GET', path: '/v1/kms/summary', schema: S.KmsSummary})
  }

  listKeys(region: string, filters: {name?: string; slug?: string; identity?: string} = {}, project?: string | null) {
    return this.t.request({method: 'GET', path: `/v1/kms/${seg(region)}/keys`, query: filters, schema: S.KmsKeyList, project})
  }

  getKey(region: string, id: string) {
    return this.t.request({method: 'GET', path: `/v1/kms/${seg(region)}/keys/${seg(id)}`, schema: S.KmsKey})
  }

  createKey(region: string, body: CreateKeyBody) {
    return this.t.request({method: 'POST', path: `/v1/kms/${seg(region)}/keys`, body, schema: S.KmsKey})
  }

  wrappingKey(region: string) {
    return this.t.request({method: 'GET', path: `/v1/kms/${seg(region)}/wrapping-key`, schema: S.WrappingKey})
  }

  publicKeys(region: string, id: string, version?: number) {
    return this.t.request({method: 'GET', path: `/v1/kms/${seg(region)}/keys/${seg(id)}/public-key`, query: {version}, schema: S.PublicKeys})
  }

  rotate(region: string, id: string) {
    return this.t.request({method: 'POST', path: `/v1/kms/${seg(region)}/keys/${seg(id)}/rotate`, schema: S.KmsKey})
  }

  updateRotation(region: string, id: string, body: {keyRotationEnabled?: boolean; rotationPeriodInDays?: number}) {
    return this.t.request({method: 'PATCH', path: `/v1/kms/${seg(region)}/keys/${seg(id)}/rotation`, body, schema: S.KmsKey})
  }

  disable(region: string, id: string) {
    return this.t.request({method: 'POST', path: `/v1/kms/${seg(region)}/keys/${seg(id)}/disable`, schema: S.KmsKey})
  }

  enable(region: string, id: string) {
    return this.t.request({method: 'POST', path: `/v1/kms/${seg(region)}/keys/${seg(id)}/enable`, schema: S.KmsKey})
  }

  deleteKey(region: string, id: string) {
    return this.t.request({method: 'DELETE', path: `/v1/kms/${seg(region)}/keys/${seg(id)}`, schema: S.DeleteKeyResponse, allowEmpty: true, idempotent: false})
  }

  cancelDeletion(region: string, id: string) {
    return this.t.request({method: 'DELETE', path: `/v1/kms/${seg(region)}/keys/${seg(id)}/cancel-deletion`, schema: z.unknown(), allowEmpty: true, idempotent: false})
  }

  /** Break-glass. Never retried; the caller must not log the result. */
  exportKey(region: string, id: string, keyVersion?: number) {
    return this.t.request({method: 'POST', path: `/v1/kms/${seg(region)}/keys/${seg(id)}/export`, body: keyVersion === undefined ? {} : {keyVersion: String(keyVersion)}, schema: S.ExportKeyResponse})
  }
}
