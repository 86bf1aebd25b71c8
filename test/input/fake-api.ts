/**
 * A scripted API on 127.0.0.1 for response bodies the emulator never produces (a field missing or of the wrong
 * type, 100 000 keys, JSON nested 100 000 levels deep, a 1 MB error message). Each route answers a fixed status
 * and raw body; anything else is a 404. Every request is recorded as "METHOD /path".
 */
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface Scripted {
  status?: number
  body: string
}

export interface FakeApi {
  url: string
  requests: string[]
  close(): Promise<void>
}

export async function startFakeApi(routes: Record<string, Scripted>): Promise<FakeApi> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    const route = `${req.method} ${new URL(req.url ?? '/', 'http://fake.invalid').pathname}`
    requests.push(route)
    req.resume()
    const answer = routes[route] ?? {status: 404, body: JSON.stringify({message: `no scripted answer for ${route}`})}
    res.writeHead(answer.status ?? 200, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(answer.body))})
    res.end(answer.body)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((done) => {
      server.closeAllConnections()
      server.close(() => done())
    }),
  }
}
