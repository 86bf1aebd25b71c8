import {BaseCommand, type Outcome} from '../src/cli/base.js'
import {KmsGuardError, ExitCode} from '../src/cli/errors.js'
import type {StepResult} from '../src/demo/script.js'

interface DemoResult {
  steps: StepResult[]
  ran: number
  notAvailable: number
}

export default class Demo extends BaseCommand<DemoResult> {
  static override summary = 'A narrated rehearsal of every guarded command against an in-process emulator'
  static override description = 'Starts the emulator on a free loopback port with the demo seed and runs the real commands against it, as a runbook would, in an isolated temporary home (your settings, tcloud contexts and journal are not touched). Nothing leaves this machine.'

  protected async execute(): Promise<Outcome<DemoResult>> {
    const {startEmulator, DEMO} = await import('../src/emulator/index.js')
    const {runDemo} = await import('../src/demo/script.js')
    const {join} = await import('node:path')
    const emu = await startEmulator({port: 0, seed: 'demo', quiet: true})
    const say = this.jsonEnabled() ? (t: string) => process.stderr.write(`${t}\n`) : (t: string) => this.log(t)
    try {
      say(`kmsguard rehearsal against the emulator at ${emu.url} (organisation ${DEMO.org.slug}; operator and approver are two users)`)
      const steps = await runDemo({
        binPath: join(this.config.root, 'bin', 'run.js'),
        url: emu.url,
        org: DEMO.org.slug,
        tokens: {operator: DEMO.tokens.operator, approver: DEMO.tokens.approver},
        hasCommand: (id) => Boolean(this.config.findCommand(id)),
        io: {say, echo: say},
        signal: this.abort.signal,
      })
      const unexpected = steps.filter((s) => s.status === 'unexpected')
      const result = {steps, ran: steps.filter((s) => s.status !== 'not-available').length, notAvailable: steps.filter((s) => s.status === 'not-available').length}
      if (unexpected.length > 0) throw new KmsGuardError('DEMO_FAILED', ExitCode.INTERNAL, `${unexpected.length} rehearsal step(s) did not end as expected: ${unexpected.map((s) => s.title).join('; ')}`, {details: {steps}})
      return {result}
    } finally {
      await emu.close()
    }
  }

  protected renderHuman({result}: Outcome<DemoResult>): void {
    this.log(`\nRehearsal complete: ${result.ran} step(s) ran as expected${result.notAvailable > 0 ? `, ${result.notAvailable} not yet available` : ''}.`)
  }
}
