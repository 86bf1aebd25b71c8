/**
 * HTTP building blocks shared by the emulator's server and route modules: the error type every handler throws
 * (always rendered as `{"message": ...}`), the reply shape handlers return, and the request-body reader.
 */
import type {IncomingMessage} from 'node:http'

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
    this.name = 'HttpError'
  }
}

export const badRequest = (message: string) => new HttpError(400, message)
export const unauthorized = (message: string) => new HttpError(401, message)
export const forbidden = (message: string) => new HttpError(403, message)
export const notFound = (message: string) => new HttpError(404, message)
export const conflict = (message: string) => new HttpError(409, message)
export const unavailable = (message: string) => new HttpError(503, message)

/** What a handler answers. `body: undefined` means no content. */
export interface Reply {
  status: number
  body?: unknown
}

export const ok = (body: unknown): Reply => ({status: 200, body})
export const created = (body: unknown): Reply => ({status: 201, body})
export const noContent = (): Reply => ({status: 204})

/** Largest request body accepted (a 64 KiB plaintext is ~88 KiB in base64). */
const MAX_BODY_BYTES = 1024 * 1024

/** Reads the whole body as UTF-8; rejects with 413 once it grows past MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`))
        req.resume()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
    req.on('close', () => reject(new HttpError(400, 'request aborted before its body was complete')))
  })
}
