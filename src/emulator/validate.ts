/**
 * Request-body field readers for the emulator's routes. Each one checks a single field and throws a 400
 * naming that field; none of them ever echoes the submitted value (it may be secret).
 */
import {badRequest} from './http.js'

export type Body = Record<string, unknown>

/** The parsed JSON body as an object (empty body = `{}`). */
export function parseJsonObject(raw: string): Body {
  if (raw.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw badRequest('request body is not valid JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('request body must be a JSON object')
  return value as Body
}

export function optString(body: Body, field: string, max = 1024): string | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`)
  if (v.length > max) throw badRequest(`${field} must be at most ${max} characters`)
  return v
}

export function reqString(body: Body, field: string, max = 1024): string {
  const v = optString(body, field, max)
  if (v === undefined || v === '') throw badRequest(`${field} is required`)
  return v
}

export function optBool(body: Body, field: string): boolean | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw badRequest(`${field} must be a boolean`)
  return v
}

export function optInt(body: Body, field: string, min: number, max: number): number | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badRequest(`${field} must be an integer between ${min} and ${max}`)
  }
  return v
}

/** A key version given as a string ("2", as the API documents) or a number. */
export function optVersion(body: Body, field = 'keyVersion'): number | undefined {
  const v = body[field]
  if (v === undefined || v === null || v === '') return undefined
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw badRequest(`${field} must be a positive integer (as a string)`)
  return n
}

export function optStringMap(body: Body, field: string): Record<string, string> | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${field} must be an object of strings`)
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.some(([k, val]) => k === '' || typeof val !== 'string')) throw badRequest(`${field} must map non-empty keys to strings`)
  return Object.fromEntries(entries) as Record<string, string>
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Decodes standard base64 with padding; anything else is a 400. */
export function decodeBase64(value: string, field: string): Buffer {
  if (!BASE64.test(value)) throw badRequest(`${field} must be standard base64 with padding`)
  return Buffer.from(value, 'base64')
}

export function reqBase64(body: Body, field: string): Buffer {
  const v = body[field]
  if (typeof v !== 'string' || v === '') throw badRequest(`${field} is required (base64)`)
  return decodeBase64(v, field)
}

/** `matchLabels[k]=v` query filters as a predicate on a labels map. */
export function labelSelector(query: URLSearchParams): (labels: Record<string, string>) => boolean {
  const wanted = [...query.entries()]
    .map(([k, v]) => [/^matchLabels\[(.+)\]$/.exec(k)?.[1], v] as const)
    .filter((e): e is readonly [string, string] => e[0] !== undefined)
  return (labels) => wanted.every(([l, v]) => labels[l] === v)
}
