/**
 * The latency bound of a benchmark run, computed from the requests the emulator recorded during that run.
 *
 * Requests are put into dependency levels: each named fan-out group (e.g. all DNSSEC reads) is one block of
 * ⌈n ÷ concurrency⌉ levels; every other request is a "single" and singles that start together (within half a
 * latency of the first one of their cluster) share a level, while singles that start later wait for the
 * previous answer and are levels of their own. bound = Σ levels × latency: what a client that does exactly
 * these requests, with this concurrency, could not beat even with zero CPU time.
 */

/**
 * @param {Array<{method: string, path: string, at: number}>} requests in arrival order
 * @param {{latencyMs: number, concurrency: number, groups: Array<{name: string, match: (r: {method: string, path: string}) => boolean}>}} opts
 * @returns {{boundMs: number, levels: Array<{name: string, requests: number, levels: number}>}}
 */
export function latencyBound(requests, {latencyMs, concurrency, groups}) {
  const fanOut = new Map(groups.map((g) => [g.name, 0]))
  const singles = []
  for (const r of requests) {
    const group = groups.find((g) => g.match(r))
    if (group) fanOut.set(group.name, fanOut.get(group.name) + 1)
    else singles.push(r)
  }
  const levels = []
  let cluster
  for (const r of [...singles].sort((a, b) => a.at - b.at)) {
    if (cluster && r.at - cluster.start < latencyMs / 2) cluster.requests.push(r)
    else levels.push((cluster = {start: r.at, requests: [r]}))
  }
  const rows = [
    ...levels.map((c) => ({name: c.requests.map((r) => `${r.method} ${routeOf(r.path)}`).join(' + '), requests: c.requests.length, levels: Math.ceil(c.requests.length / concurrency)})),
    ...[...fanOut].filter(([, n]) => n > 0).map(([name, n]) => ({name, requests: n, levels: Math.ceil(n / concurrency)})),
  ]
  return {boundMs: rows.reduce((sum, row) => sum + row.levels, 0) * latencyMs, levels: rows}
}

/** A path with its identities replaced, for naming levels: /v1/dns/zones/dnsz-1a2b/dnssec → /v1/dns/zones/{id}/dnssec. */
export function routeOf(path) {
  return path.replace(/\/(kms|dnsz|proj|iamae|sec)-[A-Za-z0-9-]+/g, '/{id}').replace(/\/keys\/(?!\{id\})[^/]+/, '/keys/{key}')
}
