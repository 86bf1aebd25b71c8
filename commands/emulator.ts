import {Flags} from '@oclif/core'
import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {usageError} from '../src/cli/errors.js'
import {FAULT_KINDS, type FaultKind} from '../src/emulator/faults.js'

interface EmulatorResult {
  url: string
  port: number
}


export default class Emulator extends BaseCommand<EmulatorResult> {
  static override summary = 'Run a local Thalassa-compatible API for rehearsal and tests (not for production keys)'
  static override description = 'Serves the KMS, Secrets Manager, DNS, projects, IAM access elevation, audit and identity APIs on a loopback port, with real cryptography. State is in memory unless --data is given. The demo seed has organisation "demo", regions nl-01 (KMS available) and nl-02 (unavailable), and users with the tokens tc_pat_demo_operator and tc_pat_demo_approver.'
  static override flags = {
    port: Flags.integer({description: 'port to listen on (0 picks a free one and prints it)', default: 8200, min: 0, max: 65535}),
    host: Flags.string({description: 'address to listen on (loopback only)', default: '127.0.0.1'}),
    data: Flags.string({description: 'persist state to this file (0600, atomic writes); in memory when absent'}),
    seed: Flags.string({description: 'initial data when there is no state file', options: ['demo', 'empty'], default: 'demo'}),
    'latency-ms': Flags.integer({description: 'delay added to every request', default: 0, min: 0, max: 60_000}),
    'fault-rate': Flags.string({description: 'probability 0..1 of injecting a fault into a request', default: '0'}),
    'fault-kinds': Flags.string({description: `comma-separated fault kinds: ${FAULT_KINDS.join(', ')}`, default: '500,503,reset'}),
    'fault-routes': Flags.string({description: 'only inject into requests whose "METHOD /path" matches one of these comma-separated patterns', multiple: false}),
    'fault-seed': Flags.integer({description: 'seed for reproducible faults', default: 1}),
  }
  static override examples = ['<%= config.bin %> emulator --port 8200 --seed demo', 'THALASSA_API_ENDPOINT=http://127.0.0.1:8200 THALASSA_ORGANISATION=demo THALASSA_PERSONAL_ACCESS_TOKEN=tc_pat_demo_operator <%= config.bin %> summary']

  protected async execute(): Promise<Outcome<EmulatorResult>> {
    const f = this.flagsOf as {port: number; host: string; data?: string; seed: 'demo' | 'empty'; 'latency-ms': number; 'fault-rate': string; 'fault-kinds': string; 'fault-routes'?: string; 'fault-seed': number}
    if (!/^(127(\.\d{1,3}){3}|::1|localhost)$/.test(f.host)) throw usageError(`--host ${f.host} is not a loopback address: the emulator holds test keys and has no TLS`)
    const rate = Number(f['fault-rate'])
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw usageError(`--fault-rate must be a number from 0 to 1, got "${f['fault-rate']}"`)
    const kinds = f['fault-kinds'].split(',').map((k) => k.trim()).filter(Boolean)
    const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k))
    if (unknown.length > 0) throw usageError(`unknown --fault-kinds ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`)
    const {startEmulator} = await import('../src/emulator/index.js')
    const emu = await startEmulator({
      host: f.host, port: f.port, seed: f.seed, dataFile: f.data, latencyMs: f['latency-ms'],
      faults: rate > 0 ? {rate, kinds: kinds as FaultKind[], routes: f['fault-routes']?.split(',').filter(Boolean), seed: f['fault-seed']} : undefined,
    })
    const stop = async () => {
      await emu.close()
      process.exit(0)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    const line = `kmsguard emulator listening on ${emu.url} (seed ${f.seed}${f.data ? `, state in ${f.data}` : ', in memory'}) — for rehearsal and tests only, never for production keys`
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({status: 'ok', command: 'emulator', dryRun: false, result: {url: emu.url, port: emu.port}, guards: [], warnings: []})}\n`)
    else this.log(line)
    await new Promise(() => {})
    return {result: {url: emu.url, port: emu.port}}
  }

  protected renderHuman(): void {}
}
