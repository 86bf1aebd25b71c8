/**
 * Calibration client for the benchmarks: N keep-alive GETs of DNSSEC statuses with plain node:http, at a fixed
 * concurrency, doing nothing else. Run as a child like the CLI, it shows how close to the latency bound any
 * client can get against the in-process emulator on this machine.
 *
 *   node bench/lib/raw-client.js <endpoint> <requests> <concurrency> <zone-identity>...
 * Environment: THALASSA_PERSONAL_ACCESS_TOKEN, THALASSA_ORGANISATION. Prints {"requests": n, "failed": n}.
 */
import http from 'node:http'

const [endpoint, count, concurrency, ...zones] = process.argv.slice(2)
const url = new URL(endpoint)
const agent = new http.Agent({keepAlive: true, maxSockets: Number(concurrency)})
const headers = {accept: 'application/json', authorization: `Token ${process.env.THALASSA_PERSONAL_ACCESS_TOKEN}`, 'x-organisation-identity': process.env.THALASSA_ORGANISATION}

const get = (zone) => new Promise((resolve) => {
  const req = http.get({host: url.hostname, port: url.port, path: `/v1/dns/zones/${zone}/dnssec`, headers, agent, timeout: 30_000}, (res) => {
    let body = ''
    res.on('data', (d) => (body += d))
    res.on('end', () => resolve(res.statusCode === 200 && JSON.parse(body) !== null))
  })
  req.on('timeout', () => req.destroy(new Error('timeout')))
  req.on('error', () => resolve(false))
})

let next = 0
let failed = 0
await Promise.all(Array.from({length: Number(concurrency)}, async () => {
  while (next < Number(count)) if (!(await get(zones[next++ % zones.length]))) failed++
}))
agent.destroy()
process.stdout.write(`${JSON.stringify({requests: Number(count), failed})}\n`)
