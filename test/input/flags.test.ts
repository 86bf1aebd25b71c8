/**
 * Bad input on the command line (issue 8.2), end to end: regions, KEYs, labels, rotation periods, durations,
 * concurrency, conflicting and missing flags, approval ids, endpoints and confirmations. Each case is named in
 * its title and checked for exit code, a clear message, no stack trace, and exactly what reached the API.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {DEMO} from '../../src/emulator/index.js'
import {checkRefusal, checkSent, inWorld, sentBy, STACK_FRAME, type Case, type Expectation} from './helpers.js'

// Fixed seed: the e2e properties try the same few inputs on every run.
fc.configureGlobal({seed: 20261204})

const R = ['-r', DEMO.regions.available]
const APP = DEMO.keys.appSecrets.slug
const ESCROW = DEMO.keys.escrowKey.slug
const LEGACY = DEMO.keys.legacyData.slug

interface Named extends Case {
  title: string
  x: Expectation
}

/** One test per case; every case has an emulator of its own, so the cases of a block run concurrently. */
const table = (cases: Named[]) => {
  for (const {title, x, ...c} of cases) it(title, () => inWorld(async (w) => void (await w.refused(c, x))))
}

describe.concurrent('--region', () => {
  const notSlug = /region ".*" \(from flag --region\) is not a region slug or identity/
  table([
    {title: 'a region with a space ("nl 01")', args: ['list', '-r', 'nl 01'], x: {message: notSlug, sends: 'nothing'}},
    {title: 'a region in upper case ("NL-01")', args: ['list', '-r', 'NL-01'], x: {message: notSlug, sends: 'nothing'}},
    {title: 'a region with unicode digits ("nl-０１")', args: ['list', '-r', 'nl-０１'], x: {message: notSlug, sends: 'nothing'}},
    {title: 'a region that is a path ("../v1")', args: ['get', APP, '-r', '../v1'], x: {message: notSlug, sends: 'nothing'}},
    {title: 'an empty --region and no other source', args: ['list', '-r', ''], x: {message: /list needs a region/, sends: 'nothing'}},
    {title: 'KMSGUARD_REGION with an escape sequence (the message names the env variable)', args: ['list'], env: {KMSGUARD_REGION: 'nl-01\u001b[2J'}, x: {message: /from env KMSGUARD_REGION\) is not a region slug/, sends: 'nothing'}},
  ])
})

describe.concurrent('KEY', () => {
  table([
    {title: 'a KEY with a control character (\\x01)', args: ['get', 'app\u0001secrets', ...R], x: {message: /KEY contains control characters/, sends: 'nothing'}},
    {title: 'a KEY with a terminal escape sequence', args: ['get', 'app\u001b[31msecrets', ...R], x: {message: /KEY contains control characters/, sends: 'nothing'}},
    {title: 'a KEY of 300 characters', args: ['get', 'k'.repeat(300), ...R], x: {message: /KEY is longer than 255 characters/, sends: 'nothing'}},
    {title: 'an empty KEY', args: ['get', '', ...R], x: {message: /KEY must not be empty/, sends: 'nothing'}},
    {title: 'a blank KEY (spaces only)', args: ['get', '   ', ...R], x: {message: /KEY must not be empty/, sends: 'nothing'}},
    {title: 'a missing KEY', args: ['get', ...R], x: {message: /Missing 1 required arg/, sends: 'nothing'}},
  ])

  it('property: any KEY with a control character inside → exit 2, nothing sent (get)', () => inWorld(async (w) => {
    const ctrl = fc.integer({min: 1, max: 0x1f}).map((c) => String.fromCharCode(c))
    const key = fc.tuple(fc.stringMatching(/^[a-z][a-z-]{0,8}$/), ctrl, fc.stringMatching(/^[a-z0-9-]{0,8}[a-z0-9]$/)).map(([a, c, b]) => a + c + b)
    await fc.assert(fc.asyncProperty(key, async (k) => void (await w.refused({args: ['get', k, ...R]}, {message: /KEY contains control characters/, sends: 'nothing'}))), {numRuns: 4})
  }))

  it('every command that takes KEY refuses a KEY with a control character before any request', async () => {
    const bad = 'x\u0001y'
    const commands = [
      ['delete', bad, ...R, '--confirm', 'x'], ['rotate', bad, ...R, '--yes'], ['disable', bad, ...R, '--reason', 'r', '--confirm', 'x'],
      ['enable', bad, ...R, '--yes'], ['cancel-deletion', bad, ...R, '--yes'], ['export:request', bad, ...R, '--policy', 'kms-export', '--reason', 'r', '--yes'],
      ['references', bad, ...R], ['public-key', bad, ...R], ['get', bad, ...R],
    ]
    const early = await Promise.all(commands.map((args) => inWorld(async (w) => {
      const r = await w.e.run(args)
      checkRefusal(r, {message: /KEY contains control characters/, sends: 'nothing'})
      const sent = sentBy(w.e.emu)
      return sent.length > 0 ? [`${args[0]} sent ${sent.join(', ')} before refusing KEY`] : []
    })))
    expect(early.flat()).toEqual([])
  })
})

describe.concurrent('--label', () => {
  const notLabel = /--label ".*" is not KEY=VALUE/
  table([
    {title: '--label =v (no key)', args: ['list', ...R, '--label', '=v'], x: {message: notLabel, sends: 'nothing'}},
    {title: '--label k (no "=")', args: ['list', ...R, '--label', 'k'], x: {message: notLabel, sends: 'nothing'}},
    {title: '--label k== (a second "=")', args: ['list', ...R, '--label', 'k=='], x: {message: notLabel, sends: 'nothing'}},
    {title: '--label "a b=c" (a space in the key)', args: ['list', ...R, '--label', 'a b=c'], x: {message: notLabel, sends: 'nothing'}},
    {title: '--label with a 70-character key', args: ['list', ...R, '--label', `${'k'.repeat(70)}=v`], x: {message: notLabel, sends: 'nothing'}},
    {title: '--label with an escape sequence in the value (create --dry-run)', args: ['create', ...R, '--name', 'lbl', '--type', 'aes256-gcm96', '--label', 'purpose=a\u001b[2Jb', '--dry-run'], x: {message: notLabel, sends: 'nothing'}},
    {title: '--label on rotate together with KEY', args: ['rotate', APP, ...R, '--label', 'team=fleet'], x: {message: /give either KEY .* or --label/, sends: 'nothing'}},
  ])
})

describe.concurrent('--rotation-period and --schedule', () => {
  for (const value of ['0', '3651', '-1', '1.5', 'abc']) {
    it(`create --rotation-period ${value}`, () => inWorld(async (w) => {
      await w.refused({args: ['create', ...R, '--name', 'rot-bad', '--type', 'aes256-gcm96', `--rotation-period=${value}`, '--yes', '--json']}, {
        message: new RegExp(`--rotation-period must be a whole number of days from 1 to 3650, got "${value.replace('.', '\\.')}"`), code: 'INVALID_ROTATION_PERIOD', sends: 'nothing',
      })
    }))
  }

  it('rotate --schedule 3651', () => inWorld(async (w) => {
    await w.refused({args: ['rotate', APP, ...R, '--schedule', '3651', '--yes']}, {message: /--schedule must be a whole number of days from 1 to 3650/, sends: 'nothing'})
  }))

  it('property: any whole number outside 1..3650 as --rotation-period → exit 2, no create sent', () => inWorld(async (w) => {
    const outside = fc.oneof(fc.integer({min: -100_000, max: 0}), fc.integer({min: 3651, max: 10_000_000}))
    await fc.assert(fc.asyncProperty(outside, async (n) => {
      await w.refused({args: ['create', ...R, '--name', 'rot-prop', '--type', 'aes256-gcm96', `--rotation-period=${n}`, '--yes']}, {message: /--rotation-period must be a whole number of days/, sends: 'nothing'})
    }), {numRuns: 3})
  }))
})

describe.concurrent('durations', () => {
  for (const value of ['0m', '25h', '1d', 'abc']) {
    it(`export:request --duration ${value}`, () => inWorld(async (w) => {
      await w.refused({args: ['export:request', ESCROW, ...R, '--policy', 'kms-export', '--reason', 'r', '--duration', value, '--yes', '--json']}, {
        message: new RegExp(`--duration "${value}" is not a duration between 5m and 24h`), code: 'INVALID_DURATION', sends: 'nothing',
      })
    }))
  }
  table([
    {title: 'audit --since abc', args: ['audit', '--since', 'abc'], x: {message: /--since "abc" is neither a duration nor a date/, sends: 'nothing'}},
    {title: 'audit --since 0 (an empty window)', args: ['audit', '--since', '0'], x: {message: /--since must look back more than 0/, sends: 'nothing'}},
    {title: 'journal --since -1h', args: ['journal', '--since=-1h'], x: {message: /--since "-1h" is neither a duration nor a date/, sends: 'nothing'}},
  ])
})

describe.concurrent('--concurrency', () => {
  table([
    {title: '--concurrency 0', args: ['references', APP, ...R, '--concurrency', '0'], x: {message: /--concurrency .*greater than or equal to 1/, sends: 'nothing'}},
    {title: '--concurrency 65', args: ['references', APP, ...R, '--concurrency', '65'], x: {message: /--concurrency .*less than or equal to 64/, sends: 'nothing'}},
    {title: '--concurrency x', args: ['references', APP, ...R, '--concurrency', 'x'], x: {message: /--concurrency Expected an integer/, sends: 'nothing'}},
    {title: 'KMSGUARD_CONCURRENCY=0', args: ['list', ...R], env: {KMSGUARD_CONCURRENCY: '0'}, x: {message: /concurrency from env KMSGUARD_CONCURRENCY must be a whole number from 1 to 64, got "0"/, sends: 'nothing'}},
  ])
})

describe.concurrent('conflicting flags', () => {
  table([
    {title: 'export --recipient with --plaintext', args: ['export', ESCROW, ...R, '--approval', 'iamae-1', '--out', '/tmp/never-written.bin', '--recipient', '/tmp/r.pem', '--plaintext'], x: {message: /--recipient and --plaintext exclude each other/, sends: 'nothing'}},
    {title: 'export with neither --recipient nor --plaintext', args: ['export', ESCROW, ...R, '--approval', 'iamae-1', '--out', '/tmp/never-written.bin'], x: {message: /export needs --recipient PEM_FILE/, sends: 'nothing'}},
    {title: 'rotate --schedule with --no-schedule', args: ['rotate', APP, ...R, '--schedule', '30', '--no-schedule'], x: {message: /--no-schedule.*cannot also be provided when using --schedule/, sends: 'nothing'}},
    {title: 'rotate --label with --schedule (a single-key flag)', args: ['rotate', '--label', 'team=fleet', ...R, '--schedule', '30'], x: {message: /--schedule applies only to a single KEY/, sends: 'nothing'}},
    {title: 'disable --label with --confirm (a single-key flag)', args: ['disable', '--label', 'team=fleet', ...R, '--reason', 'r', '--confirm', 'x'], x: {message: /--confirm applies only to a single KEY/, sends: 'nothing'}},
    {title: 'create --rotation-period with --no-rotation', args: ['create', ...R, '--name', 'c', '--type', 'aes256-gcm96', '--rotation-period', '30', '--no-rotation'], x: {message: /cannot also be provided/, sends: 'nothing'}},
    {title: 'import --material with --wrapped-material', args: ['import', ...R, '--name', 'i', '--type', 'aes256-gcm96', '--material', '/tmp/a', '--wrapped-material', '/tmp/b'], x: {message: /cannot also be provided/, sends: 'nothing'}},
    {title: 'list -r with --all-regions', args: ['list', ...R, '--all-regions'], x: {message: /cannot also be provided/, sends: 'nothing'}},
    {title: 'audit --since with --from', args: ['audit', '--since', '7d', '--from', '2026-11-01'], x: {message: /cannot also be provided/, sends: 'nothing'}},
  ])
})

describe.concurrent('missing required flags and arguments', () => {
  table([
    {title: 'create without --name', args: ['create', ...R, '--type', 'aes256-gcm96', '--yes'], x: {message: /--name is required/, sends: 'nothing'}},
    {title: 'create without --type', args: ['create', ...R, '--name', 'c', '--yes'], x: {message: /--type is required/, sends: 'nothing'}},
    {title: 'create --type that is not a key type', args: ['create', ...R, '--name', 'c', '--type', 'aes999', '--yes'], x: {message: /--type "aes999" is not a key type/, sends: 'nothing'}},
    {title: 'import without --material or --wrapped-material', args: ['import', ...R, '--name', 'i', '--type', 'aes256-gcm96', '--yes'], x: {message: /import needs exactly one of --material FILE .* or --wrapped-material FILE/, sends: 'nothing'}},
    {title: 'import without --name', args: ['import', ...R, '--type', 'aes256-gcm96', '--material', '/tmp/m'], x: {message: /Missing required flag name/, sends: 'nothing'}},
    {title: 'export without --approval', args: ['export', ESCROW, ...R, '--out', '/tmp/o.bin', '--plaintext'], x: {message: /Missing required flag approval/, sends: 'nothing'}},
    {title: 'export without --out', args: ['export', ESCROW, ...R, '--approval', 'iamae-1', '--plaintext'], x: {message: /Missing required flag out/, sends: 'nothing'}},
    {title: 'disable without --reason', args: ['disable', APP, ...R, '--confirm', APP], x: {message: /disable needs --reason TEXT/, sends: 'nothing'}},
    {title: 'export:request without --reason', args: ['export:request', ESCROW, ...R, '--policy', 'kms-export', '--yes'], x: {message: /export:request needs --reason TEXT/, sends: 'nothing'}},
    {title: 'export:request without --policy and no exportPolicy setting', args: ['export:request', ESCROW, ...R, '--reason', 'r', '--yes', '--json'], x: {message: /export:request needs the IAM policy/, code: 'EXPORT_POLICY_REQUIRED', sends: 'nothing'}},
    {title: 'rotate with neither KEY nor --label', args: ['rotate', ...R, '--yes'], x: {message: /give KEY .* or --label k=v/, sends: 'nothing'}},
    {title: 'approve without ELEVATION', args: ['approve', '--yes'], x: {message: /Missing 1 required arg/, sends: 'nothing'}},
  ])
})

describe.concurrent('approval ids', () => {
  const notId = (flag: string) => new RegExp(`${flag} ".*" is not an access elevation identity`)
  const exportWith = (approval: string) => ['export', ESCROW, ...R, '--approval', approval, '--plaintext', '--out', '/tmp/kmsguard-input-never.bin', '--confirm', ESCROW]
  table([
    {title: "--approval ''", args: exportWith(''), x: {message: notId('--approval'), sends: 'nothing'}},
    {title: '--approval ../x', args: exportWith('../x'), x: {message: notId('--approval'), sends: 'nothing'}},
    {title: '--approval of 500 characters', args: exportWith('a'.repeat(500)), x: {message: notId('--approval'), sends: 'nothing'}},
    {title: '--approval with shell metacharacters ($(id))', args: exportWith('$(id)'), x: {message: notId('--approval'), sends: 'nothing'}},
    {title: '--approval with shell metacharacters (a;rm -rf ~)', args: exportWith('a;rm -rf ~'), x: {message: notId('--approval'), sends: 'nothing'}},
    {title: '--approval with shell metacharacters (`id`|x)', args: exportWith('`id`|x'), x: {message: notId('--approval'), sends: 'nothing'}},
    {title: "approve ''", args: ['approve', '', '--yes'], x: {message: notId('ELEVATION'), sends: 'nothing'}},
    {title: 'approve ../../v1/kms', args: ['approve', '../../v1/kms', '--yes'], x: {message: notId('ELEVATION'), sends: 'nothing'}},
    {title: 'approve with shell metacharacters ($(touch x))', args: ['approve', '$(touch x)', '--yes'], x: {message: notId('ELEVATION'), sends: 'nothing'}},
  ])

  it('approve with an ELEVATION of 500 characters: refused, and the refusal is journaled without a warning', () => inWorld(async (w) => {
    const r = await w.refused({args: ['approve', 'a'.repeat(500), '--yes']}, {message: notId('ELEVATION'), sends: 'nothing'})
    expect(r.stderr).not.toMatch(/journal could not be written/)
  }))
})

describe.concurrent('endpoint', () => {
  table([
    {title: 'http:// to a host that is not loopback', args: ['summary', '--json'], env: {THALASSA_API_ENDPOINT: 'http://10.0.0.1'}, x: {message: /refusing plain http:\/\/ to 10\.0\.0\.1 \(from env THALASSA_API_ENDPOINT\)/, code: 'INSECURE_ENDPOINT', sends: 'nothing'}},
    {title: '--endpoint http:// to a host that is not loopback (names the flag)', args: ['summary', '--endpoint', 'http://api.thalassa.cloud'], x: {message: /refusing plain http:\/\/ to api\.thalassa\.cloud \(from flag --endpoint\)/, sends: 'nothing'}},
    {title: 'ftp://', args: ['summary'], env: {THALASSA_API_ENDPOINT: 'ftp://api.thalassa.cloud'}, x: {message: /must be https:\/\/ \(got ftp:\)/, sends: 'nothing'}},
    {title: 'a string that is not a URL', args: ['summary'], env: {THALASSA_API_ENDPOINT: 'api.thalassa.cloud'}, x: {message: /is not a URL/, sends: 'nothing'}},
  ])

  // Loopback endpoints that point at the emulator: were anything sent, the emulator would record it.
  it('credentials in the URL of an otherwise usable endpoint: refused, nothing sent, password not echoed', () => inWorld(async (w) => {
    const url = w.e.emu.url.replace('http://', 'http://admin:s3cretpw@')
    const r = await w.refused({args: ['summary'], env: {THALASSA_API_ENDPOINT: url}}, {message: /must not carry credentials in the URL/, sends: 'nothing'})
    expect(r.stderr).not.toContain('s3cretpw')
  }))

  it('a query string on an otherwise usable endpoint: refused, nothing sent', () => inWorld(async (w) => {
    await w.refused({args: ['summary'], env: {THALASSA_API_ENDPOINT: `${w.e.emu.url}/?org=demo`}}, {message: /must not carry a query or fragment/, sends: 'nothing'})
  }))
})

describe.concurrent('confirmations (exit 7, no mutating request; the reads before the prompt are legitimate)', () => {
  table([
    {title: 'create without --yes when non-interactive', args: ['create', ...R, '--name', 'unconfirmed', '--type', 'aes256-gcm96', '--label', 'purpose=x'], x: {exit: 7, message: /confirmation required; in non-interactive mode pass --yes/, sends: 'reads-only'}},
    {title: 'delete with a --confirm that names another key', args: ['delete', LEGACY, ...R, '--confirm', APP], x: {exit: 7, message: /--confirm "app-secrets" does not match the key/, sends: 'reads-only'}},
    {title: 'disable --label with the wrong --confirm-count', args: ['disable', '--label', 'team=fleet', ...R, '--reason', 'r', '--confirm-count', '99', '--json'], x: {exit: 7, message: /--confirm-count 99 does not match the \d+ matched key/, code: 'NOT_CONFIRMED', sends: 'reads-only'}},
  ])
})

describe.concurrent('an approval bound to something else (exit 5)', () => {
  it('approve a request whose labels disagree with its annotations: refused, no approve request sent', () => inWorld(async (w) => {
    const req = await w.e.run(['export:request', ESCROW, ...R, '--policy', 'kms-export', '--reason', 'binding test', '--yes', '--json'])
    expect(req.code).toBe(0)
    const id = req.json.result.elevation.identity as string
    const stored = w.e.emu.state.elevations.find((x) => x.identity === id)!
    stored.labels['kmsguard-key-version'] = '99'
    const r = await w.refused({args: ['approve', id, '--yes', '--json'], as: 'approver'}, {exit: 5, message: /binding|disagree|labels/i, code: 'APPROVAL_BINDING_MISMATCH', sends: 'reads-only'})
    expect(r.json.guards.at(-1)).toMatchObject({guard: 'approval', outcome: 'fail'})
    expect(stored.status).toBe('pending')
  }))
})

describe.concurrent('--debug', () => {
  it('shows the stack trace of a usage error (so the "no stack" checks above can see one)', () => inWorld(async (w) => {
    w.e.emu.clearRequests()
    const r = await w.e.run(['get', '', ...R, '--debug'])
    checkRefusal(r, {message: /KEY must not be empty/, sends: 'nothing'})
    checkSent(sentBy(w.e.emu), 'nothing')
    expect(r.stderr).toMatch(STACK_FRAME)
    const plain = await w.e.run(['get', '', ...R])
    expect(plain.stderr).not.toMatch(STACK_FRAME)
  }))
})
