// Many requests under one command-wide signal and deadline must not pile abort listeners onto that signal
// (Node warns past 1,500 and keeps them until GC). A real loopback server, no nock: fetch's own code path.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createApi} from '../../../src/api/index.js'
import {DEMO, startEmulator, type EmulatorHandle} from '../../../src/emulator/index.js'

let emu: EmulatorHandle
beforeAll(async () => {
  emu = await startEmulator({port: 0, seed: 'demo', quiet: true})
})
afterAll(async () => emu?.close())

describe('request signals', () => {
  it('2,000 requests under one cancellation signal and deadline raise no MaxListenersExceededWarning', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on('warning', onWarning)
    try {
      const controller = new AbortController()
      const api = createApi({endpoint: emu.url, organisation: DEMO.org.slug, credentials: {kind: 'pat', token: DEMO.tokens.operator}, userAgent: 't', signal: controller.signal, deadline: Date.now() + 120_000})
      for (let batch = 0; batch < 125; batch++) await Promise.all(Array.from({length: 16}, () => api.kms.summary()))
      await new Promise((r) => setImmediate(r))
      expect(api.transport.requestCount).toBe(2000)
      expect(warnings.filter((w) => w === 'MaxListenersExceededWarning')).toEqual([])
      await api.transport.close()
    } finally {
      process.off('warning', onWarning)
    }
  })
})
